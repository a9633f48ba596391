import Glibc
import VigilConfig
import VigilCore

/// Runs this node's resource operations (one thread each) and the recurring monitors the core
/// asks for (`ResourceOp.monitor`), off the heartbeat path; outcomes go back to the loop through
/// the wake pipe. It keeps no policy of its own: which resources are monitored is the core's call.
final class ResourceRunner: @unchecked Sendable {
    struct Done: Sendable {
        var id: String
        var op: ResourceOp
        var outcome: ResourceOutcome
    }

    private let cond = Condition()
    private var done: [Done] = []
    /// Recurring monitors the core asked for: id -> interval and generation. A monitor in flight
    /// whose entry was removed or replaced meanwhile (a stop, start, unmonitor, or a new monitor
    /// after a restart) is neither rescheduled nor reported.
    private var monitors: [String: (every: TimeSpan, generation: UInt64, promoted: Bool)] = [:]
    private var generation: UInt64 = 0
    /// When each monitor runs next (absent while it runs).
    private var due: [String: Instant] = [:]
    /// What each resource runs: the config's, replaced by `update` (a reload), and, for what may
    /// be active here, the one it was started (or found running) with: its monitors, demote and
    /// stop run that one, so a resource redefined or removed live is stopped as it was started.
    private var current: [String: Definition] = [:]
    private var inForce: [String: Definition] = [:]
    private let nodeName: String
    /// Every configured node in config order (instance numbers, notification lists).
    private let nodes: [(id: NodeID, name: String)]
    private let agents: ResourceAgentRunner
    private let log: Log
    private let wake: WakePipe

    init(config: ClusterConfig, nodeName: String, log: Log, wake: WakePipe, context: AgentContext? = nil) {
        var a = ResourceAgentRunner()
        a.context = context
        agents = a
        self.nodeName = nodeName
        current = ResourceRunner.definitions(config, nodeName: nodeName)
        nodes = config.nodes.map { (id: $0.id, name: $0.name) }
        self.log = log
        self.wake = wake
    }

    func start() { spawnThread("vigild-monitor") { [self] in monitorLoop() } }

    /// The resources of a reloaded config (the core adopts its policy right after).
    func update(_ config: ClusterConfig) {
        let d = ResourceRunner.definitions(config, nodeName: nodeName)
        cond.locked { current = d }
    }

    /// The definition an operation runs: a start or probe the current one (in force from now on),
    /// anything else the one in force.
    private func definition(_ id: String, for op: ResourceOp) -> Definition? {
        cond.locked {
            // (A probe of a resource the file no longer has, after maintenance, keeps the old one.)
            if op == .start || op == .probe, let d = current[id] { inForce[id] = d }
            return inForce[id] ?? current[id]
        }
    }

    func submit(_ o: ResourceOrder) {
        switch o.op {
        case .monitor:
            cond.locked {
                generation += 1
                monitors[o.id] = (o.every, generation, o.promoted)
                due[o.id] = Clock.monotonic() + o.every
            }
            return
        case .unmonitor, .stop, .start, .promote, .demote:
            cond.locked {
                monitors[o.id] = nil
                due[o.id] = nil
            }
            if o.op == .unmonitor { return }
        case .probe, .notify:
            break
        }
        let d = definition(o.id, for: o.op)
        spawnThread("vigild-resource") { [self] in
            let outcome = run(o.id, o.op, d, notify: o.notify)
            if o.op == .stop && outcome == .stopped { cond.locked { if inForce[o.id] == d { inForce[o.id] = nil } } }
            finish(Done(id: o.id, op: o.op, outcome: outcome))
        }
    }

    func take() -> [Done] { cond.drain(&done) }

    private func finish(_ d: Done) {
        cond.locked { done.append(d) }
        wake.poke(4)
    }

    /// One agent call, its exit code read as the supervisor's outcome. `promoted`: the role a
    /// recurring monitor checks (passed as `OCF_RESKEY_CRM_meta_role` for a promotable clone).
    private func run(_ id: String, _ op: ResourceOp, _ d: Definition?, promoted: Bool = false, notify: NotifyInfo? = nil) -> ResourceOutcome {
        guard let d, let agent = AgentRef(d.spec.agent) else {
            // Nothing says how to run it: a stop that cannot run is a failed stop (fenced, never assumed).
            log.log(.error, "resource \(id) \(op.rawValue): no definition of it here (not in the config file this node read)")
            return op == .stop ? .stopFailed : .failed
        }
        let spec = d.spec
        let action = op == .probe ? "monitor" : op.rawValue
        let timeouts: [ResourceOp: TimeSpan] = [.start: spec.startTimeout, .stop: spec.stopTimeout, .promote: spec.promoteTimeout,
                                                .demote: spec.demoteTimeout, .notify: spec.notifyTimeout]
        var params = spec.params.map { ($0.0, $0.1.replacing("%n", with: nodeName)) } + d.cloneMeta
        if let notify { params += notifyMeta(id, notify) }
        var interval = TimeSpan.zero
        if op == .monitor {
            interval = promoted && spec.promotedMonitorInterval > .zero ? spec.promotedMonitorInterval : spec.monitorInterval
            if d.promotable { params.append(("CRM_meta_role", promoted ? "Promoted" : "Unpromoted")) }
        }
        let r = agents.run(agent, action: action, instance: id, params: params, timeout: timeouts[op] ?? spec.monitorTimeout,
                           interval: interval)
        logOutput(log, "resource \(id) \(op.rawValue)", stdout: r.stdout, stderr: r.stderr, lines: 20)
        let outcome: ResourceOutcome
        switch (op, r.result) {
        // Stopping what is not installed here is a success (OCF: nothing of it can run).
        case (.stop, .ok), (.stop, .notRunning), (.stop, .notInstalled): outcome = .stopped
        case (.stop, _): outcome = .stopFailed
        case (.promote, .ok): outcome = .promoted
        case (_, .ok): outcome = .running  // a demote's too: unpromoted
        case (.probe, .runningPromoted), (.monitor, .runningPromoted): outcome = .promoted
        case (.probe, .failedPromoted), (.monitor, .failedPromoted): outcome = .failedPromoted
        case (.probe, .notRunning), (.monitor, .notRunning): outcome = .stopped
        // Hard errors (Pacemaker bans the node for them): not installed here; from a start or a
        // monitor also invalid arguments. A probe's "invalid arguments" proves nothing about
        // whether it runs, so it stays an ordinary failure (stopped, then placed).
        case (_, .notInstalled), (.start, .invalidArgument), (.monitor, .invalidArgument): outcome = .unavailable
        default: outcome = .failed
        }
        let level: Log.Level = [.failed, .stopFailed, .unavailable, .failedPromoted].contains(outcome) ? .error : op == .monitor ? .debug : .notice
        log.log(level, "resource \(id) \(op.rawValue): \(r.result) -> \(outcome.rawValue) (\(r.duration.milliseconds.rounded1) ms)")
        return outcome
    }

