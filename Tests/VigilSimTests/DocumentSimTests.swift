import VigilCore
import VigilSim
import XCTest

/// The replicated document over the real core (issue 14): a change applied on one node reaches
/// every member in chunks, newer wins (concurrent changes settle on one copy, the same on every
/// node), a node that was down takes the new copy when it rejoins, a change in a minority or with
/// an older epoch is refused, and over random seeds no node ever takes an older copy than its own.
final class DocumentSimTests: XCTestCase {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    private func policy() -> ResourcePolicy {
        var p = ResourcePolicy(units: [
            PlacementUnit(resources: ["fs", "db"], location: [n1: 100]),
            PlacementUnit(resources: ["web"], location: [n2: 100]),
        ])
        p.monitorInterval = ["fs": .ms(100), "db": .ms(100), "web": .ms(100)]
        return p
    }

    private func cluster(seed: UInt64, links: [LinkModel] = [LinkModel(), LinkModel()]) -> Simulation {
        var config = CoreConfig.uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        config.fencing.enabled = true
        for n in config.nodes { config.fencing.levels[n] = [["power"]] }
        config.resources = policy()
        let sim = Simulation(config: config, links: links, seed: seed)
        sim.devices = ["power": FenceDeviceModel(.works, latencyMs: 20...50)]
        sim.replicateDocuments()
        for n in config.nodes { sim.schedule(.start(n), at: .zero) }
        sim.run(until: .seconds(2))
        return sim
    }

    private func withCache(_ version: UInt64, on n: NodeID) -> ResourcePolicy {
        var p = policy()
        p.version = version
        p.units.append(PlacementUnit(resources: ["cache"], location: [n: 100]))
        p.monitorInterval["cache"] = .ms(100)
        return p
    }

    private func documents(_ sim: Simulation) -> [DocumentStamp] { [n1, n2, n3].compactMap { sim.node($0)?.document } }

    func testAChangeOnOneNodeReachesEveryMemberAndStartsOnlyWhatIsNew() {
        let sim = cluster(seed: 3)
        XCTAssertEqual(Set(documents(sim)).count, 1)
        XCTAssertEqual(sim.node(n1)?.document.version, DocumentVersion(epoch: 1, counter: 0))
        let before = sim.startsOrdered
        var running: [NodeID: DocumentStamp] = [:]
        sim.observer = { _, n, notice in if case let .document(.running(s, _, from)) = notice, from != nil { running[n] = s } }
        // 6,000 bytes besides: seven chunks.
        sim.schedule(.applyDocument(on: n2, withCache(1, on: n3), filler: 6000, epoch: 1), at: .seconds(2))
        sim.run(until: .seconds(4))
        let docs = documents(sim)
        XCTAssertEqual(Set(docs).count, 1, "\(docs)")
        XCTAssertEqual(docs.first?.version, DocumentVersion(epoch: 1, counter: 1))
        XCTAssertEqual(Set(running.keys), [n1, n3], "fetched by the two others")
        XCTAssertEqual(sim.resourceActive["cache"], [n3])
        XCTAssertEqual(sim.startsOrdered.filter { $0.key != "cache" }, before, "nothing else restarted")
        XCTAssertEqual(sim.violations.map(\.description), [])
    }

    func testTwoChangesMadeAtOnceSettleOnOneCopyEverywhere() {
        let sim = cluster(seed: 5)
        var conflicts = 0
        sim.observer = { _, _, notice in if case .document(.conflict) = notice { conflicts += 1 } }
        sim.schedule(.applyDocument(on: n1, withCache(1, on: n1), filler: 100, epoch: 1), at: .seconds(2))
        sim.schedule(.applyDocument(on: n3, withCache(2, on: n3), filler: 2500, epoch: 1), at: .seconds(2))
        sim.run(until: .seconds(4))
        sim.schedule(.checkAgreement, at: .seconds(4))
        sim.run(until: .ms(4001))
        let docs = documents(sim)
        XCTAssertEqual(Set(docs).count, 1, "\(docs)")
        XCTAssertEqual(docs.first?.version, DocumentVersion(epoch: 1, counter: 1), "both made 1.1: the larger hash won")
        XCTAssertGreaterThan(conflicts, 0, "the conflict is named")
        XCTAssertEqual(sim.resourceActive["cache"]?.count, 1)
        XCTAssertEqual(sim.violations.map(\.description), [])
    }

