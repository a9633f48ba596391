import VigilCore
import VigilSim
import XCTest

/// Hand-written scenarios with exact expectations.
final class ScenarioTests: XCTestCase {
    let timing = Timing(interval: .ms(10), deadline: .ms(40))

    func cluster(_ n: Int, links: [LinkModel] = [LinkModel(), LinkModel()]) -> Simulation {
        let sim = Simulation(config: .uniform(nodes: n, links: links.count, timing: timing), links: links, seed: 5)
        for i in 1...n { sim.schedule(.start(NodeID(UInt16(i))), at: .zero) }
        return sim
    }
    var settled: TimeSpan { RandomScenario.quietPeriod(timing) }
    func ids(_ xs: UInt16...) -> [NodeID] { xs.map(NodeID.init) }

    func testThreeNodesFormOneQuorateView() {
        let sim = cluster(3)
        sim.run(until: .zero + settled)
        let views = (1...3).map { sim.node(NodeID(UInt16($0)))!.view }
        XCTAssertEqual(Set(views.map(\.id)).count, 1)
        XCTAssertEqual(views[0].members.count, 3)
        XCTAssertTrue(views[0].quorate)
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// Done-means: at 10 ms, no loss, a silent death is seen by every survivor within
    /// 3 intervals + deadline, and the new view follows within the documented install bound.
    func testSilentDeathDetectedWithinBound() {
        let r = Experiments.detection(config: .uniform(nodes: 3, timing: timing), links: [LinkModel(), LinkModel()],
                                      runs: 100, freeze: false)
        XCTAssertEqual(r.detection.samples.count, 200)
        XCTAssertEqual(r.missed, 0)
        XCTAssertLessThanOrEqual(r.detection.samples.last!, timing.interval * 3 + timing.deadline)
        XCTAssertLessThanOrEqual(r.install.samples.last!, timing.interval * 3 + timing.deadline + timing.installBound)
        XCTAssertTrue(r.violations.isEmpty)
    }

    func testGracefulLeaveIsCleanAndCrashIsUnclean() {
        // Five nodes, so that three survivors stay quorate: only a quorate view records a node to fence.
        let sim = cluster(5)
        var changes: [NodeID: [ViewChange]] = [:]
        sim.observer = { _, n, notice in if case .viewInstalled(_, let c) = notice { changes[n, default: []].append(c) } }
        sim.run(until: .zero + settled)
        sim.schedule(.leave(NodeID(5)), at: sim.now)
        sim.run(until: sim.now + settled)
        sim.schedule(.crash(NodeID(3)), at: sim.now)
        sim.run(until: sim.now + settled)
        let seen = changes[NodeID(1)]!
        XCTAssertTrue(seen.contains { $0.leftCleanly == [Member(NodeID(5), 1)] && $0.lostUncleanly.isEmpty })
        XCTAssertTrue(seen.contains { $0.lostUncleanly == [Member(NodeID(3), 1)] })
        XCTAssertEqual(sim.node(NodeID(2))!.pendingFences, [NodeID(3): 1], "only the crashed node needs fencing")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations)")
    }

