import VigilCore

/// The external vote over the real core: random splits of nodes and of the arbiter's server,
/// pauses of both, clock rates apart within the bound; and a two-node split's time to recovery.
public enum ArbiterExperiments {
    /// `nodes` nodes with one vote each and the arbiter's vote, fencing by a power device
    /// (reboot), optionally a watchdog; one resource `svc` preferring node 1.
    public static func config(nodes n: Int, ttl: TimeSpan = .seconds(5), renewEvery: TimeSpan? = nil,
                              watchdog: Bool = false, margins: Bool = true) -> CoreConfig {
        var c = CoreConfig.uniform(nodes: n, links: 2, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        c.quorum = QuorumPolicy(votes: c.quorum.votes, twoNode: false)
        c.quorum.arbiterVotes = 1
        c.arbiter = ArbiterPolicy(ttl: ttl, renewEvery: renewEvery)
        c.arbiter?.margins = margins
        c.fencing.enabled = true
        c.fencing.action = .reboot
        for id in c.nodes { c.fencing.levels[id] = [["power"]] }
        if watchdog { c.fencing.watchdog = WatchdogPolicy(timeout: .seconds(1), quorumLossBound: .ms(500)) }
        c.resources = ResourcePolicy(units: [PlacementUnit(resources: ["svc"], location: [NodeID(1): 100])])
        return c
    }

    public struct SweepResult: Sendable {
        public var runs = 0
        public var failures: [(seed: UInt64, violations: [Violation])] = []
        /// How often the vote changed hands, and how often a partition was quorate by it alone.
        public var handovers = 0
        public var quorateByVote = 0
        public var fences = 0
    }

    /// Random runs: splits of the nodes, a node or every node cut from the server, pauses of
    /// nodes and of the server, crashes; clock rates within ±ρ/2 of real time (any two differ by
    /// at most ρ); then everything heals and the nodes must agree. `longSplits`: only splits of
    /// the nodes with one side cut from the server, lasting longer than the lease.
    public static func sweep<S: Sequence>(nodes n: Int, seeds: S, watchdog: Bool = false, margins: Bool = true,
                                          ttl: TimeSpan = .seconds(5), renewEvery: TimeSpan? = nil, longSplits: Bool = false,
                                          duration: TimeSpan = .seconds(40)) -> SweepResult where S.Element == UInt64 {
        var r = SweepResult()
        let config = config(nodes: n, ttl: ttl, renewEvery: renewEvery, watchdog: watchdog, margins: margins)
        let ids = config.nodes.sorted()
        for seed in seeds {
            var rng = SeededRandom(seed: seed &* 0x51_7CC1_B727_220A)
            let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: seed)
            sim.devices["power"] = FenceDeviceModel(.works, latencyMs: 50...300)
            let rho = config.arbiter!.rateBoundPPM / 2
            for id in ids { sim.clockPPM[id] = Int64.random(in: -rho...rho, using: &rng) }
            sim.arbiterServer.ppm = Int64.random(in: -rho...rho, using: &rng)
            // Exact TTLs sometimes (a store with finer leases), etcd's whole seconds otherwise.
            sim.arbiterServer.secondsGranularity = margins ? rng.chance(0.5) : false
            sim.observer = { _, _, notice in
                if case .arbiter(.holder(_?)) = notice { r.handovers += 1 }
                if case .fence(.finished(_, _, let res, _, _)) = notice, res.isSuccess { r.fences += 1 }
            }
            for id in ids { sim.schedule(.start(id), at: .ms(Int64.random(in: 0...50, using: &rng))) }
            var t = Instant.seconds(3)
            while t < Instant.zero + duration {
                let steps = longSplits ? longSplit(ids, &rng, at: t, ttl: ttl) : fault(ids, &rng, at: t, ttl: ttl)
                for (at, step) in steps { sim.schedule(step, at: at) }
                t = (steps.map(\.0).max() ?? t) + .ms(Int64.random(in: 1_000...(ttl.nanoseconds / 1_000_000 * 2), using: &rng))
            }
            sim.schedule(.heal, at: t)
            sim.schedule(.arbiterPause(false), at: t)
            for id in ids { sim.schedule(.arbiterCut(id, false), at: t) }
            for id in ids { sim.schedule(.resume(id), at: t) }
            for id in ids { sim.schedule(.start(id), at: t + .ms(10)) }
            // Rebooted nodes come back; a lease left by a partition expires; then all agree.
            let quiet = t + ttl * 2 + .seconds(3)
            sim.schedule(.checkAgreement, at: quiet)
            var byVote = false
            sim.run(until: quiet)
            for id in ids where sim.node(id)?.hasArbiterVote == true { byVote = true }
            if byVote { r.quorateByVote += 1 }
            r.runs += 1
            if !sim.violations.isEmpty { r.failures.append((seed, sim.violations)) }
        }
        return r
    }

    /// A split of the nodes, one side cut from the server at once or a little later (after it
    /// may have confirmed the vote for its new view), for one to three leases.
    static func longSplit(_ ids: [NodeID], _ rng: inout SeededRandom, at t: Instant, ttl: TimeSpan) -> [(Instant, Step)] {
        let a = ids.shuffled(using: &rng)
        let (x, y) = (Array(a.prefix(ids.count / 2)), Array(a.suffix(ids.count - ids.count / 2)))
        let heal = t + TimeSpan(nanoseconds: ttl.nanoseconds * Int64.random(in: 10...30, using: &rng) / 10)
        let cut = t + .ms(Int64.random(in: 0...1_000, using: &rng))
        return [(t, .partition([x, y])), (heal, .heal)] + x.flatMap { [(cut, Step.arbiterCut($0, true)), (heal, Step.arbiterCut($0, false))] }
    }

    /// One fault, healed later: the steps and their times.
    static func fault(_ ids: [NodeID], _ rng: inout SeededRandom, at t: Instant, ttl: TimeSpan) -> [(Instant, Step)] {
        let heal = t + .ms(Int64.random(in: 300...(ttl.nanoseconds / 1_000_000 * 3 / 2), using: &rng))
        let victim = ids.randomElement(using: &rng)!
        switch Int.random(in: 0..<7, using: &rng) {
        case 0, 1:
            // A split of the nodes, one side also cut from the server now and then.
            var a = ids.shuffled(using: &rng)
            let b = Array(a.suffix(ids.count / 2))
            a.removeLast(ids.count / 2)
            var steps: [(Instant, Step)] = [(t, .partition([a, b])), (heal, .heal)]
            if rng.chance(0.6) {
                let cut = rng.chance(0.5) ? a : b
                for id in cut { steps += [(t, .arbiterCut(id, true)), (heal, .arbiterCut(id, false))] }
            }
            return steps
        case 2:
            return [(t, .arbiterCut(victim, true)), (heal, .arbiterCut(victim, false))]
        case 3:
            return ids.flatMap { [(t, Step.arbiterCut($0, true)), (heal, Step.arbiterCut($0, false))] }
        case 4:
            return [(t, .pause(victim)), (t + .ms(Int64.random(in: 100...2_500, using: &rng)), .resume(victim))]
        case 5:
            return [(t, .arbiterPause(true)), (heal, .arbiterPause(false))]
        default:
            return [(t, .crash(victim)), (heal, .restart(victim))]
        }
    }
}