    func testANodeThatWasDownTakesTheNewCopyWhenItRejoins() {
        let sim = cluster(seed: 7)
        sim.schedule(.leave(n3), at: .seconds(2))
        sim.schedule(.applyDocument(on: n1, withCache(1, on: n2), filler: 1500, epoch: 1), at: .seconds(3))
        sim.run(until: .seconds(4))
        XCTAssertEqual(sim.node(n1)?.document.version.counter, 1)
        var taken: (DocumentStamp, DocumentStamp, NodeID?)?
        sim.observer = { _, n, notice in
            if n == NodeID(3), case let .document(.running(s, previous, from)) = notice, from != nil { taken = (s, previous, from) }
        }
        sim.schedule(.start(n3), at: .seconds(4))
        sim.run(until: .seconds(6))
        XCTAssertEqual(taken?.0, sim.node(n1)?.document)
        XCTAssertEqual(taken?.1.version, DocumentVersion(epoch: 1, counter: 0), "it started with the copy it had saved")
        XCTAssertEqual(sim.resourceActive["cache"], [n2])
        XCTAssertEqual(sim.violations.map(\.description), [])
    }

    func testAChangeInAMinorityOrWithAnOlderEpochIsRefused() {
        let sim = cluster(seed: 11)
        var refusals: [DocumentApplyRefusal] = []
        sim.observer = { _, _, notice in if case .document(.applyRefused(let r)) = notice { refusals.append(r) } }
        sim.schedule(.applyDocument(on: n1, withCache(1, on: n1), filler: 10, epoch: 2), at: .seconds(2))
        sim.run(until: .seconds(3))
        XCTAssertEqual(sim.node(n3)?.document.version, DocumentVersion(epoch: 2, counter: 1), "a newer epoch starts at counter 1")
        sim.schedule(.applyDocument(on: n2, withCache(2, on: n2), filler: 10, epoch: 1), at: .seconds(3))
        sim.run(until: .seconds(4))
        XCTAssertEqual(refusals, [.olderEpoch(1, cluster: DocumentVersion(epoch: 2, counter: 1))])
        sim.devices = ["power": FenceDeviceModel(.fails)]  // n3 stays up, cut off and inquorate
        sim.schedule(.partition([[n1, n2], [n3]]), at: .seconds(4))
        sim.schedule(.applyDocument(on: n3, withCache(3, on: n3), filler: 10, epoch: 2), at: .seconds(5))
        sim.run(until: .seconds(6))
        XCTAssertEqual(refusals.last, .notQuorate)
        XCTAssertEqual(sim.node(n1)?.document.version, DocumentVersion(epoch: 2, counter: 1))
    }

    /// Random changes through the document (some concurrent, some during partitions), fencing,
    /// clones and orders: fixed seeds (the release sweeps in docs/live-config.md run hundreds).
    func testRandomChangesThroughTheDocument() {
        let r = Sweep.run(nodes: 3, seeds: 1...12, fencing: true, orders: true, clones: true, reconfigure: true, documents: true)
        XCTAssertEqual(r.failures.map { "seed \($0.seed): \($0.violations[0])" }, [])
        let five = Sweep.run(nodes: 5, seeds: 1...4, fencing: true, reconfigure: true, documents: true)
        XCTAssertEqual(five.failures.map { "seed \($0.seed): \($0.violations[0])" }, [])
    }

    /// Seeds the release sweeps with --documents found, each fixed (the commit that brought the
    /// document says how): an in-place restart that ignored its group's FIRST (302, 21) or the
    /// promoted instance it needs (137), an owner's stop lost in an in-place restart (477), and a
    /// removed resource added back and started beside the instance a lost node still ran (231).
    func testSeedsTheSweepsFound() {
        let clones = Sweep.run(nodes: 3, seeds: [302, 477], fencing: true, orders: true, clones: true, reconfigure: true, documents: true)
        XCTAssertEqual(clones.failures.map { "seed \($0.seed): \($0.violations[0])" }, [])
        let promotable = Sweep.run(nodes: 3, seeds: [137, 231], fencing: true, promotable: true, reconfigure: true, documents: true)
        XCTAssertEqual(promotable.failures.map { "seed \($0.seed): \($0.violations[0])" }, [])
        let five = Sweep.run(nodes: 5, seeds: [21], fencing: true, attributes: true, orders: true, clones: true, reconfigure: true,
                             documents: true)
        XCTAssertEqual(five.failures.map { "seed \($0.seed): \($0.violations[0])" }, [])
    }