    func testRestartedNodeRejoinsWithNewIncarnation() {
        let sim = cluster(3)
        sim.run(until: .zero + settled)
        sim.schedule(.crash(NodeID(2)), at: sim.now)
        sim.schedule(.restart(NodeID(2)), at: sim.now + .ms(5))  // back before anyone noticed
        sim.run(until: sim.now + settled)
        let v = sim.node(NodeID(1))!.view
        XCTAssertEqual(v.members, [Member(NodeID(1), 1), Member(NodeID(2), 2), Member(NodeID(3), 1)])
        XCTAssertEqual(sim.node(NodeID(3))!.pendingFences[NodeID(2)], 1, "the crashed life needs fencing")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations)")
    }

    func testOneLinkLostIsNotAMembershipChange() {
        let sim = cluster(3)
        sim.run(until: .zero + settled)
        var deaths = 0, linkDowns = 0, views = 0
        sim.observer = { _, _, n in
            switch n {
            case .peerDead: deaths += 1
            case .linkDown: linkDowns += 1
            case .viewInstalled: views += 1
            default: break
            }
        }
        sim.schedule(.cut(NodeID(3), link: 0, true), at: sim.now)
        sim.run(until: sim.now + .seconds(5))
        XCTAssertEqual(deaths, 0)
        XCTAssertEqual(views, 0)
        XCTAssertEqual(linkDowns, 4, "node3 loses link0 to two peers; each of them loses it to node3")
    }

    func testMinorityIsInquorate() {
        let sim = cluster(5)
        sim.run(until: .zero + settled)
        sim.schedule(.partition([ids(1, 2, 3), ids(4, 5)]), at: sim.now)
        sim.run(until: sim.now + settled)
        XCTAssertTrue(sim.node(NodeID(1))!.view.quorate)
        XCTAssertEqual(sim.node(NodeID(1))!.view.members.count, 3)
        XCTAssertFalse(sim.node(NodeID(4))!.view.quorate)
        XCTAssertEqual(sim.node(NodeID(5))!.view.members.count, 2)
        sim.schedule(.heal, at: sim.now)
        sim.run(until: sim.now + settled)
        XCTAssertEqual(sim.node(NodeID(5))!.view.members.count, 5)
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations)")
    }

    func testTwoNodeWaitForAllThenSurvivesSplit() {
        let sim = Simulation(config: .uniform(nodes: 2, timing: timing), links: [LinkModel(), LinkModel()], seed: 3)
        sim.schedule(.start(NodeID(1)), at: .zero)
        sim.run(until: .zero + settled)
        XCTAssertEqual(sim.node(NodeID(1))!.view.members.count, 1)
        XCTAssertFalse(sim.node(NodeID(1))!.view.quorate, "wait-for-all: alone at start is not quorate")
        sim.schedule(.start(NodeID(2)), at: sim.now)
        sim.run(until: sim.now + settled)
        XCTAssertTrue(sim.node(NodeID(1))!.view.quorate)
        sim.schedule(.partition([ids(1), ids(2)]), at: sim.now)
        sim.run(until: sim.now + settled)
        XCTAssertTrue(sim.node(NodeID(1))!.view.quorate && sim.node(NodeID(2))!.view.quorate,
                      "two-node mode: each half keeps quorum (the fence race decides, later)")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations)")
    }

    /// Done-means: 5% loss on one of two links, no false deaths (10,000 s in the release run of the
    /// note; a shorter run here to keep the suite fast).
    func testLossOnOneLinkCausesNoFalseDeaths() {
        var lossy = LinkModel()
        lossy.loss = 0.05
        lossy.jitter = .ms(1)
        let r = Experiments.steady(config: .uniform(nodes: 3, timing: timing), links: [lossy, LinkModel()],
                                   duration: .seconds(120))
        XCTAssertEqual(r.falseDeaths, 0)
        XCTAssertEqual(r.viewChanges, 0)
        XCTAssertTrue(r.violations.isEmpty)
    }

    func testEveryAttackIsRejectedAndCounted() {
        let sim = cluster(3)
        sim.run(until: .zero + settled)
        var t = sim.now
        for a in Attack.allCases {
            for _ in 0..<20 {
                t = t + .ms(1)
                sim.schedule(.attack(NodeID(2), a), at: t)
            }
        }
        sim.run(until: t + .ms(10))
        let rejected = sim.node(NodeID(2))!.counters.rejected
        XCTAssertEqual(rejected.values.reduce(0, +), 20 * Attack.allCases.count, "\(rejected)")
        for r in [Rejection.badTag, .replayed, .wrongCluster, .unknownNode] { XCTAssertNotNil(rejected[r], "\(r): \(rejected)") }
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations)")
    }
}
