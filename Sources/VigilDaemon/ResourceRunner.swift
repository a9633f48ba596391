import Glibc
import VigilConfig
import VigilCore

/// Runs this node's resource operations (one thread each) and the periodic monitors of what runs
/// here, off the heartbeat path; outcomes go back to the loop through the wake pipe.
final class ResourceRunner: @unchecked Sendable {
    struct Done: Sendable {
        var id: String
        var op: ResourceOp
        var outcome: ResourceOutcome
    }

    private let cond = Condition()
    private var done: [Done] = []
    /// Resources running here, monitored: id -> next monitor.
    private var monitored: [String: Instant] = [:]
    /// Resources whose monitor was cancelled (maintenance); a monitor in flight is not rescheduled.
    private var unmonitored: Set<String> = []
    private let specs: [String: ResourceSpec]
    private let nodeName: String
    private let agents = ResourceAgentRunner()
    private let log: Log
    private let wake: WakePipe

    init(config: ClusterConfig, nodeName: String, log: Log, wake: WakePipe) {
        specs = Dictionary(config.resources.map { ($0.id, $0) }) { a, _ in a }
        self.nodeName = nodeName
        self.log = log
        self.wake = wake
    }

    func start() { spawnThread("vigild-monitor") { [self] in monitorLoop() } }

    func submit(_ o: ResourceOrder) {
        if o.op == .unmonitor {  // maintenance: no more monitors until the next probe or start
            cond.locked {
                monitored[o.id] = nil
                unmonitored.insert(o.id)
            }
            return
        }
        _ = cond.locked { unmonitored.remove(o.id) }
        if o.op == .stop || o.op == .start { cond.locked { monitored[o.id] = nil } }
        spawnThread("vigild-resource") { [self] in
            let outcome = run(o.id, o.op)
            finish(Done(id: o.id, op: o.op, outcome: outcome))
        }
    }

    func take() -> [Done] { cond.drain(&done) }

    private func finish(_ d: Done) {
        cond.lock()
        if d.outcome == .running, let s = specs[d.id], s.monitorInterval > .zero, !unmonitored.contains(d.id) {
            monitored[d.id] = Clock.monotonic() + s.monitorInterval
        } else if d.outcome != .running {
            monitored[d.id] = nil
        }
        done.append(d)
        cond.unlock()
        wake.poke(4)
    }

    /// One agent call, its exit code read as the supervisor's outcome.
    private func run(_ id: String, _ op: ResourceOp) -> ResourceOutcome {
        guard let spec = specs[id], let agent = AgentRef(spec.agent) else { return .failed }
        let action = op == .probe ? "monitor" : op.rawValue
        let timeout = op == .start ? spec.startTimeout : op == .stop ? spec.stopTimeout : spec.monitorTimeout
        let params = spec.params.map { ($0.0, $0.1.replacing("%n", with: nodeName)) }
        let r = agents.run(agent, action: action, instance: id, params: params, timeout: timeout,
                           interval: op == .monitor ? spec.monitorInterval : .zero)
        logOutput(log, "resource \(id) \(op.rawValue)", stdout: r.stdout, stderr: r.stderr, lines: 20)
        let outcome: ResourceOutcome
        switch (op, r.result) {
        // Stopping what is not installed here is a success (OCF: nothing of it can run).
        case (.stop, .ok), (.stop, .notRunning), (.stop, .notInstalled): outcome = .stopped
        case (.stop, _): outcome = .stopFailed
        case (_, .ok): outcome = .running
        case (.probe, .notRunning), (.monitor, .notRunning): outcome = .stopped
        // Hard errors (Pacemaker bans the node for them): not installed here; from a start or a
        // monitor also invalid arguments. A probe's "invalid arguments" proves nothing about
        // whether it runs, so it stays an ordinary failure (stopped, then placed).
        case (_, .notInstalled), (.start, .invalidArgument), (.monitor, .invalidArgument): outcome = .unavailable
        default: outcome = .failed
        }
        let level: Log.Level = outcome == .failed || outcome == .stopFailed || outcome == .unavailable ? .error : op == .monitor ? .debug : .notice
        log.log(level, "resource \(id) \(op.rawValue): \(r.result) -> \(outcome.rawValue) (\(r.duration.milliseconds.rounded1) ms)")
        return outcome
    }

    private func monitorLoop() {
        while true {
            let now = Clock.monotonic()
            let due = cond.locked { monitored.filter { $0.value <= now }.map(\.key) }
            for id in due {
                cond.locked { monitored[id] = nil }
                let outcome = run(id, .monitor)
                if outcome == .running {
                    if let s = specs[id] { cond.locked { if !unmonitored.contains(id) { monitored[id] = Clock.monotonic() + s.monitorInterval } } }
                } else {
                    finish(Done(id: id, op: .monitor, outcome: outcome))
                }
            }
            usleep(50_000)
        }
    }
}
