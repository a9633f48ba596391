import VigilCore
import VigilSim
import XCTest

/// The external vote (an etcd lease) over the real core in simulation: the lease server has its
/// own clock, nodes' clocks run apart within the bound, nodes and the server pause, links to the
/// server are cut. Never two partitions quorate at once; a planted bug (counting the lease from
/// the answer's arrival, without the clock-rate and watchdog margins) is found.
final class ArbiterSimTests: XCTestCase {
    let n1 = NodeID(1), n2 = NodeID(2)

    private func check(_ r: ArbiterExperiments.SweepResult, _ what: String) {
        for f in r.failures.prefix(3) { XCTFail("\(what) seed \(f.seed): \(f.violations.prefix(3))") }
    }

    func testNeverTwoPartitionsQuorate() {
        let two = ArbiterExperiments.sweep(nodes: 2, seeds: 1..<31)
        check(two, "2 nodes")
        XCTAssertGreaterThan(two.handovers, 30, "the vote must move in these runs")
        XCTAssertGreaterThan(two.fences, 10, "and lost nodes must be fenced")
        let four = ArbiterExperiments.sweep(nodes: 4, seeds: 1..<11)
        check(four, "4 nodes")
        check(ArbiterExperiments.sweep(nodes: 2, seeds: 1..<21, longSplits: true), "2 nodes, long splits")
    }

    func testNeverTwoPartitionsQuorateWithWatchdog() {
        check(ArbiterExperiments.sweep(nodes: 2, seeds: 1..<21, watchdog: true), "2 nodes, watchdog")
    }

    func testPlantedBugActingBeforeExpiryIsFound() {
        let r = ArbiterExperiments.sweep(nodes: 2, seeds: 1..<21, margins: false, longSplits: true)
        XCTAssertTrue(r.failures.contains { $0.violations.contains { $0.rule == .splitQuorum } },
                      "taking the lease before its expiry on the server went unnoticed")
        print("planted bug: \(r.failures.count) of \(r.runs) seeds fail, first: seed \(r.failures.first?.seed ?? 0) \(r.failures.first?.violations.first.map { "\($0)" } ?? "")")
    }

    private func twoNodes() -> Simulation {
        let sim = Simulation(config: ArbiterExperiments.config(nodes: 2), links: [LinkModel(), LinkModel()], seed: 5)
        sim.devices["power"] = FenceDeviceModel(.works, latencyMs: 100...200)
        sim.schedule(.start(n1), at: .zero)
        sim.schedule(.start(n2), at: .ms(3))
        sim.run(until: .seconds(3))
        return sim
    }

    /// The side holding the lease keeps quorum and the service; the other side loses quorum and
    /// is fenced by the holder's side: one fence, no race.
    func testTwoNodeSplitHolderKeepsTheService() throws {
        let sim = twoNodes()
        let holder = try XCTUnwrap(sim.node(n1)?.arbiterStatus(at: sim.now)?.holder?.node)
        XCTAssertEqual(sim.resourceActive["svc"], [n1])
        let other = holder == n1 ? n2 : n1
        var fencedBy: [NodeID: NodeID] = [:]
        sim.observer = { _, node, n in
            if case let .fence(.finished(m, e, r, _, _)) = n, r.isSuccess, node == e { fencedBy[m.node] = e }
        }
        sim.schedule(.partition([[n1], [n2]]), at: sim.now)
        sim.run(until: sim.now + .seconds(2))
        XCTAssertEqual(fencedBy, [other: holder], "only the holder's side fences")
        XCTAssertTrue(sim.isRunning(holder))
        XCTAssertEqual(sim.resourceActive["svc"], [holder])
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    /// With both nodes up, the server down (or unreachable) changes nothing: still quorate.
    func testServerDownWithEveryNodePresentCostsNothing() {
        let sim = twoNodes()
        var quorumChanges = 0
        sim.observer = { _, _, n in if case .quorumChanged = n { quorumChanges += 1 } }
        sim.schedule(.arbiterPause(true), at: sim.now)
        sim.run(until: sim.now + .seconds(15))
        XCTAssertEqual(quorumChanges, 0)
        XCTAssertEqual(sim.node(n1)?.view.quorate, true)
        XCTAssertEqual(sim.node(n1)?.arbiterStatus(at: sim.now)?.reachable, false)
        XCTAssertEqual(sim.resourceActive["svc"], [n1])
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }
}

extension ArbiterSimTests {
    /// A graceful leave of the holder hands the vote (and its lease) to the other node before the
    /// goodbye: the node that stays never loses quorum, and the service moves without a fence.
    func testGracefulLeaveHandsTheVoteOver() {
        let sim = Simulation(config: ArbiterExperiments.config(nodes: 2), links: [LinkModel(), LinkModel()], seed: 5)
        sim.devices["power"] = FenceDeviceModel(.works, latencyMs: 100...200)
        sim.schedule(.start(n1), at: .zero)
        sim.schedule(.start(n2), at: .ms(3))
        sim.run(until: .seconds(3))
        XCTAssertEqual(sim.node(n2)?.arbiterStatus(at: sim.now)?.holder?.node, n1)
        var lostQuorum = false, fences = 0
        sim.observer = { _, node, n in
            if node == self.n2, case .quorumChanged(false) = n { lostQuorum = true }
            if case .fence(.finished) = n { fences += 1 }
        }
        sim.schedule(.leave(n1), at: sim.now)
        sim.run(until: sim.now + .seconds(2))
        XCTAssertFalse(sim.isRunning(n1))
        XCTAssertFalse(lostQuorum, "n2 kept quorum through n1's leave")
        XCTAssertEqual(fences, 0)
        XCTAssertEqual(sim.node(n2)?.arbiterStatus(at: sim.now)?.holder?.node, n2)
        XCTAssertEqual(sim.node(n2)?.view.quorate, true)
        XCTAssertEqual(sim.resourceActive["svc"], [n2])
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }
}
