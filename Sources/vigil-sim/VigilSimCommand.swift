import ArgumentParser
import VigilStatus
import Foundation
import VigilConfig
import VigilCore
import VigilSim

@main
struct VigilSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-sim",
        abstract: "Deterministic simulation of a Vigil cluster over the real protocol core.",
        discussion: """
            Random sweep:   vigil-sim --nodes 5 --seeds 1000
            Replay a seed:  vigil-sim --nodes 5 --seed 42 --trace
            Trace digests:  vigil-sim --nodes 3 --seeds 100 --digest
            Your timing:    vigil-sim --config vigil.conf --loss 2% --scenario silent-death
            Exit status of sweeps and replays: 0 no violation, 1 a safety rule broke, 2 only liveness rules.
            """,
        version: VigilVersion.string)

    @Option(help: "Nodes in the simulated cluster (random sweep).") var nodes = 5
    @Option(help: "How many random seeds to run.") var seeds = 100
    @Option(help: "First seed of the sweep.") var firstSeed: UInt64 = 1
    @Option(help: "Seeds run side by side (default: one per core). Results do not depend on it.") var jobs: Int?
    @Option(help: "Run only this seed (replay).") var seed: UInt64?
    @Flag(help: "Print every notice of every node (with --seed).") var trace = false
    @Flag(help: "Print one hash of every effect of every node per seed (proves a change kept behaviour).")
    var digest = false
    var fenceLatencyMs: ClosedRange<Int64> { fenceLatency.range }
    @Flag(help: "Fault injection for testing the simulator itself: turn off the self-pause rule.")
    var plantBugNoSelfPause = false
    @Flag(help: "Random sweep with fencing: devices, failing levels, watchdog self-fencing, and resources.") var fencing = false
    @Flag(help: "Fault injection for testing the simulator itself: resources move before their lost node is fenced.")
    var plantBugNoFenceGate = false
    @Flag(help: "Random attribute writes and deletes (any node's, transient and permanent, some dampened) join the faults; with --fencing, resources get location rules and migrate-on-red health.")
    var attributes = false
    @Flag(help: "Fault injection for testing the simulator itself: placement ignores location rules and node health.")
    var plantBugIgnoreRules = false
    @Flag(help: "With --fencing: ordering constraints (mandatory and optional) and an advisory colocation between the resources.")
    var orders = false
    @Flag(help: "Fault injection for testing the simulator itself: the owner ignores ordering constraints.")
    var plantBugIgnoreOrders = false
    @Flag(help: "With --fencing: anonymous clones (one on every node, and a bounded group clone interleaved after it) ordered before and colocated with the other resources.")
    var clones = false
    @Flag(help: "With --fencing: a promotable clone (one promoted instance, chosen by promotion scores that random writes change).")
    var promotable = false
    @Flag(help: "Fault injection for testing the simulator itself: a promote does not wait for the fence of a lost node.")
    var plantBugPromoteBeforeFence = false
    @Flag(help: "With --fencing: live configuration changes (resources added, removed, redefined, constraints moved), taken by each node at its own moment.")
    var reconfigure = false
    @Flag(help: "Fault injection for testing the simulator itself: a node obeys an owner that runs another resource policy.")
    var plantBugObeyOtherPolicy = false
    @Flag(help: "With --reconfigure: changes go through the replicated document, applied on one node (now and then two at once on two nodes) and spread by the nodes themselves.")
    var documents = false
    @Flag(help: "Fault injection for testing the simulator itself: a node takes any other copy of the document a member runs, even an older one.")
    var plantBugTakeAnyDocument = false

    @Flag(help: "Core microbenchmark: time per heartbeat frame and per tick through Node.handle at 3, 16 and 64 nodes (release build).")
    var benchCore = false
    @Option(help: "Replays per size for --bench-core.") var replays = 20
    @Option(help: "Cluster sizes for --bench-core, e.g. 3,16,64.") var benchSizes = "3,16,64"

    @Option(help: "Cluster config file: simulate its nodes and timing.") var config: String?
    @Option(help: "Scenario with --config: silent-death, frozen, steady, fence-race, fence-time.") var scenario: Scenario = .silentDeath
    @Option(help: "Fence device latency range in ms for fence-race and fence-time, e.g. 200-1500.") var fenceLatency = MsRange(200...1500)
    @Option(help: "Loss on every link, e.g. 2%.") var loss: Percent = Percent(value: 0)
    @Option(help: "Loss on one link only, e.g. 5% (link 0), for the steady scenario.") var lossOneLink: Percent?
    @Option(help: "Runs of the measured scenario.") var runs = 200
    @Option(help: "Simulated seconds for the steady scenario.") var seconds = 600.0
    @Option(help: "Heartbeat interval override in ms (without --config).") var interval: Int64?
    @Option(help: "Deadline override in ms (without --config).") var deadline: Int64?

    mutating func run() throws {
        if benchCore { return CoreBench(sizes: benchSizes.split(separator: ",").compactMap { Int($0) }, replays: replays).run() }
        if config != nil || scenario != .silentDeath || interval != nil {
            return try measure()
        }
        if let seed {
            return replay(seed)
        }
        sweep()
    }

    private func sweep() {
        let all = Array(firstSeed..<(firstSeed + UInt64(seeds)))
        let jobs = max(1, min(jobs ?? ProcessInfo.processInfo.activeProcessorCount, all.count))
        let parts = SweepParts(jobs)
        let cmd = self
        // Seed j, j + jobs, ... on job j: each seed's run is the same wherever it runs.
        DispatchQueue.concurrentPerform(iterations: jobs) { j in
            parts.set(j, cmd.sweep(Array(stride(from: j, to: all.count, by: jobs).map { all[$0] })))
        }
        let r = parts.merged()
        report(r)
    }

    private func sweep(_ seeds: [UInt64]) -> SweepResult {
        Sweep.run(nodes: nodes, seeds: seeds,
                  selfPauseRule: !plantBugNoSelfPause, fencing: fencing, fenceGate: !plantBugNoFenceGate,
                  attributes: attributes, applyRules: !plantBugIgnoreRules, orders: orders,
                  applyOrders: !plantBugIgnoreOrders, clones: clones, promotable: promotable,
                  promoteGate: !plantBugPromoteBeforeFence, reconfigure: reconfigure,
                  policyGate: !plantBugObeyOtherPolicy, documents: documents,
                  newestDocumentWins: !plantBugTakeAnyDocument, digest: digest)
    }

    private func report(_ r: SweepResult) {
        for (seed, d) in r.digests { print("seed \(seed) digest \(d)") }
        let flags = (plantBugNoSelfPause ? " --plant-bug-no-self-pause" : "") + (fencing ? " --fencing" : "")
            + (plantBugNoFenceGate ? " --plant-bug-no-fence-gate" : "") + (attributes ? " --attributes" : "")
            + (plantBugIgnoreRules ? " --plant-bug-ignore-rules" : "") + (orders ? " --orders" : "")
            + (plantBugIgnoreOrders ? " --plant-bug-ignore-orders" : "") + (clones ? " --clones" : "")
            + (promotable ? " --promotable" : "") + (plantBugPromoteBeforeFence ? " --plant-bug-promote-before-fence" : "")
            + (reconfigure ? " --reconfigure" : "") + (plantBugObeyOtherPolicy ? " --plant-bug-obey-other-policy" : "")
            + (documents ? " --documents" : "") + (plantBugTakeAnyDocument ? " --plant-bug-take-any-document" : "")
        for f in r.failures.prefix(10) {
            print("seed \(f.seed): \(f.violations[0])")
            print("  replay: vigil-sim --nodes \(nodes) --seed \(f.seed)\(flags) --trace")
        }
        print("simulated \(Int(r.simulated.seconds)) s, \(r.events) events")
        if fencing {
            print("fencing: \(r.fence.totalCuts) power cuts, \(r.fence.watchdogResets) watchdog resets,",
                  "\(r.fence.successes) successes, \(r.fence.failedAttempts) failed attempts (escalated),",
                  "\(r.fence.duplicateCuts) incarnations cut twice")
        }
        print("seeds: \(r.seeds), violations: \(r.failures.count)")
        if !r.failures.isEmpty { Foundation.exit(VigilSimCommand.exitCode(r.failures.flatMap(\.violations))) }
    }

    /// 1 if any safety rule broke, 2 if only liveness rules did (see `Rule`).
    static func exitCode(_ vs: [Violation]) -> Int32 { vs.allSatisfy(\.rule.isLiveness) ? 2 : 1 }

    private func replay(_ seed: UInt64) {
        let sc = RandomScenario(nodes: nodes, seed: seed, selfPauseRule: !plantBugNoSelfPause, fencing: fencing,
                                fenceGate: !plantBugNoFenceGate, attributes: attributes, applyRules: !plantBugIgnoreRules,
                                orders: orders, applyOrders: !plantBugIgnoreOrders, clones: clones, promotable: promotable,
                                promoteGate: !plantBugPromoteBeforeFence, reconfigure: reconfigure,
                                policyGate: !plantBugObeyOtherPolicy, documents: documents,
                                newestDocumentWins: !plantBugTakeAnyDocument)
        print("timing: interval \(sc.config.timing.interval), deadline \(sc.config.timing.deadline); links:",
              sc.links.map { "loss \(Int($0.loss * 1000))‰ delay \($0.delay) jitter \($0.jitter)" }.joined(separator: "; "))
        for (t, s) in sc.steps.sorted(by: { $0.0 < $1.0 }) where trace { print("t=\(t) step \(s)") }
        let sim = sc.run(seed: seed, observer: trace ? { t, n, notice in
            if case .rejected = notice { return }
            print("t=\(t) \(n) \(notice)")
        } : nil, digest: digest)
        if digest { print("seed \(seed) digest \(sim.digest)") }
        for v in sim.violations { print("violation: \(v)") }
        print("seeds: 1, violations: \(sim.violations.isEmpty ? 0 : 1)")
        if !sim.violations.isEmpty { Foundation.exit(VigilSimCommand.exitCode(sim.violations)) }
    }
}

/// The parts of a sweep run side by side (`--jobs`), one slot per job.
private final class SweepParts: @unchecked Sendable {
    private var parts: [SweepResult]
    private let lock = NSLock()

    init(_ jobs: Int) { parts = Array(repeating: SweepResult(), count: jobs) }

    func set(_ j: Int, _ r: SweepResult) { lock.withLock { parts[j] = r } }

    func merged() -> SweepResult {
        lock.withLock { parts.reduce(into: SweepResult()) { $0.merge($1) } }
    }
}