    /// The planted bug (a node takes any other copy a member runs, even an older one) is found.
    func testTakingAnOlderCopyIsFound() {
        let r = Sweep.run(nodes: 3, seeds: 1...10, fencing: true, reconfigure: true, documents: true, newestDocumentWins: false)
        XCTAssertFalse(r.failures.isEmpty)
        XCTAssertTrue(r.failures.contains { $0.violations.contains { $0.rule == .document } })
    }
}

/// Nodes added and removed through the document (Membership/NodesChange.swift): a fourth node
/// joins once the document names it, with expected votes 4; removed while running, it stops its
/// resources, leaves gracefully, and the others count three votes again, never fencing it.
final class DocumentNodesSimTests: XCTestCase {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3), n4 = NodeID(4)

    func testAFourthNodeAddedAndRemovedLive() {
        var config = CoreConfig.uniform(nodes: 4, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        config.fencing.enabled = true
        for n in config.nodes { config.fencing.levels[n] = [["power"]] }
        var p = ResourcePolicy(units: [PlacementUnit(resources: ["web"], location: [n4: 300]), PlacementUnit(resources: ["db"])])
        p.monitorInterval = ["web": .ms(100), "db": .ms(100)]
        config.resources = p
        let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: 9)
        sim.devices = ["power": FenceDeviceModel(.works, latencyMs: 20...50)]
        let three = NodeSet([n1, n2, n3]), four = NodeSet([n1, n2, n3, n4])
        sim.replicateDocuments(nodes: three)
        for n in three { sim.schedule(.start(n), at: .zero) }
        var fenced: [NodeID] = []
        sim.observer = { _, _, notice in if case let .fence(.pending(m)) = notice { fenced.append(m.node) } }
        sim.run(until: .seconds(2))
        XCTAssertEqual(sim.node(n1)?.view.nodes, three)
        XCTAssertEqual(sim.node(n1)?.config.quorum.expectedVotes, 3)
        XCTAssertNotNil(sim.resourceActive["web"]?.first, "web runs somewhere while n4 is not in the cluster")

        sim.schedule(.applyDocument(on: n2, p, filler: 200, epoch: 1, nodes: four), at: .seconds(2))
        sim.run(until: .seconds(3))
        XCTAssertEqual(sim.node(n3)?.config.quorum.expectedVotes, 4)
        XCTAssertEqual(sim.node(n3)?.view.quorate, true, "3 of 4 votes")
        sim.giveDocument(from: n1, to: n4)
        sim.schedule(.start(n4), at: .seconds(3))
        sim.run(until: .seconds(5))
        XCTAssertEqual(sim.node(n1)?.view.nodes, four)
        XCTAssertEqual(sim.resourceActive["web"], [n4], "web moves to the node it prefers")

        sim.schedule(.applyDocument(on: n1, p, filler: 200, epoch: 1, nodes: three), at: .seconds(5))
        sim.run(until: .seconds(7))
        XCTAssertNil(sim.node(n4), "n4 left once it took the document without it")
        XCTAssertEqual(sim.node(n1)?.view.nodes, three)
        XCTAssertEqual(sim.node(n1)?.view.quorate, true)
        XCTAssertEqual(sim.node(n2)?.config.quorum.expectedVotes, 3)
        XCTAssertEqual(sim.resourceActive["web"]?.count, 1)
        XCTAssertFalse(sim.resourceActive["web"]?.contains(n4) ?? true)
        XCTAssertEqual(fenced, [], "a removed node is not fenced")
        sim.schedule(.checkAgreement, at: .seconds(7))
        sim.run(until: .ms(7001))
        XCTAssertEqual(sim.violations.map(\.description), [])
    }
}
