import VigilCore
import XCTest

/// The owner's decision as a pure function, one row per race the commit log cites, and the two
/// acceptance rules for reports and commands beside it.
final class OwnerDecisionTests: XCTestCase {
    typealias D = OwnerDecision.Decision
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)
    let v5 = ViewID(epoch: 5, coordinator: NodeID(1))

    /// Three nodes in view 5.1, every report probed and made in that view; `r` stopped everywhere.
    func inputs(units: [PlacementUnit] = [PlacementUnit(resources: ["r"])],
                _ states: [NodeID: [String: ResourceState]] = [:]) -> OwnerDecision.Inputs {
        let members = [n1, n2, n3].map { Member($0, 1) }
        var i = OwnerDecision.Inputs(view: View(id: v5, members: members, quorate: true, installedAt: .zero))
        let ids = units.flatMap(\.resources)
        for n in [n1, n2, n3] {
            var entries: [String: ResourceEntry] = [:]
            for rid in ids { entries[rid] = ResourceEntry(id: rid, state: states[n]?[rid] ?? .stopped, failCount: 0) }
            i.reports[n] = PeerReport(view: v5, probed: true, entries: entries)
        }
        for (n, s) in states { for (rid, st) in s where st.mayBeActive { i.lastKnown[rid] = n } }
        i.fenceable = NodeSet([n1, n2, n3])
        i.units = units
        i.configuredNodes = 3
        return i
    }

    func decide(_ i: OwnerDecision.Inputs) -> [D]? { OwnerDecision.make(i)?.decisions }

    func testStartsWhereThePlacementSays() {
        XCTAssertEqual(decide(inputs()), [.start("r", on: n1)])
    }

    /// Seed 258: a member's report made in an older view may miss a start the previous owner got
    /// through just before the merge: no decision until every member reported in this view.
    func testWaitsForReportsOfThisView() {
        var i = inputs()
        i.reports[n3]?.view = ViewID(epoch: 4, coordinator: n3)
        XCTAssertNil(decide(i))
        i.reports[n3]?.view = v5
        i.reports[n3]?.probed = false
        XCTAssertNil(decide(i), "not probed yet")
    }

    /// Start-up: with two of three nodes and nothing running, wait for the third (up to 2 s);
    /// once something runs, never wait (a restarted owner must not hold back a failover).
    func testStartupWaitOnlyWhileNothingRuns() {
        var i = inputs()
        i.view.members.removeLast()
        i.reports[n3] = nil
        i.uptime = .ms(500)
        XCTAssertNil(decide(i))
        i.uptime = OwnerDecision.placementStartupWait
        XCTAssertEqual(decide(i), [.start("r", on: n1)])
        i.uptime = .ms(500)
        i.reports[n2]?.entries["r"]?.state = .running
        i.lastKnown["r"] = n2
        XCTAssertEqual(decide(i), [])
    }

    /// Seed 3: a start sent to n2 and not yet seen obeyed counts as possibly active there. The
    /// placement sticks to n2 (the start is only repeated, and deduplicated when sent); when n3
    /// outweighs stickiness, the owner stops it on n2 first and does not start it on n3.
    func testUnconfirmedStartCountsAsActive() {
        var i = inputs()
        i.unackedStarts = ["r": [n2: 7]]
        i.lastKnown = ["r": n2]
        XCTAssertEqual(decide(i), [.start("r", on: n2)], "n2's report predates the start: not a second node")
        i.units = [PlacementUnit(resources: ["r"], location: [NodeID(3): 500])]
        XCTAssertEqual(decide(i), [.stop("r", on: n2)])
        // Once n2's report shows it obeyed (unacked cleared) and stopped, n3 gets it.
        i.unackedStarts = [:]
        i.lastKnown = [:]
        XCTAssertEqual(decide(i), [.start("r", on: n3)])
    }

    /// Seed 64: the owner's own report shows the start it just commanded itself ("starting"):
    /// the next decision, made at once, neither starts it again nor elsewhere.
    func testOwnReportShowsItsOwnStart() {
        XCTAssertEqual(decide(inputs(["r": .starting].asStates(n1))), [])
    }

    /// Seed 171: decisions are made from the newest report of each incarnation only; a late copy
    /// (same incarnation, older version) or a report of an older incarnation is not news.
    func testLateReportCopiesAreIgnored() {
        let last = ReportVersion(incarnation: 2, version: 10)
        XCTAssertTrue(ReportVersion(incarnation: 2, version: 11).isNewer(than: last))
        XCTAssertFalse(ReportVersion(incarnation: 2, version: 10).isNewer(than: last), "the copy from the other link")
        XCTAssertFalse(ReportVersion(incarnation: 2, version: 9).isNewer(than: last), "a late copy")
        XCTAssertFalse(ReportVersion(incarnation: 1, version: 99).isNewer(than: last), "an older incarnation")
        XCTAssertTrue(ReportVersion(incarnation: 3, version: 1).isNewer(than: last), "restarted: counts start again")
    }

    /// Seed 221: commands are deduplicated per resource and per sender: a second owner in the
    /// same view (a pending node was fenced) starts its own sequence, which must not be taken for
    /// a repeat of the first owner's.
    func testCommandDedupePerSender() {
        let obeyed = CommandAck(view: v5, from: n1, seq: 8)
        XCTAssertTrue(obeyed.covers(CommandAck(view: v5, from: n1, seq: 8)), "the copy from the other link")
        XCTAssertTrue(obeyed.covers(CommandAck(view: v5, from: n1, seq: 7)), "an older command arriving late")
        XCTAssertFalse(obeyed.covers(CommandAck(view: v5, from: n1, seq: 9)))
        XCTAssertFalse(obeyed.covers(CommandAck(view: v5, from: n2, seq: 1)), "another owner of the same view")
        XCTAssertFalse(obeyed.covers(CommandAck(view: ViewID(epoch: 6, coordinator: n1), from: n1, seq: 1)))
    }

    /// The group-order bug: a group [fs, db, ip] on n1 moving away (n1 in standby) stops one
    /// member at a time in reverse, and starts on n2 only once all are stopped, in order.
    func testGroupMovesOneMemberAtATime() {
        let g = [PlacementUnit(resources: ["fs", "db", "ip"])]
        var i = inputs(units: g, ["fs": .running, "db": .running, "ip": .running].asStates(n1))
        i.admin.standby = NodeSet([n1])
        XCTAssertEqual(decide(i), [.stop("ip", on: n1)])
        i.reports[n1]?.entries["ip"]?.state = .stopping
        XCTAssertEqual(decide(i), [.stop("ip", on: n1)], "repeated (deduplicated when sent), db not yet")
        i.reports[n1]?.entries["ip"]?.state = .stopped
        XCTAssertEqual(decide(i), [.stop("db", on: n1)])
        i.reports[n1]?.entries["db"]?.state = .stopped
        XCTAssertEqual(decide(i), [.stop("fs", on: n1)])
        i.reports[n1]?.entries["fs"]?.state = .stopped
        i.lastKnown = [:]
        XCTAssertEqual(decide(i), [.start("fs", on: n2)])
        i.reports[n2]?.entries["fs"]?.state = .running
        XCTAssertEqual(decide(i), [.start("db", on: n2)])
    }

    /// A failed middle member takes the later ones with it (ip, then db), then the group starts
    /// again in order on the same node.
    func testFailedMemberStopsLaterMembersFirst() {
        let g = [PlacementUnit(resources: ["fs", "db", "ip"])]
        let i = inputs(units: g, ["fs": .running, "db": .failed, "ip": .running].asStates(n1))
        XCTAssertEqual(decide(i), [.stop("ip", on: n1)])
    }

    /// A stop that failed escalates its node to fencing; everything of it is frozen meanwhile.
    func testFailedStopEscalates() {
        let i = inputs(["r": .stopFailed].asStates(n2))
        XCTAssertEqual(decide(i), [.escalate("r", on: n2)])
    }

    /// A lost node's resource stays frozen until the node is fenced, then is placed elsewhere.
    func testFrozenUntilFenced() {
        var i = inputs()
        i.view.members = [n1, n2].map { Member($0, 1) }
        i.reports[n3] = nil
        i.lastKnown = ["r": n3]
        i.pending = NodeSet([n3])
        XCTAssertEqual(OwnerDecision.make(i)?.decisions, [])
        i.pending = .empty
        let v = OwnerDecision.make(i)
        XCTAssertEqual(v?.forget, ["r"])
        XCTAssertEqual(v?.decisions, [.start("r", on: n1)])
    }

    /// on_fail = block leaves a failed resource alone; on_fail = fence fences its node.
    func testOnFailBlockAndFence() {
        var i = inputs(["r": .failed].asStates(n1))
        i.onFail = ["r": .block]
        XCTAssertEqual(decide(i), [])
        i.onFail = ["r": .fence]
        XCTAssertEqual(decide(i), [.fence(n1)])
    }

    /// Maintenance: anything possibly active on a node in maintenance is left alone.
    func testMaintenanceLeavesItAlone() {
        var i = inputs(["r": .running].asStates(n2))
        i.admin.maintenance = NodeSet([n2])
        i.admin.standby = NodeSet([n2])
        XCTAssertEqual(decide(i), [])
    }
}

private extension Dictionary where Key == String, Value == ResourceState {
    func asStates(_ n: NodeID) -> [NodeID: [String: ResourceState]] { [n: self] }
}
