import VigilCore

/// Fencing experiments: two-node fence races, and the time from loss to a confirmed fence.
public enum FenceExperiments {
    public struct RaceResult: Sendable, CustomStringConvertible {
        public var runs = 0
        /// Exactly one node left running.
        public var oneSurvivor = 0
        /// Of those, how often node 1 (the one with the static delay) survived.
        public var node1Survived = 0
        /// Both powered off: the race every delay exists to prevent.
        public var bothOff = 0
        /// Neither fenced the other (should not happen with working devices).
        public var bothRunning = 0
        /// With a service placed: the survivor was the node running it (no second outage).
        public var servicesSurvived = 0
        var withServices = false
        public var violations: [Violation] = []
        public var description: String {
            "runs \(runs): one survivor \(oneSurvivor) (node1 \(node1Survived)"
                + (withServices ? ", the services' node \(servicesSurvived)), " : "), ") + "both off \(bothOff), both running \(bothRunning), violations \(violations.count)"
        }
    }

    /// A two-node cluster (two_node quorum) splits completely; both halves stay quorate and race to
    /// fence each other with a device of the given latency. `staticDelay` is node 1's fence_delay
    /// (others wait it before fencing node 1); `randomDelay` is the random delay's maximum. With
    /// `servicesOn`, a resource of priority 10 runs on that node before the split (placed there),
    /// and `priorityDelay` is the fencing's priority delay.
    public static func twoNodeRace(runs: Int, staticDelay: TimeSpan, randomDelay: TimeSpan,
                                   priorityDelay: TimeSpan = .zero, servicesOn: NodeID? = nil,
                                   latencyMs: ClosedRange<Int64> = 200...1500, seed: UInt64 = 1) -> RaceResult {
        var r = RaceResult()
        r.withServices = servicesOn != nil
        var config = CoreConfig.uniform(nodes: 2, links: 2, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        config.fencing.enabled = true
        config.fencing.levels = [NodeID(1): [["power"]], NodeID(2): [["power"]]]
        if staticDelay > .zero { config.fencing.delay[NodeID(1)] = staticDelay }
        config.fencing.randomDelayMax = randomDelay
        config.fencing.priorityDelay = priorityDelay
        if let servicesOn {
            config.resources = ResourcePolicy(units: [PlacementUnit(resources: ["svc"], location: [servicesOn: 100])])
            config.resources.priority = ["svc": 10]
        }
        for run in 0..<runs {
            var rng = SeededRandom(seed: seed &+ UInt64(run) &* 104_729)
            let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: seed &+ UInt64(run))
            sim.devices["power"] = FenceDeviceModel(.works, latencyMs: latencyMs)
            sim.schedule(.start(NodeID(1)), at: .zero)
            sim.schedule(.start(NodeID(2)), at: Instant.zero + .ms(Int64.random(in: 0...5, using: &rng)))
            let split = Instant.zero + .seconds(servicesOn == nil ? 1 : 2) + .us(Int64.random(in: 0...10_000, using: &rng))
            sim.schedule(.partition([[NodeID(1)], [NodeID(2)]]), at: split)
            sim.run(until: split)
            let ranServices = sim.resourceActive["svc", default: []]
            sim.run(until: split + staticDelay + randomDelay + priorityDelay + .ms(latencyMs.upperBound * 3) + .seconds(1))
            let up = [NodeID(1), NodeID(2)].filter { sim.isRunning($0) }
            r.runs += 1
            switch up.count {
            case 1:
                r.oneSurvivor += 1
                if up == [NodeID(1)] { r.node1Survived += 1 }
                if servicesOn != nil, ranServices == Set(up) { r.servicesSurvived += 1 }
            case 0: r.bothOff += 1
            default: r.bothRunning += 1
            }
            r.violations += sim.violations
        }
        return r
    }

    public struct FenceTimeResult: Sendable {
        /// From the victim's silent death to the executor's success notice.
        public var lossToFenced: Distribution
        public var violations: [Violation]
    }

    /// Silent death of the highest node, then time until the cluster counts it fenced.
    public static func lossToFenced(config base: CoreConfig, links: [LinkModel], runs: Int,
                                    latencyMs: ClosedRange<Int64>, seed: UInt64 = 1) -> FenceTimeResult {
        var config = base
        let victim = config.nodes.map { $0 }.max()!
        config.fencing.enabled = true
        for n in config.nodes { config.fencing.levels[n] = [["power"]] }
        var samples: [TimeSpan] = []
        var violations: [Violation] = []
        for run in 0..<runs {
            let sim = Simulation(config: config, links: links, seed: seed &+ UInt64(run))
            sim.devices["power"] = FenceDeviceModel(.works, latencyMs: latencyMs)
            for id in config.nodes { sim.schedule(.start(id), at: .zero) }
            let t0 = Instant.zero + RandomScenario.quietPeriod(config.timing) + .us(Int64(run % 997) * 10)
            var done: TimeSpan?
            sim.observer = { now, _, n in
                if case let .fence(.finished(m, _, r, _, _)) = n, m.node == victim, r.isSuccess, done == nil { done = now - t0 }
            }
            sim.schedule(.partition([config.nodes.filter { $0 != victim }, [victim]]), at: t0)
            sim.run(until: t0 + .ms(latencyMs.upperBound) + RandomScenario.quietPeriod(config.timing) * 2)
            if let d = done { samples.append(d) }
            violations += sim.violations
        }
        return FenceTimeResult(lossToFenced: Distribution(samples), violations: violations)
    }
}