    /// An anonymous clone's instance on a node is numbered by the node's place in the config (0 for
    /// the first node): stable, and the same in status. Pacemaker numbers anonymous instances
    /// arbitrarily too; no agent reads more than "a number".
    static func definitions(_ config: ClusterConfig, nodeName: String) -> [String: Definition] {
        var out: [String: Definition] = [:]
        let instance = config.nodes.firstIndex { $0.name == nodeName } ?? 0
        for r in config.resources {
            var d = Definition(spec: r, hash: config.definition(of: r), promotable: config.clone(of: r.id)?.promotable == true)
            if let meta = config.cloneMeta(of: r.id) {
                d.cloneMeta = [("CRM_meta_clone", String(instance))] + meta.map { ("CRM_meta_" + $0.0.replacing("-", with: "_"), $0.1) }
            }
            out[r.id] = d
        }
        return out
    }

    /// A clone notification's variables (Pacemaker's pe_notif.c): the phase and operation, and
    /// for each list the instances ("id:N", N as in CRM_meta_clone) and their nodes, with the legacy
    /// master/slave copies of promoted/unpromoted that DRBD and PAF read.
    func notifyMeta(_ id: String, _ n: NotifyInfo) -> [(String, String)] {
        func names(_ s: NodeSet) -> String { nodes.filter { s.contains($0.id) }.map(\.name).joined(separator: " ") }
        func instances(_ s: NodeSet) -> String {
            nodes.enumerated().filter { s.contains($0.element.id) }.map { "\(id):\($0.offset)" }.joined(separator: " ")
        }
        var out = [("CRM_meta_notify_type", n.phase == .pre ? "pre" : "post"), ("CRM_meta_notify_operation", n.operation.word)]
        let unpromoted = n.active.subtracting(n.promoted)
        for (key, set) in [("start", n.start), ("stop", n.stop), ("active", n.active), ("promote", n.promote), ("demote", n.demote),
                           ("promoted", n.promoted), ("unpromoted", unpromoted), ("master", n.promoted), ("slave", unpromoted)] {
            out += [("CRM_meta_notify_\(key)_resource", instances(set)), ("CRM_meta_notify_\(key)_uname", names(set))]
        }
        let all = NodeSet(nodes.map(\.id))
        out += [("CRM_meta_notify_inactive_resource", instances(all.subtracting(n.active))),
                ("CRM_meta_notify_available_uname", names(n.available)), ("CRM_meta_notify_all_uname", names(all))]
        return out
    }

    private func monitorLoop() {
        while true {
            let now = Clock.monotonic()
            let ready = cond.locked {
                let ids = due.filter { $0.value <= now }.map(\.key).sorted()
                for id in ids { due[id] = nil }
                return ids.compactMap { id in monitors[id].map { (id, $0.generation, $0.promoted) } }
            }
            for (id, gen, promoted) in ready {
                let outcome = run(id, .monitor, definition(id, for: .monitor), promoted: promoted)
                let healthy: ResourceOutcome = promoted ? .promoted : .running
                let current = cond.locked {
                    guard let m = monitors[id], m.generation == gen else { return false }  // ended while it ran
                    if outcome == healthy { due[id] = Clock.monotonic() + m.every } else { monitors[id] = nil }
                    return true
                }
                if current && outcome != healthy { finish(Done(id: id, op: .monitor, outcome: outcome)) }
            }
            usleep(50_000)
        }
    }
}

extension ResourceRunner {
    /// One resource as the agent sees it: its section, its clone's meta variables
    /// (`OCF_RESKEY_CRM_meta_clone`, `_clone_max`, ...) and whether its monitors get a role.
    struct Definition: Equatable {
        var spec: ResourceSpec
        /// `ClusterConfig.definition(of:)`: what tells two definitions apart.
        var hash: UInt64
        var promotable: Bool
        var cloneMeta: [(String, String)] = []

        static func == (a: Definition, b: Definition) -> Bool { a.hash == b.hash && a.spec.id == b.spec.id }
    }
}
