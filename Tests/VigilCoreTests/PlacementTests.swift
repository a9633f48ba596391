import VigilCore
import XCTest

/// The pure placement function (issue 6 groundwork): 1+1, N+M, fencing gate, stickiness, groups.
final class PlacementTests: XCTestCase {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3), n4 = NodeID(4), n5 = NodeID(5)

    func place(_ units: [PlacementUnit], members: [NodeID], quorate: Bool = true,
               _ tweak: (inout PlacementInput) -> Void = { _ in }) -> [String: Placement] {
        var i = PlacementInput(units: units, members: NodeSet(members), quorate: quorate)
        tweak(&i)
        return Placer.place(i)
    }

    /// 1+1: the database prefers n1; n2 is standby. It fails over when n1 leaves cleanly, stays on
    /// n2 when n1 returns (stickiness beats the preference), and goes back if stickiness is 0.
    func testActiveStandby() {
        let db = PlacementUnit(resources: ["db"], location: [n1: 50])
        XCTAssertEqual(place([db], members: [n1, n2])["db"], .on(n1))
        XCTAssertEqual(place([db], members: [n2]) { $0.current = ["db": self.n1] }["db"], .on(n2))
        XCTAssertEqual(place([db], members: [n1, n2]) { $0.current = ["db": self.n2] }["db"], .on(n2), "sticky")
        var loose = db
        loose.stickiness = 0
        XCTAssertEqual(place([loose], members: [n1, n2]) { $0.current = ["db": self.n2] }["db"], .on(n1))
    }

    /// A node lost uncleanly: its resources are frozen there until it is fenced, then they move.
    func testNothingMovesBeforeFencing() {
        let db = PlacementUnit(resources: ["db"])
        let before = place([db], members: [n2, n3]) { $0.current = ["db": self.n1]; $0.unclean = NodeSet([self.n1]) }
        XCTAssertEqual(before["db"], .frozen(on: n1))
        let after = place([db], members: [n2, n3]) { $0.current = ["db": self.n1] }
        XCTAssertEqual(after["db"], .on(n2))
    }

    /// N+M: three services spread over five nodes, at most one per node; each node loss keeps all
    /// three running while three nodes live, and nothing that runs is moved needlessly.
    func testNPlusMKeepsEveryServiceWhileNNodesLive() {
        let units = ["a", "b", "c"].map { PlacementUnit(resources: [$0], spread: "svc") }
        var current: [String: NodeID] = [:]
        var alive = [n1, n2, n3, n4, n5]
        for lost in [n1, n2] {
            let p = place(units, members: alive) { $0.current = current }
            var used: Set<NodeID> = []
            for u in ["a", "b", "c"] {
                guard case .on(let n)? = p[u] else { return XCTFail("\(u) not placed: \(String(describing: p[u]))") }
                XCTAssertTrue(used.insert(n).inserted, "two services on \(n)")
                if let was = current[u], alive.contains(was) { XCTAssertEqual(n, was, "\(u) moved needlessly") }
                current[u] = n
            }
            alive.removeAll { $0 == lost }
        }
        let three = place(units, members: [n3, n4, n5]) { $0.current = current }
        XCTAssertEqual(Set(three.values.compactMap { if case .on(let n) = $0 { return n }; return nil }).count, 3)
        let two = place(units, members: [n4, n5]) { $0.current = current }
        XCTAssertEqual(two.values.filter { if case .stopped = $0 { return true }; return false }.count, 1, "N+M with fewer than N nodes: one stops")
    }

    func testNeverHereFailCountsStandbyGroupAndQuorum() {
        let web = PlacementUnit(resources: ["ip", "web"], location: [n1: PlacementUnit.never], migrationThreshold: 2)
        XCTAssertEqual(place([web], members: [n1, n2, n3])["ip"], .on(n2))
        XCTAssertEqual(place([web], members: [n1, n2, n3])["web"], .on(n2), "a group stays together")
        let failed = place([web], members: [n1, n2, n3]) { $0.current = ["ip": self.n2, "web": self.n2]; $0.failCounts = ["web": [self.n2: 2]] }
        XCTAssertEqual(failed["web"], .on(n3), "migration threshold reached on n2")
        XCTAssertEqual(place([web], members: [n1, n2, n3]) { $0.standby = NodeSet([self.n2]) }["web"], .on(n3))
        XCTAssertEqual(place([web], members: [n1])["web"], .stopped(reason: "no eligible node"))
        XCTAssertEqual(place([web], members: [n2, n3], quorate: false)["web"], .stopped(reason: "no quorum"))
    }

    func testSpreadLoadAndTiesAreDeterministic() {
        let units = (1...4).map { PlacementUnit(resources: ["r\($0)"]) }
        let p = place(units, members: [n1, n2])
        XCTAssertEqual(p["r1"], .on(n1))
        XCTAssertEqual(p["r2"], .on(n2), "least loaded")
        XCTAssertEqual(p["r3"], .on(n1))
        XCTAssertEqual(p, place(units, members: [n2, n1]), "same input, same answer")
    }

    /// Colocation: "web" runs where "ip" runs, follows it when it moves, and stops when it has no
    /// place. Anti-colocation: "backup" never shares a node with "db", whichever is placed first.
    func testColocationAndAntiColocation() {
        let ip = PlacementUnit(resources: ["ip"], location: [n2: 10])
        let web = PlacementUnit(resources: ["web"], location: [n1: 1000], with: "ip")
        XCTAssertEqual(place([web, ip], members: [n1, n2, n3])["web"], .on(n2), "with beats web's own preference")
        XCTAssertEqual(place([web, ip], members: [n1, n3]) { $0.current = ["ip": self.n2, "web": self.n2] }["web"],
                       place([web, ip], members: [n1, n3]) { $0.current = ["ip": self.n2, "web": self.n2] }["ip"], "follows ip")
        var banned = web
        banned.location[n2] = PlacementUnit.never
        if case .stopped = place([banned, ip], members: [n1, n2, n3])["web"]! {} else { XCTFail("web may not run on ip's node") }
        let frozenIP = place([web, ip], members: [n1, n3]) { $0.current = ["ip": self.n2]; $0.unclean = NodeSet([self.n2]) }
        if case .stopped = frozenIP["web"]! {} else { XCTFail("web must wait while ip is frozen: \(frozenIP)") }

        let db = PlacementUnit(resources: ["db"], location: [n1: 100])
        let backup = PlacementUnit(resources: ["backup"], location: [n1: 500], apart: ["db"])
        for units in [[db, backup], [backup, db]] {
            let p = place(units, members: [n1, n2])
            XCTAssertNotEqual(p["db"], p["backup"], "\(units.map(\.resources)): \(p)")
        }
        // Declared on db's side instead: the same.
        let db2 = PlacementUnit(resources: ["db"], apart: ["backup"])
        let backup2 = PlacementUnit(resources: ["backup"], location: [n1: 500])
        let p = place([backup2, db2], members: [n1, n2])
        XCTAssertEqual(p["backup"], .on(n1))
        XCTAssertEqual(p["db"], .on(n2))
        if case .stopped = place([backup2, db2], members: [n1])["db"]! {} else { XCTFail("one node: db has no place apart from backup") }
    }
}
