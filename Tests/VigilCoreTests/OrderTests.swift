import VigilConfig
import VigilCore
import XCTest

/// `[[order]]` and advisory colocation in the config: what they become, and the errors at file:line.
final class OrderTests: XCTestCase {
    func load(_ extra: String) -> Result<ClusterConfig, Diagnostic> {
        ClusterConfig.load(text: ConfigTests.good + """

            [[resource]]
            id = "ip"
            agent = "ocf:heartbeat:IPaddr2"
            group = "g"
            [[resource]]
            id = "db"
            agent = "ocf:heartbeat:pgsql"
            group = "g"
            [[resource]]
            id = "web"
            agent = "ocf:heartbeat:apache"
            colocation = ["db:300"]
            [[resource]]
            id = "cache"
            agent = "ocf:heartbeat:Dummy"
            """ + extra, file: "v.conf")
    }

    func testOrdersBetweenUnits() throws {
        let c = try load("""

            [[order]]
            first = "g"
            then = "web"
            [[order]]
            first = "web"
            then = "cache"
            kind = "optional"
            symmetrical = false
            """).get()
        XCTAssertEqual(c.orders, [OrderConstraint(first: "ip", then: "web"),
                                  OrderConstraint(first: "web", then: "cache", mandatory: false, symmetrical: false)],
                       "a group is ordered by its leading resource")
        XCTAssertEqual(c.resourcePolicy.orders.count, 2)
        XCTAssertEqual(c.placementUnits.first { $0.resources == ["web"] }?.near, [PlacementUnit.Near(resource: "db", score: 300)])
    }

    func testOrderErrors() {
        func error(_ extra: String) -> Diagnostic? { if case .failure(let d) = load(extra) { d } else { nil } }
        let cycle = error("""

            [[order]]
            first = "g"
            then = "web"
            [[order]]
            first = "web"
            then = "cache"
            [[order]]
            first = "cache"
            then = "db"
            """)
        XCTAssertEqual(cycle?.line, 44)
        XCTAssertEqual(cycle?.message, "order cycle: ip -> web -> cache -> ip")
        XCTAssertTrue(error("\n[[order]]\nfirst = \"nosuch\"\nthen = \"web\"")?.message.contains("order first 'nosuch' is no resource, group or clone") ?? false)
        XCTAssertTrue(error("\n[[order]]\nfirst = \"db\"\nthen = \"ip\"")?.message.contains("after itself") ?? false, "two members of one group")
        XCTAssertTrue(error("\n[[order]]\nfirst = \"g\"\nthen = \"web\"\nkind = \"serialize\"")?.message.contains("order kind 'serialize' is unknown") ?? false)
        let near = ClusterConfig.load(text: ConfigTests.good + "\n[[resource]]\nid = \"a\"\nagent = \"ocf:heartbeat:Dummy\"\ncolocation = [\"b\"]", file: "v.conf")
        if case .failure(let d) = near { XCTAssertTrue(d.message.contains("colocation entry 'b' is not RESOURCE:SCORE"), d.message) } else { XCTFail("accepted") }
    }

    /// Advisory colocation weighs with location and stickiness: +300 with db beats a preference of 100
    /// elsewhere, and loses to a stronger one.
    func testAdvisoryColocationInPlacement() {
        let n1 = NodeID(1), n2 = NodeID(2)
        func place(_ pref: Int) -> Placement? {
            let units = [PlacementUnit(resources: ["db"], location: [n1: 10]),
                         PlacementUnit(resources: ["web"], location: [n2: pref], near: [.init(resource: "db", score: 300)])]
            return Placer.place(PlacementInput(units: units, members: NodeSet([n1, n2]), quorate: true))["web"]
        }
        XCTAssertEqual(place(100), .on(n1))
        XCTAssertEqual(place(400), .on(n2))
    }
}
