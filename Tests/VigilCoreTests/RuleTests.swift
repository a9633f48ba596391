import VigilConfig
import VigilCore
import XCTest

/// Location rules and node health: parsing (with the errors a user sees), evaluation as Pacemaker
/// does it, and the scores they give placement.
final class RuleTests: XCTestCase {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    func rule(_ s: String) -> LocationRule { try! RuleParser.parse(s).get() }
    func error(_ s: String) -> String { if case .failure(let e) = RuleParser.parse(s) { return e.description } else { return "" } }

    func testParse() {
        XCTAssertEqual(rule("-INFINITY: not_defined pingd or pingd lt 1"),
                       LocationRule(score: .score(PlacementUnit.never), expr: .or(.notDefined("pingd"), .compare("pingd", .lt, "1", nil))))
        XCTAssertEqual(rule("pingd: defined pingd").score, .attribute("pingd"))
        XCTAssertEqual(rule("100: a eq 1 or b eq 2 and c eq 3").expr,
                       .or(.compare("a", .eq, "1", nil), .and(.compare("b", .eq, "2", nil), .compare("c", .eq, "3", nil))), "and binds tighter")
        XCTAssertEqual(rule("inf: (a eq 1 or b eq 2) and kernel version:gte 5.10").expr,
                       .and(.or(.compare("a", .eq, "1", nil), .compare("b", .eq, "2", nil)), .compare("kernel", .gte, "5.10", .version)))
        XCTAssertEqual(rule("INFINITY: #uname eq n1").score, .score(Rules.infinity))
        XCTAssertTrue(error("not_defined pingd").contains("'SCORE: EXPRESSION'"))
        XCTAssertTrue(error("-inf: pingd below 1").contains("'below' after 'pingd' is not an operator"), error("-inf: pingd below 1"))
        XCTAssertTrue(error("-inf: pingd lt").contains("ends too early"))
        XCTAssertTrue(error("-inf: (pingd lt 1").contains("ends too early"))
        XCTAssertTrue(error("-inf: pingd float:lt 1").contains("unknown type 'float'"))
        XCTAssertTrue(error("-inf: pingd integer:lt x").contains("'x' is not an integer"))
        XCTAssertTrue(error("-inf: defined and").contains("an attribute name is expected"))
        XCTAssertTrue(error("a b: defined x").contains("score 'a b'"))
    }

    func testEvaluate() {
        let a = ["pingd": "1000", "site": "east", "kernel": "5.10.0", "n": "9"]
        XCTAssertTrue(rule("1: defined pingd").expr.holds(a))
        XCTAssertFalse(rule("1: not_defined pingd or pingd lt 1").expr.holds(a))
        XCTAssertTrue(rule("1: not_defined pingd or pingd lt 1").expr.holds([:]))
        XCTAssertFalse(rule("1: missing lt 1").expr.holds(a), "a comparison with an absent attribute is false")
        XCTAssertTrue(rule("1: n lt 10").expr.holds(a), "two numbers compare as numbers")
        XCTAssertFalse(rule("1: n string:lt 10").expr.holds(a), "as strings, \"9\" > \"10\"")
        XCTAssertTrue(rule("1: kernel version:gt 5.9").expr.holds(a))
        XCTAssertTrue(rule("1: kernel version:eq 5.10").expr.holds(a), "5.10 = 5.10.0")
        XCTAssertTrue(rule("1: site ne west and site eq east").expr.holds(a))
    }

    func testScoresForPlacement() {
        var p = ResourcePolicy()
        p.nodeNames = [n1: "n1", n2: "n2", n3: "n3"]
        let u = PlacementUnit(resources: ["vip"], location: [n1: 50],
                              rules: [rule("-INFINITY: not_defined pingd or pingd lt 1"), rule("pingd: defined pingd"), rule("7: #uname eq n3")])
        let attrs: [NodeID: [String: String]] = [n1: ["pingd": "0"], n2: ["pingd": "2000"], n3: ["pingd": "1000"]]
        let out = Rules.apply([u], attributes: attrs, nodes: NodeSet([n1, n2, n3]), policy: p)[0].location
        XCTAssertEqual(out[n1], PlacementUnit.never, "pingd lt 1: never, whatever else")
        XCTAssertEqual(out[n2], 2000)
        XCTAssertEqual(out[n3], 1007)
        let placed = Placer.place(PlacementInput(units: [Rules.apply([u], attributes: attrs, nodes: NodeSet([n1, n2, n3]), policy: p)[0]],
                                                 members: NodeSet([n1, n2, n3]), quorate: true))
        XCTAssertEqual(placed["vip"], .on(n2))

        p.health = .migrateOnRed
        let healthy = Rules.apply([PlacementUnit(resources: ["db"])], attributes: [n1: ["#health-disk": "red"], n2: ["#health-cpu": "yellow"]],
                                  nodes: NodeSet([n1, n2, n3]), policy: p)[0].location
        XCTAssertEqual(healthy[n1], PlacementUnit.never)
        XCTAssertNil(healthy[n2], "yellow is fine for migrate-on-red")
        p.health = .onlyGreen
        XCTAssertEqual(Rules.apply([PlacementUnit(resources: ["db"])], attributes: [n2: ["#health-cpu": "yellow"]],
                                   nodes: NodeSet([n1, n2]), policy: p)[0].location[n2], PlacementUnit.never)
        p.health = .progressive(red: -500, yellow: -10, green: 5)
        XCTAssertEqual(Rules.apply([PlacementUnit(resources: ["db"])], attributes: [n2: ["#health-cpu": "yellow", "#health-disk": "green", "#health-x": "-3"]],
                                   nodes: NodeSet([n2]), policy: p)[0].location[n2], -8)
    }

    func testConfigErrorsNameFileAndLine() {
        let text = ConfigTests.good + """

            [[resource]]
            id = "vip"
            agent = "ocf:heartbeat:IPaddr2"
            rules = ["-INFINITY: pingd lesser 1"]
            """
        guard case .failure(let d) = ClusterConfig.load(text: text, file: "v.conf") else { return XCTFail("accepted") }
        XCTAssertEqual(d.line, 26)
        XCTAssertTrue(d.message.contains("rule '-INFINITY: pingd lesser 1': 'lesser' after 'pingd' is not an operator"), d.message)
        let health = ConfigTests.good.replacingOccurrences(of: "id = 7", with: "id = 7\nnode_health_strategy = \"green-only\"")
        guard case .failure(let h) = ClusterConfig.load(text: health, file: "v.conf") else { return XCTFail("accepted") }
        XCTAssertEqual(h.line, 4)
        XCTAssertTrue(h.message.contains("node_health_strategy 'green-only' is unknown"), h.message)
        let ok = ConfigTests.good.replacingOccurrences(of: "id = 7", with: "id = 7\nnode_health_strategy = \"progressive\"\nnode_health_yellow = -50")
        XCTAssertEqual(try ClusterConfig.load(text: ok, file: "v.conf").get().health, .progressive(red: PlacementUnit.never, yellow: -50, green: 0))
    }
}
