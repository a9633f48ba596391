import VigilCore
import VigilSim
import XCTest

/// Members compare their config files' digests (Membership/ConfigAgreement.swift): a copy that
/// differs is named on every side, once, and cleared when the node comes back with the same file.
final class ConfigAgreementTests: XCTestCase {
    static let file = ConfigDigest(hashes: [11, 12, 13, 14, 15, 16, 17])

    func testADifferingCopyIsNamedOnceAndClearedWhenFixed() {
        let config = CoreConfig.uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: 7)
        var other = Self.file
        other[.resources] = 99
        other[.fencing] = 98
        let (n1, n2, n3) = (NodeID(1), NodeID(2), NodeID(3))
        sim.digests = [n1: Self.file, n2: Self.file, n3: other]
        var notices: [(NodeID, ConfigNotice)] = []
        sim.observer = { _, n, notice in if case .config(let c) = notice { notices.append((n, c)) } }
        for n in config.nodes { sim.schedule(.start(n), at: .zero) }
        sim.run(until: .seconds(2))
        XCTAssertEqual(sim.node(n1)?.view.nodes.count, 3, "a differing file changes nothing in membership")
        XCTAssertEqual(sim.node(n1)?.configDiffers, [n3: [.fencing, .resources]])
        XCTAssertEqual(sim.node(n2)?.configDiffers, [n3: [.fencing, .resources]])
        XCTAssertEqual(sim.node(n3)?.configDiffers, [n1: [.fencing, .resources], n2: [.fencing, .resources]])

        sim.run(until: .seconds(20))  // digests keep coming every 5 s: reported once
        XCTAssertEqual(notices.filter { $0.0 == n1 }.map(\.1), [.differs(peer: n3, parts: [.fencing, .resources])])

        // n3 is fixed: stopped, given the same file, started again.
        sim.digests[n3] = Self.file
        sim.schedule(.leave(n3), at: .seconds(20))
        sim.schedule(.start(n3), at: .seconds(22))
        sim.run(until: .seconds(25))
        XCTAssertEqual(sim.node(n1)?.configDiffers, [:])
        XCTAssertEqual(sim.node(n3)?.configDiffers, [:])
        XCTAssertEqual(notices.filter { $0.0 == n1 }.map(\.1).last, .agrees(peer: n3))
        XCTAssertEqual(sim.violations.map(\.description), [])
    }

    /// SIGHUP with new timing on n3 alone: its timing part differs from then on, on every side at
    /// once (n3 compares with what it heard; the others hear its new digest at the next tick).
    func testNewTimingOnOneNodeIsNamedAtOnce() {
        let config = CoreConfig.uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: 5)
        sim.digests = [NodeID(1): Self.file, NodeID(2): Self.file, NodeID(3): Self.file]
        for n in config.nodes { sim.schedule(.start(n), at: .zero) }
        sim.run(until: .seconds(2))
        XCTAssertEqual(sim.node(NodeID(1))?.configDiffers, [:])
        sim.schedule(.reconfigure(NodeID(3), Timing(interval: .ms(10), deadline: .ms(50)), timingHash: 42), at: .seconds(2))
        sim.run(until: .ms(2100))
        XCTAssertEqual(sim.node(NodeID(3))?.configDiffers, [NodeID(1): [.timing], NodeID(2): [.timing]])
        XCTAssertEqual(sim.node(NodeID(1))?.configDiffers, [NodeID(3): [.timing]])
    }

    func testALostDigestIsMadeUpByTheNextPeriod() {
        // 30% of the frames lost on each link: a digest sent with a view may not arrive; a later
        // periodic one does.
        let config = CoreConfig.uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: .ms(60)))
        var lossy = LinkModel()
        lossy.loss = 0.3
        let sim = Simulation(config: config, links: [lossy, lossy], seed: 11)
        var other = Self.file
        other[.timing] = 1
        sim.digests = [NodeID(1): Self.file, NodeID(2): Self.file, NodeID(3): other]
        for n in config.nodes { sim.schedule(.start(n), at: .zero) }
        sim.run(until: .seconds(15))
        XCTAssertEqual(sim.node(NodeID(1))?.configDiffers[NodeID(3)], [.timing])
    }
}
