import FoundationEssentials
import Glibc
import VigilConfig
import VigilCore
import VigilStatus

/// Runs fence orders (one thread each: two targets are fenced in parallel) and device monitors on
/// their own threads, never on the heartbeat path. The heartbeat loop submits orders and collects
/// results (woken through the wake pipe).
final class FenceRunner: @unchecked Sendable {
    struct Outcome: Sendable {
        var order: UInt64
        var target: NodeID
        var result: FenceResult
        var detail: String
    }

    private let cond = Condition()
    private var aborted: Set<UInt64> = []
    /// Orders in progress and the process group of the plugin each runs now (0 between plugins).
    private var running: [UInt64: pid_t] = [:]
    private var outcomes: [Outcome] = []
    private var states: [String: StatusSnapshot.FenceDeviceState] = [:]
    /// Filled by the start-up check (agents found, metadata read) on the monitor thread.
    private var devices: [String: FenceDevice] = [:]
    private var checked = false
    /// The devices as the running document says (replaced by `update`; read under `cond`).
    private var config: ClusterConfig
    private let log: Log
    private let wake: WakePipe

    init(config: ClusterConfig, log: Log, wake: WakePipe) {
        self.config = config
        self.log = log
        self.wake = wake
        for spec in config.fencing.devices {
            states[spec.name] = StatusSnapshot.FenceDeviceState(
                name: spec.name, agent: spec.agent, protocol: spec.kind.rawValue, state: "unknown", checkedAt: nil, message: nil)
        }
    }

    /// Checks the devices (agents found, metadata read: it takes a plugin run each, so not on the
    /// start-up path), then monitors them.
    func start() {
        spawnThread("vigild-fence-monitor") { [self] in
            check(config)
            monitorLoop()
        }
    }

    /// The cluster's document changed its devices or levels: checked again (off the heartbeat
    /// path); orders use the new devices once the check is done.
    func update(_ c: ClusterConfig) {
        spawnThread("vigild-fence-check") { [self] in check(c) }
    }

    private func check(_ c: ClusterConfig) {
        let (found, errors) = DeviceFence.validate(c)
        for e in errors { log.log(.error, e.description) }
        cond.lock()
        config = c
        devices = Dictionary(found.map { ($0.spec.name, $0) }) { a, _ in a }
        for spec in c.fencing.devices where states[spec.name] == nil {
            states[spec.name] = StatusSnapshot.FenceDeviceState(
                name: spec.name, agent: spec.agent, protocol: spec.kind.rawValue, state: "unknown", checkedAt: nil, message: nil)
        }
        for name in states.keys where !c.fencing.devices.contains(where: { $0.name == name }) { states[name] = nil }
        for spec in c.fencing.devices where devices[spec.name] == nil { states[spec.name]?.state = "missing" }
        checked = true
        cond.broadcast()
        cond.unlock()
        log.log(.info, "fencing: \(found.count) of \(c.fencing.devices.count) device(s) usable")
    }

    /// A device, once the start-up check is done (an order waits for it).
    private func device(_ name: String) -> FenceDevice? {
        cond.lock()
        defer { cond.unlock() }
        while !checked { cond.wait() }
        return devices[name]
    }

    // MARK: called from the heartbeat thread (short locks only)

    func submit(_ o: FenceOrder) {
        cond.locked { running[o.id] = 0 }
        spawnThread("vigild-fence") { [self] in runOrder(o) }
    }

    func abort(_ id: UInt64) {
        cond.lock()
        if let pgid = running[id] {
            aborted.insert(id)
            if pgid > 0 { kill(-pgid, SIGKILL) }
        }
        cond.unlock()
    }

    func takeOutcomes() -> [Outcome] { cond.drain(&outcomes) }

    func deviceStates() -> [StatusSnapshot.FenceDeviceState] {
        cond.locked { states.values.sorted { $0.name < $1.name } }
    }

    // MARK: worker threads

    private func runOrder(_ o: FenceOrder) {
        let outcome = execute(o)
        cond.lock()
        running[o.id] = nil
        let wasAborted = aborted.remove(o.id) != nil
        if !wasAborted { outcomes.append(outcome) }
        cond.unlock()
        if wasAborted { log.log(.warning, "fence order \(o.id) on \(name(o.target.node)) aborted (quorum lost or operator)") }
        wake.poke(3)
    }

    private func name(_ n: NodeID) -> String { cond.locked { config.node(n)?.name } ?? "node\(n.rawValue)" }

