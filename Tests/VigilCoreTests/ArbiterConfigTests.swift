import VigilConfig
import VigilCore
import XCTest

/// `[arbiter]`: parsed into the core's quorum and arbiter policies, shown in the derived values,
/// and checked (TTL against the watchdog and the renewals, TLS files, two_node) with file:line.
final class ArbiterConfigTests: XCTestCase {
    static let twoNodes = """
        [cluster]
        name = "pair"
        id = 9
        [[link]]
        mode = "unicast"
        [[link]]
        mode = "unicast"
        port = 5407
        [[node]]
        id = 1
        addresses = ["198.18.0.1", "198.18.1.1"]
        [[node]]
        id = 2
        addresses = ["198.18.0.2", "198.18.1.2"]
        [[fence_device]]
        name = "power"
        agent = "fence_dummy"
        host_map = ["node1:1", "node2:2"]
        [arbiter]
        endpoints = ["http://198.18.5.201:2379", "https://198.18.5.202:2379"]
        ttl = "10s"
        ca_file = "/etc/vigil/etcd-ca.pem"
        heuristics = ["/usr/bin/ping", "-c1", "198.18.0.254"]
        """

    func testArbiterMakesTwoNodesAMajorityOfThree() throws {
        let c = try ClusterConfig.load(text: Self.twoNodes, file: "v.conf").get()
        let a = try XCTUnwrap(c.arbiter)
        XCTAssertEqual(a.voteKey, "/vigil/pair/vote")
        XCTAssertEqual(a.policy.ttl, .seconds(10))
        XCTAssertEqual(a.policy.renewEvery, .seconds(2), "default: a fifth of the TTL")
        XCTAssertTrue(a.policy.heuristics)
        XCTAssertEqual(c.core.arbiter, a.policy)
        XCTAssertFalse(c.quorum.twoNode, "the arbiter decides two-node splits")
        XCTAssertEqual(c.core.quorum.arbiterVotes, 1)
        XCTAssertTrue(c.core.quorum.isQuorate(NodeSet([NodeID(1)]), allSeenTogether: true, arbiterVote: true))
        XCTAssertFalse(c.core.quorum.isQuorate(NodeSet([NodeID(1)]), allSeenTogether: true))
        XCTAssertTrue(c.core.quorum.isQuorate(NodeSet([NodeID(1), NodeID(2)]), allSeenTogether: true), "both nodes: no vote needed")
        XCTAssertTrue(c.warnings.isEmpty, "\(c.warnings)")
        let text = c.derivedValues.joined(separator: "\n")
        XCTAssertTrue(text.contains("2 node vote(s) + 1 arbiter vote expected, quorate at 2"), text)
        XCTAssertTrue(text.contains("after each renewal the vote counts for"), text)
    }

    func testErrorsPointAtTheLine() {
        let cases: [(String, String, String)] = [
            ("ttl = \"10s\"", "ttl = \"1500ms\"", "not whole seconds"),
            ("ttl = \"10s\"", "ttl = \"3s\"\nrenew = \"1s\"", "under three renewals"),
            ("endpoints = [\"http://198.18.5.201:2379\", \"https://198.18.5.202:2379\"]", "endpoints = [\"198.18.5.201:2379\"]", "not an http://"),
            ("ca_file = \"/etc/vigil/etcd-ca.pem\"", "cert_file = \"/etc/vigil/n.pem\"", "cert_file and key_file go together"),
            ("heuristics = [\"/usr/bin/ping\", \"-c1\", \"198.18.0.254\"]", "heuristics = [\"ping\"]", "absolute path"),
            ("[arbiter]", "[quorum]\ntwo_node = true\n[arbiter]", "with two_node = true"),
        ]
        // The checks of the whole section (ttl against renew, two_node) point at [arbiter].
        assertRefused(Self.twoNodes, cases, anyLine: true)
    }

    /// With the arbiter, a two-node cluster may self-fence by watchdog (both halves cannot stay
    /// quorate), if the lease outlasts the watchdog's margin.
    func testWatchdogWithTheArbiter() throws {
        let wd = Self.twoNodes.replacingOccurrences(of: "[arbiter]", with: "[fencing]\nwatchdog_timeout = \"5s\"\n[arbiter]")
            .replacingOccurrences(of: "ttl = \"10s\"", with: "ttl = \"20s\"")
        let c = try ClusterConfig.load(text: wd, file: "v.conf").get()
        XCTAssertEqual(c.fencing.policy.watchdog?.timeout, .seconds(5))
        let short = wd.replacingOccurrences(of: "ttl = \"20s\"", with: "ttl = \"10s\"")
        guard case .failure(let d) = ClusterConfig.load(text: short, file: "v.conf") else { return XCTFail("accepted") }
        XCTAssertTrue(d.message.contains("less the watchdog's 5000ms"), "\(d)")
    }
}

extension ArbiterConfigTests {
    static let sites = twoNodes.replacingOccurrences(of: "ttl = \"10s\"", with: "ttl = \"30s\"\nvote = false") + """

        [[resource]]
        id = "fs"
        agent = "ocf:heartbeat:Dummy"
        group = "db"
        stop_timeout = "4s"
        [[resource]]
        id = "ip"
        agent = "ocf:heartbeat:Dummy"
        group = "db"
        stop_timeout = "6s"
        [[ticket]]
        name = "site-db"
        resources = ["fs"]
        loss_policy = "fence"
        """

    /// `[[ticket]]` binds whole groups; its stop margin defaults to the longest stop timeout;
    /// `vote = false` uses etcd for tickets only (two_node then applies as usual).
    func testTickets() throws {
        let c = try ClusterConfig.load(text: Self.sites, file: "v.conf").get()
        let t = try XCTUnwrap(c.core.tickets.first)
        XCTAssertEqual(t.name, "site-db")
        XCTAssertEqual(t.resources, ["fs", "ip"], "a group member binds its group")
        XCTAssertEqual(t.loss, .fence)
        XCTAssertEqual(t.stopMargin, .seconds(6), "ip's stop_timeout is the longest")
        XCTAssertFalse(t.autoGrant)
        XCTAssertNil(c.core.arbiter, "vote = false: no external vote")
        XCTAssertEqual(c.core.quorum.arbiterVotes, 0)
        XCTAssertTrue(c.quorum.twoNode)
        XCTAssertEqual(c.core.ticketLease?.ttl, .seconds(30))
        XCTAssertEqual(c.arbiter?.ticketKey("site-db"), "/vigil/tickets/site-db")
        XCTAssertTrue(c.derivedValues.contains { $0.hasPrefix("ticket site-db: key /vigil/tickets/site-db, binds fs, ip; on loss: fence") }, "\(c.derivedValues)")
        assertRefused(Self.sites, [
            ("loss_policy = \"fence\"", "loss_policy = \"explode\"", "is unknown"),
            ("resources = [\"fs\"]", "resources = [\"web\"]", "unknown resource 'web'"),
            ("loss_policy = \"fence\"", "stop_margin = \"12s\"", "under three renewals"),
        ])
    }
}
