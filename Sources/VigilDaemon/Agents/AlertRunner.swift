import Glibc
import VigilConfig
import VigilCore
import VigilStatus

/// Runs the `[[alert]]` programs for this node's events, Pacemaker-style (`CRM_alert_*`), on a
/// thread of its own: the heartbeat loop only queues the event. Each alert runs once per
/// recipient ("%n" in it is this node's name), with its timeout (the process group is killed at
/// it). The runs for one event go at once, each on its own thread (a slow or hanging agent delays
/// no other alert of that event), and the next event's runs start when they have all ended (each
/// agent sees the events in order). A failing or hanging agent is logged and counted
/// (`vigil_alert_runs_total`), nothing else.
final class AlertRunner: @unchecked Sendable {
    /// The alerts as the running document says (replaced by `update`; read under `cond`).
    private var alerts: [AlertSpec]
    private var config: ClusterConfig
    private let log: Log
    private let nodeName: String
    private let cond = Condition()
    private var queue: [(kind: AlertSpec.Kind, env: [String: String], at: timespec)] = []
    private var sequence = 0
    private var counts: [String: (ok: Int, failed: Int)] = [:]
    /// Pacemaker's version the environment claims (CRM_alert_version; agents test it is set).
    static let version = "2.1.5"

    /// Also without alerts: the cluster's document may add some.
    init(config: ClusterConfig, nodeName: String, log: Log) {
        self.nodeName = nodeName
        alerts = config.alerts
        self.config = config
        self.log = log
    }

    func start() { spawnThread("vigild-alerts") { [self] in worker() } }

    /// The cluster's document changed the alerts: events from now on go to the new ones.
    func update(_ c: ClusterConfig) { cond.locked { (alerts, config) = (c.alerts, c) } }

    /// Called on the heartbeat thread for every event: queues it if some alert wants it.
    func submit(_ e: ClusterEvent) {
        let (alerts, config) = cond.locked { (self.alerts, self.config) }
        guard !alerts.isEmpty, let a = e.alert(config), alerts.contains(where: { wants($0, a.kind, a.env) }) else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        cond.locked { queue.append((a.kind, a.env, now)) }
        cond.signal()
    }

    private func wants(_ s: AlertSpec, _ kind: AlertSpec.Kind, _ env: [String: String]) -> Bool {
        guard s.kinds.contains(kind) else { return false }
        return kind != .attribute || s.attributeNames.isEmpty || s.attributeNames.contains(env["CRM_alert_attribute_name"] ?? "")
    }

    /// Per alert: runs that succeeded and that failed (exit code, signal, timeout, cannot run);
    /// nil without alerts.
    func stats() -> [StatusSnapshot.AlertStat]? {
        cond.locked {
            alerts.isEmpty ? nil : alerts.map { StatusSnapshot.AlertStat(name: $0.name, ok: counts[$0.name]?.ok ?? 0, failed: counts[$0.name]?.failed ?? 0) }
        }
    }

    private func worker() {
        while true {
            cond.lock()
            while queue.isEmpty { cond.wait() }
            let item = queue.removeFirst()
            sequence += 1
            let seq = sequence
            let current = alerts
            cond.unlock()
            let runs = current.filter { wants($0, item.kind, item.env) }.flatMap { s in (s.recipients.isEmpty ? [""] : s.recipients).map { (s, $0) } }
            let done = Countdown(runs.count)
            for (s, recipient) in runs {
                spawnThread("vigild-alert") { [self] in
                    run(s, recipient: recipient, item.kind, item.env, at: item.at, seq: seq)
                    done.tick()
                }
            }
            done.wait()
        }
    }

    /// One run of an alert agent for one recipient.
    private func run(_ s: AlertSpec, recipient: String, _ kind: AlertSpec.Kind, _ base: [String: String], at: timespec, seq: Int) {
        var env = base
        env["CRM_alert_kind"] = kind.rawValue
        env["CRM_alert_recipient"] = recipient.replacing("%n", with: nodeName)
        env["CRM_alert_node_sequence"] = String(seq)
        env["CRM_alert_version"] = AlertRunner.version
        env["CRM_alert_timestamp"] = AlertRunner.format(at, s.timestampFormat)
        env["CRM_alert_timestamp_epoch"] = String(at.tv_sec)
        env["CRM_alert_timestamp_usec"] = String(at.tv_nsec / 1000)
        let r = Plugin.run(s.path, env: env.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, timeout: s.timeout)
        let ok = r.exitCode == 0 && !r.timedOut && r.spawnError == nil
        cond.locked { if ok { counts[s.name, default: (0, 0)].ok += 1 } else { counts[s.name, default: (0, 0)].failed += 1 } }
        if !ok {
            log.log(.warning, "alert \(s.name) (\(kind.rawValue), recipient '\(recipient)'): \(r.summary)"
                    + (r.stderr.isEmpty ? "" : ": \(r.stderr.prefix(200))"))
        }
    }

    /// strftime in local time, with Pacemaker's fractions: %N (ns), %3N (ms), %6N and %06N (µs).
    static func format(_ t: timespec, _ f: String) -> String {
        func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        let ns = Int(t.tv_nsec)
        let expanded = f.replacing("%06N", with: pad(ns / 1000, 6)).replacing("%6N", with: pad(ns / 1000, 6))
            .replacing("%3N", with: pad(ns / 1_000_000, 3)).replacing("%N", with: pad(ns, 9))
        var secs = time_t(t.tv_sec)
        var tm = Glibc.tm()
        localtime_r(&secs, &tm)
        var buf = [CChar](repeating: 0, count: 256)
        let n = strftime(&buf, buf.count, expanded, &tm)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Waits until `count` threads have called `tick`.
final class Countdown: @unchecked Sendable {
    private let cond = Condition()
    private var left: Int
    init(_ count: Int) { left = count }
    func tick() {
        cond.locked { left -= 1 }
        cond.broadcast()
    }
    func wait() {
        cond.lock()
        while left > 0 { cond.wait() }
        cond.unlock()
    }
}