    /// Every device of the level in order; all must succeed.
    private func execute(_ o: FenceOrder) -> Outcome {
        let target = name(o.target.node)
        var details: [String] = []
        for devName in o.devices {
            guard let d = device(devName) else {
                return Outcome(order: o.id, target: o.target.node, result: .failed, detail: "\(devName): agent missing (see the start-up log)")
            }
            let op: DeviceOp = switch o.action { case .off: .off; case .reboot: .reboot; case .on: .on }
            let plug = d.spec.plug(for: o.target.node, name: target)
            log.log(.notice, "fencing \(target): \(devName) (\(d.spec.agent)) \(op.rawValue) plug=\(plug), level \(o.level)", peer: target)
            if cond.locked({ aborted.contains(o.id) }) { return Outcome(order: o.id, target: o.target.node, result: .aborted, detail: "aborted") }
            let a = d.run(op, target: plug, nodeName: target, onStart: { [self] pid in
                cond.locked { if running[o.id] != nil { running[o.id] = pid } }
            })
            cond.locked { if running[o.id] != nil { running[o.id] = 0 } }
            logOutput(log, "plugin \(devName)", stdout: a.run.stdout, stderr: a.run.stderr, peer: target)
            details.append("\(devName): \(a.message) (\(a.run.duration.milliseconds.rounded1) ms)")
            switch a.verdict {
            case .ok: continue
            case .failed:
                log.log(.error, "fencing \(target) with \(devName) failed: \(a.message)", peer: target)
                return Outcome(order: o.id, target: o.target.node, result: .failed, detail: details.joined(separator: "; "))
            case .timeout:
                log.log(.error, "fencing \(target) with \(devName) timed out after \(d.spec.timeout): \(a.message)", peer: target)
                return Outcome(order: o.id, target: o.target.node, result: .timeout, detail: details.joined(separator: "; "))
            }
        }
        return Outcome(order: o.id, target: o.target.node, result: .success, detail: details.joined(separator: "; "))
    }

    /// Periodic `monitor` (fence-agents) or `status` (cluster-glue) of each device.
    private func monitorLoop() {
        var next: [String: Instant] = [:]
        while true {
            let (devices, specs) = cond.locked { (self.devices, config.fencing.devices) }
            let now = Clock.monotonic()
            var soonest = now + .seconds(5)
            for spec in specs where spec.monitorInterval > .zero {
                guard let d = devices[spec.name] else { continue }
                let due = next[spec.name] ?? now
                if due <= now {
                    let a = d.run(.monitor, timeout: spec.timeout)
                    let state = a.verdict == .ok ? "ok" : "failed"
                    let before = cond.locked { states[spec.name]?.state }
                    cond.locked {
                        states[spec.name]?.state = state
                        states[spec.name]?.checkedAt = Clock.wallISO()
                        states[spec.name]?.message = a.verdict == .ok ? nil : a.message
                    }
                    if before != state {
                        log.log(state == "ok" ? .notice : .error, "fence device \(spec.name) monitor: \(state)" + (a.verdict == .ok ? "" : ": \(a.message)"))
                        if a.verdict != .ok { logOutput(log, "plugin \(spec.name)", stdout: a.run.stdout, stderr: a.run.stderr) }
                    }
                    next[spec.name] = Clock.monotonic() + spec.monitorInterval
                }
                soonest = min(soonest, next[spec.name] ?? soonest)
            }
            let wait = soonest - Clock.monotonic()
            if wait > .zero { usleep(UInt32(min(wait.nanoseconds / 1000, 5_000_000))) }
        }
    }
}

extension Substring {
    var trimmingSpaces: String { String(self).trimmed }
}

/// The fence history: every fence result this node saw (its own attempts and others'), as JSON
/// lines in a file that survives restarts. Appends go through a writer thread.
final class FenceHistory: @unchecked Sendable {
    private let path: String
    private let cond = Condition()
    private var records: [ClusterEvent] = []
    private var unwritten: [ClusterEvent] = []
    static let keep = 1000

    init(path: String, log: Log) {
        self.path = path
        if let data = readFile(path) {
            let decoder = JSONDecoder()
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let e = try? decoder.decode(ClusterEvent.self, from: Data(line)) { records.append(e) }
            }
            records = Array(records.suffix(FenceHistory.keep))
            log.log(.info, "fence history: \(records.count) record(s) from \(path)")
        }
        makeDirectories(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]))
        spawnThread("vigild-history") { [self] in writer(log) }
    }

    func append(_ e: ClusterEvent) {
        cond.lock()
        records.append(e)
        if records.count > FenceHistory.keep { records.removeFirst(records.count - FenceHistory.keep) }
        unwritten.append(e)
        cond.signal()
        cond.unlock()
    }

    func all() -> [ClusterEvent] { cond.locked { records } }

    private func writer(_ log: Log) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        while true {
            cond.lock()
            while unwritten.isEmpty { cond.wait() }
            let batch = unwritten
            unwritten = []
            cond.unlock()
            let text = batch.compactMap { try? encoder.encode($0) }.map { String(decoding: $0, as: UTF8.self) + "\n" }.joined()
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            if fd < 0 || !SocketIO.writeFile(fd, text) {
                log.log(.error, "fence history: cannot write \(path): \(String(cString: strerror(errno)))")
            }
            if fd >= 0 {
                fsync(fd)
                close(fd)
            }
        }
    }
}
