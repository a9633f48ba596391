import VigilCore
import VigilSim
import XCTest

/// The operator's commands and failure expiry over the real core in simulation: standby, move,
/// ban, clear, cleanup, restart, failure_timeout; the invariants (never active twice) hold throughout.
final class SupervisorSimTests: XCTestCase {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    private func cluster(failureTimeout: TimeSpan? = nil, fenceLatencyMs: ClosedRange<Int64> = 20...50,
                         agentMissing: [String: Set<NodeID>] = [:], monitor: TimeSpan = .ms(100)) -> Simulation {
        var config = CoreConfig.uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        config.fencing.enabled = true
        for n in config.nodes { config.fencing.levels[n] = [["power"]] }
        config.resources = ResourcePolicy(units: [
            PlacementUnit(resources: ["db"], location: [n1: 50], migrationThreshold: 2),
            PlacementUnit(resources: ["web"], with: "db"),
        ])
        if let failureTimeout { config.resources.failureTimeout["db"] = failureTimeout }
        config.resources.monitorInterval = ["db": monitor, "web": monitor]
        let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: 11)
        sim.devices = ["power": FenceDeviceModel(.works, latencyMs: fenceLatencyMs)]
        sim.agentMissing = agentMissing
        for n in config.nodes { sim.schedule(.start(n), at: .zero) }
        sim.run(until: .seconds(2))
        return sim
    }

    private var t = Instant.seconds(2)

    /// Runs one step, then a second of cluster time.
    private func step(_ sim: Simulation, _ s: Step) {
        sim.schedule(s, at: t)
        t = t + .seconds(1)
        sim.run(until: t)
    }

    private func on(_ sim: Simulation, _ rid: String) -> Set<NodeID> { sim.resourceActive[rid, default: []] }

    func testStandbyMoveBanClear() {
        let sim = cluster()
        var notices: [ResourceNotice] = []
        sim.observer = { _, node, n in if node == NodeID(2), case .resource(let r) = n { notices.append(r) } }
        XCTAssertEqual(on(sim, "db"), [n1])
        XCTAssertEqual(on(sim, "web"), [n1], "web follows db")

        step(sim, .admin(on: n2, .standby(n1, true)))
        XCTAssertEqual(on(sim, "db"), [n2], "standby: away from n1")
        XCTAssertEqual(on(sim, "web"), [n2])
        XCTAssertEqual(sim.node(n3)?.adminState.standby, NodeSet([n1]), "replicated")

        step(sim, .admin(on: n3, .standby(n1, false)))
        XCTAssertEqual(on(sim, "db"), [n2], "online again: stickiness keeps db on n2")

        step(sim, .admin(on: n1, .move("db", to: n3)))
        XCTAssertEqual(on(sim, "db"), [n3])
        XCTAssertEqual(on(sim, "web"), [n3])

        step(sim, .admin(on: n1, .move("db", to: nil)))
        XCTAssertEqual(on(sim, "db"), [n1], "moved away from n3 (banned there)")
        XCTAssertEqual(sim.node(n2)?.adminState.constraints, [.init(resource: "db", node: n3, kind: .ban)])

        step(sim, .admin(on: n2, .clear("db")))
        XCTAssertEqual(on(sim, "db"), [n1], "clear removes constraints; nothing moves needlessly")
        XCTAssertEqual(sim.node(n3)?.adminState.constraints, [])

        step(sim, .admin(on: n2, .ban("nosuch", nil)))
        XCTAssertTrue(notices.contains(.adminRefused(.unknownResource("nosuch"))), "\(notices.suffix(3))")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    /// A node leaving gracefully is placed nothing while it stops its resources: found by tools/chaos
    /// (a clean vigild restart of the owner, whose PAF primary took a minute to stop: its group
    /// "svc" ran nowhere for that minute, the owner placing it on itself and refusing the start).
    /// "slow" takes 5 s to stop; "db" must run elsewhere long before, whether the leaving node is
    /// the owner (n1, the lowest member) or not (n2, the owner n1 learns it from n2's report).
    func testLeavingNodeIsPlacedNothingWhileItStops() {
        for leaver in [n1, n2] {
            var config = CoreConfig.uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: .ms(40)))
            config.resources = ResourcePolicy(units: [
                PlacementUnit(resources: ["db"], location: [leaver: 50]),
                PlacementUnit(resources: ["slow"], location: [leaver: 50]),
            ])
            let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: 12)
            sim.stopTakes = ["slow": .seconds(5)]
            for n in config.nodes { sim.schedule(.start(n), at: .zero) }
            sim.run(until: .seconds(2))
            XCTAssertEqual(on(sim, "db"), [leaver])
            sim.schedule(.leave(leaver), at: .seconds(2))
            sim.run(until: .seconds(3))
            XCTAssertEqual(on(sim, "slow"), [leaver], "still stopping there")
            XCTAssertEqual(on(sim, "db").count, 1, "leaver n\(leaver.rawValue): db runs again within a second")
            XCTAssertFalse(on(sim, "db").contains(leaver))
            sim.run(until: .seconds(9))
            XCTAssertEqual(on(sim, "slow").count, 1)
            XCTAssertFalse(on(sim, "slow").contains(leaver), "and slow once its stop ended and the node left")
            XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
        }
    }

    /// A resource that dies is found by its recurring monitor (the core asks for it after the
    /// start), within about one interval; without a monitor nobody notices.
    func testMonitorFindsADeadResource() {
        let sim = cluster()
        var seen: [(Instant, ResourceState)] = []
        sim.observer = { t, node, n in if node == self.n1, case .resource(.state("db", let st, _)) = n { seen.append((t, st)) } }
        let died = t
        step(sim, .failResource(on: n1, "db"))
        guard let failed = seen.first(where: { $0.1 == .failed }) else { return XCTFail("not noticed: \(seen)") }
        XCTAssertLessThanOrEqual(failed.0 - died, .ms(150), "found by the 100 ms monitor")
        XCTAssertEqual(on(sim, "db"), [n1], "restarted in place")

        let quiet = cluster(monitor: .zero)
        quiet.observer = { _, _, n in if case .resource(.state("db", .failed, _)) = n { XCTFail("noticed without a monitor") } }
        step(quiet, .failResource(on: n1, "db"))
        XCTAssertEqual(on(quiet, "db"), [], "dead, and nobody knows")
    }

    /// Seed 297 (5 nodes): the first member of a group dies while the operator restarts the
    /// second; the second, stopped for the restart, must not be started again without the first.
    func testRestartDoesNotStartAMemberWhoseEarlierMemberFailed() {
        var config = CoreConfig.uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        config.fencing.enabled = true
        for n in config.nodes { config.fencing.levels[n] = [["power"]] }
        config.resources = ResourcePolicy(units: [PlacementUnit(resources: ["ip", "db"], location: [n1: 50])],
                                          monitorInterval: ["ip": .ms(1), "db": .ms(100)])
        let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: 11)
        sim.devices = ["power": FenceDeviceModel(.works, latencyMs: 20...50)]
        for n in config.nodes { sim.schedule(.start(n), at: .zero) }
        sim.run(until: .seconds(2))
        XCTAssertEqual(on(sim, "db"), [n1])
        sim.schedule(.admin(on: n2, .restart("db")), at: .seconds(2))
        sim.schedule(.failResource(on: n1, "ip"), at: .seconds(2) + .ms(2))  // while db stops (5-30 ms)
        sim.run(until: .seconds(4))
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
        XCTAssertEqual(on(sim, "ip"), [n1], "restarted in place (first failure)")
        XCTAssertEqual(on(sim, "db"), [n1])
    }

    func testFailuresCleanupAndRestart() {
        let sim = cluster()
        var ops: [(NodeID, ResourceState)] = []
        sim.observer = { _, node, n in if case .resource(.state("db", let st, _)) = n { ops.append((node, st)) } }
        step(sim, .failResource(on: n1, "db"))
        XCTAssertEqual(on(sim, "db"), [n1], "restarted in place after the first failure")
        XCTAssertEqual(sim.node(n1)?.localResources["db"]?.failCount, 1)
        step(sim, .failResource(on: n1, "db"))
        XCTAssertEqual(on(sim, "db"), [n2], "moved after the migration threshold (2)")
        XCTAssertEqual(sim.node(n3)?.lastResourceFailures["db"]?.node, n1)

        step(sim, .admin(on: n3, .cleanup("db")))
        XCTAssertEqual(sim.node(n1)?.localResources["db"]?.failCount, 0, "cleanup clears the fail count")
        XCTAssertNil(sim.node(n1)?.lastResourceFailures["db"])

        ops.removeAll()
        step(sim, .admin(on: n3, .restart("db")))
        XCTAssertEqual(on(sim, "db"), [n2], "restarted in place")
        XCTAssertEqual(ops.filter { $0.0 == n2 }.map(\.1), [.stopping, .starting, .running], "stop, start: never reported stopped")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    /// db's agent is missing on n1, its preferred node: the probe there says "not installed", a
    /// hard error (fail count INFINITY), so db runs elsewhere and never on n1 - not after a move
    /// there, and not after a cleanup (which probes again and finds the same).
    func testAgentNotInstalledBansTheNode() {
        let sim = cluster(agentMissing: ["db": [n1]])
        XCTAssertEqual(on(sim, "db"), [n2], "not on n1 (not installed), on the next node")
        XCTAssertEqual(sim.node(n1)?.localResources["db"]?.failCount, ResourceEntry.infinity)
        XCTAssertEqual(sim.node(n1)?.localResources["db"]?.state, .stopped)
        step(sim, .admin(on: n3, .move("db", to: n1)))
        XCTAssertEqual(on(sim, "db"), [n2], "a move does not override a hard error")
        step(sim, .admin(on: n3, .clear("db")))
        step(sim, .admin(on: n3, .cleanup("db")))
        XCTAssertEqual(sim.node(n1)?.localResources["db"]?.failCount, ResourceEntry.infinity, "probed again: still missing")
        XCTAssertEqual(on(sim, "db"), [n2])
        sim.agentMissing = [:]  // installed now
        step(sim, .admin(on: n3, .cleanup("db")))
        XCTAssertEqual(sim.node(n1)?.localResources["db"]?.failCount, 0)
        step(sim, .admin(on: n3, .move("db", to: n1)))
        XCTAssertEqual(on(sim, "db"), [n1], "eligible again once installed and cleaned up")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    /// Node maintenance: what runs on n1 is left alone - a failure there is not acted on, a move
    /// does not stop it, and nothing of it starts elsewhere; nothing new goes to n1. Back to
    /// ready, n1 probes again and the cluster acts on what it finds.
    func testMaintenanceLeavesResourcesAlone() {
        let sim = cluster()
        XCTAssertEqual(on(sim, "db"), [n1])
        var commands: [NodeID] = []
        sim.observer = { _, node, n in if case .resource(.command(_, _, _)) = n { commands.append(node) } }
        step(sim, .admin(on: n2, .maintenance(n1, true)))
        XCTAssertEqual(sim.node(n3)?.adminState.maintenance, NodeSet([n1]))
        step(sim, .failResource(on: n1, "db"))  // the operator stops it by hand, say
        XCTAssertEqual(on(sim, "db"), [], "not restarted, not started elsewhere")
        XCTAssertEqual(sim.node(n1)?.localResources["db"]?.state, .running, "its monitor result is not taken")
        step(sim, .admin(on: n2, .move("db", to: n2)))
        XCTAssertEqual(on(sim, "db"), [], "unmanaged: a move waits for the node to be ready")
        XCTAssertTrue(commands.isEmpty, "no command was sent: \(commands)")
        step(sim, .admin(on: n3, .restart("db")))
        step(sim, .admin(on: n3, .maintenance(n1, false)))
        XCTAssertEqual(on(sim, "db"), [n2], "ready: n1 probed db (stopped) and the move took effect")
        XCTAssertEqual(on(sim, "web"), [n2])

        step(sim, .admin(on: n3, .maintenance(n3, true)))
        step(sim, .admin(on: n3, .ban("db", n2)))
        XCTAssertEqual(on(sim, "db"), [n1], "not to n3 (maintenance): to n1")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    /// Restarting a group member restarts it and every later member, in group order: the later
    /// ones stop first and start last (the sim also checks the order of every start and stop).
    func testGroupMemberRestartTakesLaterMembers() {
        var config = CoreConfig.uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        config.resources = ResourcePolicy(units: [PlacementUnit(resources: ["fs", "pg", "ip"], location: [n1: 50])])
        let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: 5)
        for n in config.nodes { sim.schedule(.start(n), at: .zero) }
        sim.run(until: .seconds(2))
        XCTAssertEqual(["fs", "pg", "ip"].map { on(sim, $0) }, [[n1], [n1], [n1]])
        var seen: [String] = []
        sim.observer = { _, node, n in
            if node == self.n1, case .resource(.state(let rid, let st, _)) = n { seen.append("\(rid) \(st)") }
        }
        step(sim, .admin(on: n3, .restart("pg")))
        XCTAssertEqual(seen, ["ip stopping", "ip starting", "pg stopping", "pg starting", "pg running", "ip running"],
                       "ip stops first (then is held, reported starting), pg stops, pg starts, then ip")
        XCTAssertEqual(["fs", "pg", "ip"].map { on(sim, $0) }, [[n1], [n1], [n1]])
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    func testFailureTimeoutExpires() {
        let sim = cluster(failureTimeout: .seconds(3))
        step(sim, .failResource(on: n1, "db"))
        XCTAssertEqual(sim.node(n1)?.localResources["db"]?.failCount, 1)
        step(sim, .failResource(on: n1, "db"))
        XCTAssertEqual(on(sim, "db"), [n2])
        t = t + .seconds(3)
        sim.run(until: t)
        XCTAssertEqual(sim.node(n1)?.localResources["db"]?.failCount, 0, "forgotten after failure_timeout")
        step(sim, .admin(on: n2, .move("db", to: n1)))
        XCTAssertEqual(on(sim, "db"), [n1], "n1 is eligible again")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    /// no_quorum_policy = "stop" (the default): a node cut off from the others stops its resources
    /// by itself, before the majority's (slow, here 1.5 s) fence reaches it; the majority starts them
    /// only after the fence.
    func testMinorityStopsItsResourcesWithoutQuorum() throws {
        let sim = cluster(fenceLatencyMs: 1500...1500)
        var stops: [NodeID] = []
        sim.observer = { _, node, n in if case .resource(.stopWithoutQuorum("db")) = n { stops.append(node) } }
        XCTAssertEqual(on(sim, "db"), [n1])
        sim.schedule(.partition([[n1], [n2, n3]]), at: t)
        t = t + .seconds(1)
        sim.run(until: t)
        XCTAssertEqual(stops, [n1])
        XCTAssertEqual(on(sim, "db"), [], "stopped on n1 by itself; not started elsewhere before the fence")
        t = t + .seconds(4)
        sim.run(until: t)
        XCTAssertEqual(on(sim, "db"), [n2], "started after n1 was fenced")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }
}
