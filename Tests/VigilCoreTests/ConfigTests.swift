import VigilConfig
import VigilCore
import XCTest

final class ConfigTests: XCTestCase {
    static let good = """
        [cluster]
        name = "lab"
        id = 7
        [timing]
        interval = "10ms"
        deadline = "40ms"
        [[link]]
        mode = "multicast"
        group = "239.192.7.1"
        [[link]]
        mode = "unicast"
        port = 5407
        [[node]]
        id = 1
        addresses = ["198.18.0.1", "198.18.1.1"]
        [[node]]
        id = 2
        addresses = ["198.18.0.2", "198.18.1.2"]
        [[node]]
        id = 3
        votes = 2
        addresses = ["198.18.0.3", "198.18.1.3"]  # comment
        """

    func testGoodConfigAndDerivedValues() throws {
        let c = try ClusterConfig.load(text: Self.good, file: "v.conf").get()
        XCTAssertEqual(c.nodes.count, 3)
        XCTAssertEqual(c.timing, Timing(interval: .ms(10), deadline: .ms(40)))
        XCTAssertEqual(c.quorum.expectedVotes, 4)
        XCTAssertEqual(c.links[1].mode, .unicast)
        XCTAssertEqual(c.links[0].port, 5405)
        XCTAssertEqual(c.core.nodes.count, 3)
        let text = c.derivedValues.joined(separator: "\n")
        XCTAssertTrue(text.contains("detection bound"), text)
        XCTAssertTrue(text.contains("100 heartbeats/s"), text)
        XCTAssertTrue(text.contains("quorate at 3 vote(s)"), text)
    }

