import VigilConfig
import VigilCore
import XCTest

/// Promotable clones: the choice by promotion score, the owner's promote and demote decisions (after
/// every start, never while a lost node may hold an instance, demote before stop), and the config.
final class PromotionTests: XCTestCase {
    typealias D = OwnerDecision.Decision
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)
    let pg = PlacementUnit(resources: ["pg"], stickiness: 1, clone: CloneSpec(id: "pg-clone", promotable: true))

    func testScoresAndChoice() {
        XCTAssertEqual(Promotion.score("1001"), 1001)
        XCTAssertEqual(Promotion.score("INFINITY"), Promotion.infinity)
        XCTAssertEqual(Promotion.score("-INFINITY"), -Promotion.infinity)
        XCTAssertEqual(Promotion.score("99999999"), Promotion.infinity, "clamped")
        XCTAssertNil(Promotion.score("high"))
        XCTAssertNil(Promotion.score(nil))
        let attrs: [NodeID: [String: String]] = [n1: ["master-pg": "10"], n2: ["master-pg": "10"], n3: ["master-pg": "-1"]]
        XCTAssertEqual(Promotion.choose("pg", candidates: [n1: false, n2: false, n3: false], attributes: attrs, max: 1), [n1],
                       "a tie goes to the lowest id; a negative score is never promoted")
        XCTAssertEqual(Promotion.choose("pg", candidates: [n1: false, n2: true, n3: false], attributes: attrs, max: 1), [n2],
                       "a tie stays where the role is")
        XCTAssertEqual(Promotion.choose("pg", candidates: [n3: false], attributes: attrs, max: 1), [])
        XCTAssertEqual(Promotion.choose("pg", candidates: [n1: false, n2: false], attributes: [n2: ["master-pg": "0"]], max: 2), [n2],
                       "no score: not promotable; 0 is")
    }

    /// Three nodes in view 5.1, every report probed; scores n2 highest.
    func inputs(_ states: [NodeID: ResourceState], scores: [NodeID: String] = [NodeID(1): "5", NodeID(2): "10", NodeID(3): "1"])
        -> OwnerDecision.Inputs {
        var i = OwnerDecision.Inputs(view: View(id: ViewID(epoch: 5, coordinator: n1), members: [n1, n2, n3].map { Member($0, 1) },
                                                quorate: true, installedAt: .zero))
        for n in [n1, n2, n3] {
            i.reports[n] = PeerReport(view: i.view.id, probed: true, entries: ["pg": ResourceEntry(id: "pg", state: states[n] ?? .stopped, failCount: 0)])
        }
        i.fenceable = NodeSet([n1, n2, n3])
        i.units = [pg]
        i.configuredNodes = 3
        i.uptime = .seconds(10)
        i.attributes = scores.mapValues { ["master-pg": $0] }
        return i
    }

    func decide(_ i: OwnerDecision.Inputs) -> [D] { OwnerDecision.make(i)?.decisions ?? [] }

    func testPromoteAfterEveryStartThenTheBestScore() {
        var i = inputs([n1: .running, n2: .running])
        XCTAssertEqual(decide(i), [.start("pg", on: n3)], "no promote while an instance is still to start")
        i.reports[n3]?.entries["pg"]?.state = .starting
        XCTAssertEqual(decide(i), [])
        i.reports[n3]?.entries["pg"]?.state = .running
        XCTAssertEqual(decide(i), [.promote("pg", on: n2)])
        i.unackedPromotes["pg"] = [n2: 7]
        i.attributes[n3] = ["master-pg": "50"]
        XCTAssertEqual(decide(i), [.promote("pg", on: n2)], "an unconfirmed promote holds the role: sent again, none elsewhere")
        i.unackedPromotes = [:]
        i.reports[n2]?.entries["pg"]?.state = .promoting
        XCTAssertEqual(decide(i), [], "nothing while a promote runs")
        i.reports[n2]?.entries["pg"]?.state = .promoted
        XCTAssertEqual(decide(i), [.demote("pg", on: n2)], "n3's score is higher now: demote first")
        i.reports[n2]?.entries["pg"]?.state = .running
        XCTAssertEqual(decide(i), [.promote("pg", on: n3)])
    }

    func testNoPromoteWhileALostNodeMayHoldTheRole() {
        var i = inputs([n1: .running, n2: .promoted, n3: .running])
        XCTAssertEqual(decide(i), [])
        // n2 is lost and pending fencing: its last report still shows the primary.
        i.view = View(id: ViewID(epoch: 6, coordinator: n1), members: [n1, n3].map { Member($0, 1) }, quorate: true, installedAt: .zero)
        for n in [n1, n3] { i.reports[n]?.view = i.view.id }
        i.pending = NodeSet([n2])
        i.fenceable = NodeSet([n1, n3])
        XCTAssertEqual(decide(i), [], "promote only after the fence of the lost primary")
        i.promoteGate = false
        XCTAssertEqual(decide(i), [.promote("pg", on: n1)], "the planted bug")
        i.promoteGate = true
        i.pending = .empty
        XCTAssertEqual(decide(i), [.promote("pg", on: n1)], "fenced: the best standby left")
    }

    func testPromotedInstanceIsDemotedBeforeItStops() {
        var i = inputs([n1: .running, n2: .promoted, n3: .running])
        i.admin.standby = NodeSet([n2])
        XCTAssertEqual(decide(i), [.demote("pg", on: n2)])
        i.reports[n2]?.entries["pg"]?.state = .running
        XCTAssertEqual(decide(i), [.stop("pg", on: n2)])
        i.reports[n2]?.entries["pg"]?.state = .stopped
        XCTAssertEqual(decide(i), [.promote("pg", on: n1)])
        // Failed promoted (OCF 9): demoted, then (failed) stopped and started again.
        i = inputs([n1: .running, n2: .failedPromoted, n3: .running])
        XCTAssertEqual(decide(i), [.demote("pg", on: n2)])
        i.reports[n2]?.entries["pg"]?.state = .failed
        XCTAssertEqual(decide(i), [.stop("pg", on: n2)])
    }

    /// PAF's reference setup: the address with the promoted instance, started after its promote,
    /// stopped after its demote (both orders not symmetrical).
    func testAddressFollowsThePromotedRole() {
        var ip = PlacementUnit(resources: ["ip"], with: "pg")
        ip.withPromoted = true
        var i = inputs([n1: .running, n2: .running, n3: .running])
        i.units = [pg, ip]
        i.orders = [OrderConstraint(first: "pg", then: "ip", symmetrical: false, firstAction: .promote),
                    OrderConstraint(first: "pg", then: "ip", symmetrical: false, firstAction: .demote, thenAction: .stop)]
        for n in [n1, n2, n3] { i.reports[n]?.entries["ip"] = ResourceEntry(id: "ip", state: .stopped, failCount: 0) }
        XCTAssertEqual(decide(i), [.promote("pg", on: n2)], "no address while nothing is promoted")
        i.reports[n2]?.entries["pg"]?.state = .promoting
        XCTAssertEqual(decide(i), [], "nor while the promote runs")
        i.reports[n2]?.entries["pg"]?.state = .promoted
        XCTAssertEqual(decide(i), [.start("ip", on: n2)])
        i.reports[n2]?.entries["ip"]?.state = .running
        i.attributes[n3] = ["master-pg": "50"]
        XCTAssertEqual(decide(i), [.demote("pg", on: n2)], "the address stays through the demote")
        i.reports[n2]?.entries["pg"]?.state = .demoting
        XCTAssertEqual(decide(i), [])
        i.reports[n2]?.entries["pg"]?.state = .running
        XCTAssertEqual(decide(i), [.promote("pg", on: n3), .stop("ip", on: n2)], "then it stops, and n3 is promoted")
    }

    func testConfig() throws {
        func load(_ clone: String) -> Result<ClusterConfig, Diagnostic> {
            ClusterConfig.load(text: ConfigTests.good + """

                [[resource]]
                id = "pg"
                agent = "ocf:pacemaker:Stateful"
                monitor_interval = "5s"
                promoted_monitor_interval = "4s"
                promote_timeout = "30s"
                [[resource]]
                id = "fs"
                agent = "ocf:heartbeat:Dummy"
                group = "g"
                [[resource]]
                id = "app"
                agent = "ocf:heartbeat:Dummy"
                group = "g"
                [[clone]]
                id = "pg-clone"
                """ + clone, file: "v.conf")
        }
        let c = try load("\nof = \"pg\"\npromotable = true").get()
        let vip = """

            [[resource]]
            id = "vip"
            agent = "ocf:heartbeat:IPaddr2"
            with = "pg-clone"
            with_role = "promoted"
            [[order]]
            first = "pg-clone"
            first_action = "promote"
            then = "vip"
            symmetrical = false
            [[order]]
            first = "pg-clone"
            first_action = "demote"
            then = "vip"
            then_action = "stop"
            symmetrical = false
            """
        let paf = try ClusterConfig.load(text: ConfigTests.good + vip + "\n[[resource]]\nid = \"pg\"\nagent = \"ocf:heartbeat:pgsqlms\"\n[[clone]]\nid = \"pg-clone\"\nof = \"pg\"\npromotable = true\nnotify = true",
                                         file: "v.conf").get()
        XCTAssertEqual(paf.placementUnits.first { $0.resources == ["vip"] }?.withPromoted, true)
        XCTAssertEqual(paf.orders.map(\.firstAction), [.promote, .demote])
        XCTAssertEqual(paf.orders.map(\.thenAction), [.start, .stop])
        XCTAssertEqual(paf.clone(of: "pg")?.notify, true)
        XCTAssertEqual(c.clone(of: "pg"), CloneSpec(id: "pg-clone", promotable: true, promotedMax: 1))
        XCTAssertEqual(c.resourcePolicy.promotedMonitorInterval["pg"], .seconds(4))
        XCTAssertEqual(c.resources.first?.promoteTimeout, .seconds(30))
        func error(_ s: String) -> String? { if case .failure(let d) = load(s) { d.message } else { nil } }
        XCTAssertEqual(error("\nof = \"g\"\npromotable = true"), "promotable clone 'pg-clone' of the group 'g'")
        XCTAssertEqual(error("\nof = \"pg\"\npromoted_max = 2"), "'promoted_max' on clone 'pg-clone', which is not promotable")
        XCTAssertTrue(error("\nof = \"pg\"\npromotable = true\npromoted_node_max = 2")?.contains("one instance per node") ?? false)
        XCTAssertTrue(error("\nof = \"pg\"\npromotable = true\npromoted_max = 4")?.contains("out of range") ?? false)
    }
}
