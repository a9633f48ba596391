import VigilCore

/// Percentiles of a sample, for reports.
public struct Distribution: Sendable {
    public var samples: [TimeSpan]
    public init(_ s: [TimeSpan]) { samples = s.sorted() }
    public func percentile(_ p: Double) -> TimeSpan? {
        guard !samples.isEmpty else { return nil }
        let i = min(samples.count - 1, Int((p / 100 * Double(samples.count)).rounded(.up)) - 1)
        return samples[max(0, i)]
    }
    public var summary: String {
        guard let mn = samples.first, let mx = samples.last else { return "no samples" }
        let ps = [50.0, 90, 99].map { "p\(Int($0)) \(percentile($0)!.milliseconds.rounded1)ms" }
        return "n=\(samples.count) min \(mn.milliseconds.rounded1)ms " + ps.joined(separator: " ") + " max \(mx.milliseconds.rounded1)ms"
    }
}


/// Measurements an operator asks for: "with these settings, how fast, how many false alarms?"
public enum Experiments {
    public struct DetectionResult: Sendable {
        /// From the victim's death to each survivor's peer-dead notice.
        public var detection: Distribution
        /// From the death to each survivor installing a view without the victim.
        public var install: Distribution
        public var missed: Int
        public var violations: [Violation]
    }

    /// Kills (or freezes) the highest-numbered node at a random phase after the cluster formed,
    /// `runs` times, and times detection and the new view on every survivor.
    public static func detection(config: CoreConfig, links: [LinkModel], runs: Int, freeze: Bool,
                                 seed: UInt64 = 1) -> DetectionResult {
        var det: [TimeSpan] = [], inst: [TimeSpan] = [], missed = 0
        var violations: [Violation] = []
        let t = config.timing
        let victim = config.nodes.map { $0 }.max()!
        for run in 0..<runs {
            var rng = SeededRandom(seed: seed &+ UInt64(run) &* 7919)
            let sim = Simulation(config: config, links: links, seed: seed &+ UInt64(run))
            for id in config.nodes { sim.schedule(.start(id), at: Instant(nanoseconds: Int64.random(in: 0..<t.interval.nanoseconds, using: &rng))) }
            let formedBy = Instant.zero + RandomScenario.quietPeriod(t)
            sim.run(until: formedBy)
            let t0 = formedBy + TimeSpan(nanoseconds: Int64.random(in: 0..<t.interval.nanoseconds, using: &rng))
            var seenDead: [NodeID: TimeSpan] = [:], seenView: [NodeID: TimeSpan] = [:]
            sim.observer = { now, node, n in
                guard now >= t0 else { return }
                switch n {
                case .peerDead(let m, _) where m.node == victim && seenDead[node] == nil:
                    seenDead[node] = now - t0
                case .viewInstalled(let v, _) where !v.nodes.contains(victim) && seenView[node] == nil:
                    seenView[node] = now - t0
                default: break
                }
            }
            sim.schedule(freeze ? .pause(victim) : .crash(victim), at: t0)
            sim.run(until: t0 + RandomScenario.quietPeriod(t) * 2)
            let survivors = config.nodes.filter { $0 != victim && sim.isRunning($0) }
            missed += survivors.filter { seenView[$0] == nil }.count
            det += survivors.compactMap { seenDead[$0] }
            inst += survivors.compactMap { seenView[$0] }
            violations += sim.violations
        }
        return DetectionResult(detection: Distribution(det), install: Distribution(inst), missed: missed, violations: violations)
    }

    public struct SteadyResult: Sendable {
        public var simulated: TimeSpan
        public var falseDeaths: Int
        public var viewChanges: Int
        public var linkDowns: Int
        public var violations: [Violation]
    }

    /// Runs a healthy cluster (with the given loss) for `duration` and counts false alarms.
    public static func steady(config: CoreConfig, links: [LinkModel], duration: TimeSpan, seed: UInt64 = 1) -> SteadyResult {
        let sim = Simulation(config: config, links: links, seed: seed)
        for id in config.nodes { sim.schedule(.start(id), at: .zero) }
        let formedBy = Instant.zero + RandomScenario.quietPeriod(config.timing)
        var deaths = 0, views = 0, linkDowns = 0
        sim.observer = { now, _, n in
            guard now > formedBy else { return }
            switch n {
            case .peerDead: deaths += 1
            case .viewInstalled: views += 1
            case .linkDown: linkDowns += 1
            default: break
            }
        }
        sim.run(until: formedBy + duration)
        return SteadyResult(simulated: duration, falseDeaths: deaths, viewChanges: views, linkDowns: linkDowns,
                            violations: sim.violations)
    }
}