    func testExampleFileIsValid() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/examples/lab3.conf")
        let c = try ClusterConfig.load(text: String(contentsOf: url, encoding: .utf8), file: url.path).get()
        XCTAssertEqual(c.nodes.map(\.name), ["n1", "n2", "n3"])
    }

    /// Each error names the line and says what to do.
    func testErrorsPointAtTheLine() {
        let cases: [(String, String, Int, String)] = [
            ("interval = \"10ms\"", "interval = \"4ms\"", 5, "below the 5ms floor"),
            ("deadline = \"40ms\"", "deadline = \"15ms\"", 6, "under two intervals"),
            ("group = \"239.192.7.1\"", "group = \"198.18.0.9\"", 9, "not a multicast address"),
            ("mode = \"unicast\"", "mode = \"broadcast\"", 11, "unknown link mode"),
            ("id = 2\n", "id = 1\n", 17, "used twice"),
            ("votes = 2", "votez = 2", 21, "unknown key 'votez'"),
            ("addresses = [\"198.18.0.3\", \"198.18.1.3\"]", "addresses = [\"198.18.0.3\"]", 22, "1 address(es) for 2 link(s)"),
            ("addresses = [\"198.18.0.2\", \"198.18.1.2\"]", "addresses = [\"198.18.0.1\", \"198.18.1.2\"]", 18, "used twice"),
            ("[timing]", "[timing", 4, "unclosed section"),
            ("id = 7", "id = seven", 3, "cannot read the value"),
            ("[[link]]\nmode = \"unicast\"", "[link]\nmode = \"unicast\"", 10, "describes one of several"),
            ("name = \"lab\"", "name = 5", 2, "must be a string"),
        ]
        for (from, to, line, text) in cases {
            let src = Self.good.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(src, Self.good, "case \(to) did not apply")
            guard case .failure(let d) = ClusterConfig.load(text: src, file: "v.conf") else {
                XCTFail("\(to): accepted"); continue
            }
            XCTAssertEqual(d.line, line, "\(to): \(d)")
            XCTAssertTrue(d.description.hasPrefix("v.conf:\(line): error:"), d.description)
            XCTAssertTrue(d.message.contains(text), "\(to): \(d)")
            XCTAssertNotNil(d.fix, "\(to): no fix given")
        }
    }

    func testWarningsAndTwoNode() throws {
        let two = """
            [cluster]
            id = 1
            [quorum]
            two_node = true
            [[link]]
            mode = "unicast"
            [[node]]
            id = 1
            addresses = ["fd00::1"]
            [[node]]
            id = 2
            addresses = ["fd00::2"]
            """
        let c = try ClusterConfig.load(text: two, file: "t.conf").get()
        XCTAssertTrue(c.quorum.twoNode && c.quorum.waitForAll)
        XCTAssertEqual(c.warnings.map(\.line), [5], "one link is a warning")
        XCTAssertEqual(c.nodes[1].addresses[0], IPAddress("fd00:0:0:0:0:0:0:2"))
    }

    func testAddresses() {
        XCTAssertNotNil(IPAddress("198.18.0.1"))
        XCTAssertNil(IPAddress("198.18.0"))
        XCTAssertNil(IPAddress("256.1.1.1"))
        XCTAssertTrue(IPAddress("ff15::1")!.isMulticast)
        XCTAssertNil(IPAddress("1::2::3"))
        XCTAssertEqual(IPAddress("::1")?.description, "0:0:0:0:0:0:0:1")
    }

    static let fencing = good + """

        [fencing]
        action = "reboot"
        random_delay = "1s"
        [[fence_device]]
        name = "ipmi3"
        agent = "fence_ipmilan"
        params = ["ip=198.18.9.103", "username=admin"]
        nodes = ["node3"]
        timeout = "30s"
        [[fence_device]]
        name = "pdu"
        agent = "external/rackpdu"
        host_map = ["node1:4", "node2:5", "node3:6"]
        [[fence_level]]
        node = "node3"
        level = 2
        devices = ["pdu"]
        [[fence_level]]
        node = "node3"
        level = 1
        devices = ["ipmi3"]
        """

    func testFencingConfig() throws {
        let c = try ClusterConfig.load(text: Self.fencing, file: "v.conf").get()
        let f = c.fencing.policy
        XCTAssertTrue(f.enabled)
        XCTAssertEqual(f.action, .reboot)
        XCTAssertEqual(f.randomDelayMax, .seconds(1))
        XCTAssertEqual(f.levels[NodeID(3)], [["ipmi3"], ["pdu"]], "explicit levels, in level order")
        XCTAssertEqual(f.levels[NodeID(1)], [["pdu"]], "default: one level per covering device")
        XCTAssertEqual(c.fencing.device("pdu")?.kind, .external)
        XCTAssertEqual(c.fencing.device("pdu")?.plug(for: NodeID(2), name: "node2"), "5")
        XCTAssertEqual(c.fencing.device("ipmi3")?.kind, .fenceAgent)
        XCTAssertEqual(f.attemptBound, .seconds(35), "longest level (30s) plus slack")
        XCTAssertEqual(c.core.fencing, f)
        XCTAssertTrue(c.derivedValues.contains { $0.contains("node3: level 1: ipmi3, level 2: pdu") }, "\(c.derivedValues)")
    }

    /// `priority_delay` and `priority`: parsed into the core's policies, shown in the derived
    /// values, and warned about when they cannot work.
    func testPriorityDelay() throws {
        let src = Self.fencing.replacingOccurrences(of: "random_delay = \"1s\"", with: "random_delay = \"1s\"\npriority_delay = \"10s\"")
            + "\n[[resource]]\nid = \"db\"\nagent = \"ocf:heartbeat:Dummy\"\npriority = 10\n"
        let c = try ClusterConfig.load(text: src, file: "v.conf").get()
        XCTAssertEqual(c.core.fencing.priorityDelay, .seconds(10))
        XCTAssertEqual(c.core.resources.priority, ["db": 10])
        XCTAssertEqual(c.core.resources.nodePriorities([NodeID(1): ["db": ResourceEntry(id: "db", state: .running, failCount: 0)],
                                                        NodeID(2): ["db": ResourceEntry(id: "db", state: .stopped, failCount: 0)]]),
                       [NodeID(1): 10, NodeID(2): 0])
        XCTAssertTrue(c.derivedValues.contains { $0.contains("plus 10000ms before fencing the node running the highest resource priority") },
                      "\(c.derivedValues)")
        XCTAssertTrue(c.warnings.isEmpty, "\(c.warnings)")
        let weak = try ClusterConfig.load(text: src.replacingOccurrences(of: "priority_delay = \"10s\"", with: "priority_delay = \"1s\"")
            .replacingOccurrences(of: "priority = 10\n", with: ""), file: "v.conf").get()
        XCTAssertEqual(weak.warnings.map(\.message).sorted(), [
            "priority_delay 1000ms is under twice the static and random delays (1000ms)",
            "priority_delay is set but no [[resource]] has a priority: it never applies",
        ], "\(weak.warnings)")
    }

    func testFencingErrorsPointAtTheLine() {
        let cases: [(String, String, String)] = [
            ("action = \"reboot\"", "action = \"on\"", "is not off or reboot"),
            ("params = [\"ip=198.18.9.103\", \"username=admin\"]", "params = [\"ip\"]", "is not name=value"),
            ("params = [\"ip=198.18.9.103\", \"username=admin\"]", "params = [\"plug=3\"]", "set by vigild"),
            ("nodes = [\"node3\"]", "nodes = [\"node9\"]", "unknown node 'node9'"),
            ("host_map = [\"node1:4\", \"node2:5\", \"node3:6\"]", "host_map = [\"node1\"]", "is not NODE:PLUG"),
            ("devices = [\"ipmi3\"]", "devices = [\"nope\"]", "unknown fence device 'nope'"),
            ("level = 1", "level = 2", "defined twice"),
            ("timeout = \"30s\"", "timeout = \"10ms\"", "too short"),
            ("random_delay = \"1s\"", "watchdog_timeout = \"10s\"\nquorum_loss_bound = \"20s\"", "shorter than watchdog_timeout"),
        ]
        assertRefused(Self.fencing, cases)
        // A device that cannot fence the node a level names.
        let src = Self.fencing.replacingOccurrences(of: "nodes = [\"node3\"]", with: "nodes = [\"node1\"]")
        guard case .failure(let d) = ClusterConfig.load(text: src, file: "v.conf") else { return XCTFail("accepted") }
        XCTAssertTrue(d.message.contains("may not fence node3"), d.description)
    }

    func testWatchdogNeedsMoreThanTwoNodes() {
        var src = """
            [cluster]
            id = 1
            [quorum]
            two_node = true
            [fencing]
            watchdog_timeout = "10s"
            [[link]]
            mode = "unicast"
            [[node]]
            id = 1
            addresses = ["198.18.0.1"]
            [[node]]
            id = 2
            addresses = ["198.18.0.2"]
            """
        guard case .failure(let d) = ClusterConfig.load(text: src, file: "v.conf") else { return XCTFail("accepted") }
        XCTAssertEqual(d.line, 6)
        XCTAssertTrue(d.message.contains("cannot decide a two-node split"), d.description)
        src = src.replacingOccurrences(of: "two_node = true", with: "two_node = false")
        XCTAssertNoThrow(try ClusterConfig.load(text: src, file: "v.conf").get())
    }

    /// Issue 6 groundwork: 1+1 (a group with a preference) and N+M (spread) in a few lines each.
    func testResourcesOnePlusOneAndNPlusM() throws {
        let text = Self.good + """

            [[resource]]
            id = "vip"
            agent = "ocf:heartbeat:IPaddr2"
            params = ["ip=198.18.0.100", "cidr_netmask=24"]
            group = "db"
            prefer = ["node1:100"]
            [[resource]]
            id = "pg"
            agent = "ocf:heartbeat:pgsql"
            group = "db"
            [[resource]]
            id = "web1"
            agent = "ocf:heartbeat:nginx"
            spread = "web"
            avoid = ["node1"]
            [[resource]]
            id = "web2"
            agent = "ocf:heartbeat:nginx"
            spread = "web"
            avoid = ["node1"]
            """
        let c = try ClusterConfig.load(text: text, file: "v.conf").get()
        XCTAssertEqual(c.resources.map(\.id), ["vip", "pg", "web1", "web2"])
        XCTAssertEqual(c.placementUnits.map(\.resources), [["vip", "pg"], ["web1"], ["web2"]])
        XCTAssertTrue(c.derivedValues.contains("resources with every node up: vip -> node1, pg -> node1, web1 -> node2, web2 -> node3"),
                      "\(c.derivedValues.last ?? "")")
        let bad: [(String, String, String)] = [
            ("agent = \"ocf:heartbeat:pgsql\"", "agent = \"heartbeat/pgsql\"", "is not ocf:PROVIDER:TYPE"),
            ("avoid = [\"node1\"]\n[[resource]]\nid = \"web2\"", "avoid = [\"nodeX\"]\n[[resource]]\nid = \"web2\"", "unknown node 'nodeX'"),
            ("prefer = [\"node1:100\"]", "prefer = [\"node1\"]", "is not NODE:SCORE"),
            ("id = \"web2\"", "id = \"web1\"", "defined twice"),
            ("spread = \"web\"\navoid = [\"node1\"]\n[[resource]]\nid = \"web2\"", "on_fail = \"fence\"\n[[resource]]\nid = \"web2\"", "fencing is not configured"),
        ]
        for (from, to, msg) in bad {
            let src = text.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(src, text, "case \(to) did not apply")
            guard case .failure(let d) = ClusterConfig.load(text: src, file: "v.conf") else { XCTFail("\(to): accepted"); continue }
            XCTAssertTrue(d.message.contains(msg), "\(to): \(d)")
            XCTAssertTrue(d.line > 26, "points into the resource sections: \(d)")
        }
    }

    /// Colocation (`with`), anti-colocation (`apart_from`) and failure_timeout reach the core.
    func testColocationAndFailureTimeout() throws {
        let text = Self.good + """

            [[resource]]
            id = "db"
            agent = "ocf:heartbeat:Dummy"
            failure_timeout = "60s"
            [[resource]]
            id = "web"
            agent = "ocf:heartbeat:Dummy"
            with = "db"
            [[resource]]
            id = "backup"
            agent = "ocf:heartbeat:Dummy"
            apart_from = ["db"]
            """
        let c = try ClusterConfig.load(text: text, file: "v.conf").get()
        let units = c.resourcePolicy.units
        XCTAssertEqual(units.map(\.with), [nil, "db", nil])
        XCTAssertEqual(units.map(\.apart), [[], [], ["db"]])
        XCTAssertEqual(c.resourcePolicy.failureTimeout, ["db": .seconds(60)])
        let bad: [(String, String, String)] = [
            ("with = \"db\"", "with = \"nope\"", "with names unknown resource 'nope'"),
            ("apart_from = [\"db\"]", "apart_from = [\"backup\"]", "of the same group"),
            ("apart_from = [\"db\"]", "with = \"web\"", "is itself placed 'with'"),
        ]
        for (from, to, msg) in bad {
            let src = text.replacingOccurrences(of: from, with: to)
            guard case .failure(let d) = ClusterConfig.load(text: src, file: "v.conf") else { XCTFail("\(to): accepted"); continue }
            XCTAssertTrue(d.message.contains(msg), "\(to): \(d)")
            XCTAssertTrue(d.line > 26, "points at the line: \(d)")
        }
    }
}
