import VigilCore

/// Site tickets in simulation: two Vigil clusters (sites) of two nodes each, nodes 1-2 (cluster
/// 1) and 3-4 (cluster 2), never hearing each other, sharing one lease server (ArbiterModel.swift)
/// that holds each site's vote key and the ticket `t1`. Both sites define resource `db`, bound to
/// `t1`: the simulator's double-active rule then says "never in two sites at once".
public enum TicketExperiments {
    public static let siteA = [NodeID(1), NodeID(2)], siteB = [NodeID(3), NodeID(4)]

    /// One site's configuration: its nodes, the arbiter's vote, fencing by a power device, `db`
    /// on its lowest node, bound to `t1` with the given loss policy and stop margin.
    public static func site(_ cluster: UInt32, _ ids: [NodeID], ttl: TimeSpan = .seconds(5), autoGrant: Bool = false,
                            stopMargin: TimeSpan = .seconds(2), loss: TicketLoss = .stop, releaseGate: Bool = true) -> CoreConfig {
        var c = CoreConfig(cluster: cluster, nodes: NodeSet(ids), links: [LinkID(0), LinkID(1)],
                           timing: Timing(interval: .ms(10), deadline: .ms(40)),
                           quorum: QuorumPolicy(votes: Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }), twoNode: false))
        c.quorum.arbiterVotes = 1
        c.arbiter = ArbiterPolicy(ttl: ttl)
        c.ticketLease = c.arbiter
        c.tickets = [TicketPolicy(name: "t1", resources: ["db"], loss: loss, autoGrant: autoGrant, stopMargin: stopMargin)]
        c.releaseGate = releaseGate
        c.fencing.enabled = true
        c.fencing.action = .reboot
        for id in ids { c.fencing.levels[id] = [["power"]] }
        c.resources = ResourcePolicy(units: [PlacementUnit(resources: ["db"], location: [ids[0]: 100])])
        return c
    }

    /// Both sites started, the sites' networks apart; the ticket not granted yet.
    public static func sites(seed: UInt64, ttl: TimeSpan = .seconds(5), autoGrant: Bool = false,
                             stopMargin: TimeSpan = .seconds(2), releaseGate: Bool = true, loss: TicketLoss = .stop) -> Simulation {
        let a = site(1, siteA, ttl: ttl, autoGrant: autoGrant, stopMargin: stopMargin, loss: loss, releaseGate: releaseGate)
        let b = site(2, siteB, ttl: ttl, autoGrant: autoGrant, stopMargin: stopMargin, loss: loss, releaseGate: releaseGate)
        var all = a
        all.nodes = NodeSet(siteA + siteB)
        let sim = Simulation(config: all, links: [LinkModel(), LinkModel()], seed: seed)
        for id in siteA { sim.siteConfigs[id] = a }
        for id in siteB { sim.siteConfigs[id] = b }
        sim.devices["power"] = FenceDeviceModel(.works, latencyMs: 50...200)
        sim.schedule(.partition([siteA, siteB]), at: .zero)
        for id in siteA + siteB { sim.schedule(.start(id), at: .ms(Int64(id.rawValue))) }
        return sim
    }

    public struct SweepResult: Sendable {
        public var runs = 0
        public var failures: [(seed: UInt64, violations: [Violation])] = []
        /// How often the ticket changed sites, and how often `db` ran in a site at the end.
        public var moves = 0
        public var endedRunning = 0
    }

    /// Random runs: a site cut from the server (so it loses the ticket and the other takes it),
    /// the server paused, short pauses and crashes of nodes, revokes and grants on random nodes;
    /// then everything restored and the ticket granted if free: `db` must run in one site.
    /// `stopTakes`: how long a stop of `db` takes (the planted-bug checks: longer than `stopMargin`,
    /// or a revoked ticket released before the stop ended, `releaseGate` off).
    public static func sweep<S: Sequence>(seeds: S, stopMargin: TimeSpan = .seconds(2), stopTakes: TimeSpan? = nil,
                                          ttl: TimeSpan = .seconds(5), releaseGate: Bool = true) -> SweepResult where S.Element == UInt64 {
        var r = SweepResult()
        for seed in seeds {
            var rng = SeededRandom(seed: seed &* 0x2545_F491_4F6C_DD1D)
            let sim = sites(seed: seed, ttl: ttl, autoGrant: rng.chance(0.5), stopMargin: stopMargin, releaseGate: releaseGate)
            if let stopTakes { sim.stopTakes["db"] = stopTakes }
            let all = siteA + siteB
            var lastSite: UInt32?
            sim.observer = { _, _, n in
                if case let .ticket(.holder(_, h?)) = n, h.site != lastSite { (lastSite, r.moves) = (h.site, r.moves + 1) }
            }
            sim.schedule(.ticket(on: all.randomElement(using: &rng)!, .grant("t1")), at: .seconds(2))
            var t = Instant.seconds(4)
            let end = Instant.seconds(60)
            while t < end {
                let back = t + .ms(Int64.random(in: 500...(ttl.nanoseconds / 1_000_000 * 3), using: &rng))
                let node = all.randomElement(using: &rng)!
                switch Int.random(in: 0..<6, using: &rng) {
                case 0, 1:
                    let cut = rng.chance(0.5) ? siteA : siteB
                    for id in cut { sim.schedule(.arbiterCut(id, true), at: t); sim.schedule(.arbiterCut(id, false), at: back) }
                    // The other site's operator grants it once it is free.
                    let other = cut == siteA ? siteB : siteA
                    sim.schedule(.ticket(on: other[0], .grant("t1")), at: t + ttl + .seconds(1))
                case 2:
                    sim.schedule(.arbiterPause(true), at: t)
                    sim.schedule(.arbiterPause(false), at: t + .ms(Int64.random(in: 200...8_000, using: &rng)))
                case 3:
                    sim.schedule(.pause(node), at: t)
                    sim.schedule(.resume(node), at: t + .ms(Int64.random(in: 50...300, using: &rng)))
                case 4:
                    sim.schedule(.crash(node), at: t)
                    sim.schedule(.restart(node), at: back)
                default:
                    sim.schedule(.ticket(on: node, .revoke("t1")), at: t)
                    let other = all.randomElement(using: &rng)!
                    // Soon after (a revoked ticket is released once its resources stopped), and after expiry.
                    for ms in [300, 1_000, 2_500, 4_000, 6_000] { sim.schedule(.ticket(on: other, .grant("t1")), at: t + .ms(Int64(ms))) }
                    sim.schedule(.ticket(on: other, .grant("t1")), at: t + ttl + .seconds(1))
                }
                t = back + .ms(Int64.random(in: 200...2_000, using: &rng))
            }
            for id in all {
                sim.schedule(.arbiterCut(id, false), at: t)
                sim.schedule(.start(id), at: t)
            }
            sim.schedule(.arbiterPause(false), at: t)
            sim.schedule(.ticket(on: NodeID(1), .grant("t1")), at: t + ttl + .seconds(1))
            sim.run(until: t + ttl * 3 + .seconds(3))
            if (sim.resourceActive["db"] ?? []).count == 1 { r.endedRunning += 1 }
            r.runs += 1
            if !sim.violations.isEmpty { r.failures.append((seed, sim.violations)) }
        }
        return r
    }
}
