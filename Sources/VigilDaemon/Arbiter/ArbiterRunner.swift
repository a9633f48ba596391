import CCurl
import FoundationEssentials
import Glibc
import VigilConfig
import VigilCore

/// Carries out the core's arbiter requests against etcd on a thread of its own (never on the
/// heartbeat path: etcd slow or down costs the heartbeats nothing), one at a time, and runs the
/// heuristics command on another. The heartbeat loop submits requests and collects answers
/// (woken through the wake pipe). See docs/arbiter.md for the keys and the proof.
final class ArbiterRunner: @unchecked Sendable {
    private let cond = Condition()
    private var queue: [ArbiterRequest] = []
    private var answers: [(UInt64, ArbiterAnswer)] = []
    private var heuristics: Bool?
    private let config: ArbiterConfig
    private let log: Log
    private let wake: WakePipe
    private var client: EtcdClient
    /// Counters for metrics: requests by outcome.
    private(set) var answered = 0
    private(set) var failed = 0

    init(config: ArbiterConfig, log: Log, wake: WakePipe) {
        self.config = config
        self.log = log
        self.wake = wake
        client = EtcdClient(config: config)
        _ = vigil_http_init_once
    }

    func start() {
        spawnThread("vigild-arbiter") { [self] in work() }
        if let h = config.heuristics { spawnThread("vigild-heuristics") { [self] in heuristicsLoop(h) } }
    }

    func submit(_ r: ArbiterRequest) {
        cond.locked { queue.append(r); cond.signal() }
    }

    /// Answers since the last call, and the heuristics' latest result if it changed.
    func take() -> (answers: [(UInt64, ArbiterAnswer)], heuristics: Bool?) {
        cond.locked {
            defer { (answers, heuristics) = ([], nil) }
            return (answers, heuristics)
        }
    }

    var counts: (answered: Int, failed: Int) { cond.locked { (answered, failed) } }

    private func work() {
        while true {
            cond.lock()
            while queue.isEmpty { cond.wait() }
            let r = queue.removeFirst()
            cond.unlock()
            let deadline = Clock.monotonic() + config.timeout
            let answer: ArbiterAnswer?
            do throws(EtcdClient.Failure) { answer = try perform(r, until: deadline) } catch {
                answer = .failed(error.description)
            }
            guard let answer else { continue }
            cond.locked {
                answers.append((r.id, answer))
                if case .failed = answer { failed += 1 } else { answered += 1 }
            }
            wake.poke(ArbiterRunner.wakeByte)
        }
    }

    static let wakeByte: UInt8 = 0xA7

    /// The key's value: "NODE:INCARNATION".
    private func member(_ v: String?) -> Member? {
        guard let parts = v?.split(separator: ":"), parts.count == 2, let n = UInt16(parts[0]), let i = UInt64(parts[1]) else { return nil }
        return Member(NodeID(n), i)
    }
    private func value(_ m: Member) -> String { EtcdClient.b64("\(m.node.rawValue):\(m.incarnation)") }

    private func perform(_ r: ArbiterRequest, until deadline: Instant) throws(EtcdClient.Failure) -> ArbiterAnswer? {
        let key = EtcdClient.b64(config.voteKey)
        if r.force {
            log.log(.error, "arbiter: refusing a forced take of the vote key (only the simulator's planted-bug check asks it)")
            return .failed("forced take refused")
        }
        switch r.kind {
        case .acquire:
            let granted: EtcdClient.LeaseAnswer = try client.call("/v3/lease/grant", ["TTL": Int64(config.policy.ttl.nanoseconds / 1_000_000_000)], until: deadline)
            guard let id = granted.ID, let ttl = granted.TTL.flatMap(Int64.init), ttl > 0 else { throw .init("lease grant answered no lease") }
            let txn: EtcdClient.TxnAnswer = try client.call("/v3/kv/txn", [
                "compare": [["key": key, "target": "CREATE", "create_revision": Int64(0)] as [String: Any]],
                "success": [["request_put": ["key": key, "value": value(r.me), "lease": id] as [String: Any]]],
            ], until: deadline)
            if txn.succeeded == true {
                log.log(.notice, "arbiter: took the vote key \(config.voteKey) (lease \(id), \(ttl)s)")
                return .holder(r.me, remaining: .seconds(Double(ttl)))
            }
            // Someone holds it: the unused lease goes (it would expire anyway).
            let _: EtcdClient.LeaseAnswer? = try? client.call("/v3/lease/revoke", ["ID": id], until: deadline)
            return try read(key, until: deadline)
        case .renew:
            let range: EtcdClient.RangeAnswer = try client.call("/v3/kv/range", ["key": key], until: deadline)
            guard let kv = range.kvs?.first, let h = member(EtcdClient.unb64(kv.value)), h.node == r.me.node,
                  h.incarnation <= r.me.incarnation, let lease = kv.lease, let rev = kv.mod_revision else {
                return try read(key, until: deadline)
            }
            let alive: EtcdClient.KeepAliveAnswer = try client.call("/v3/lease/keepalive", ["ID": lease], until: deadline)
            guard let ttl = alive.result?.TTL.flatMap(Int64.init), ttl > 0 else { return try read(key, until: deadline) }
            if h != r.me {
                // Restarted: the key names this node's earlier life; it names this one now (same lease).
                let _: EtcdClient.TxnAnswer = try client.call("/v3/kv/txn", [
                    "compare": [["key": key, "target": "MOD", "mod_revision": Int64(rev) ?? 0] as [String: Any]],
                    "success": [["request_put": ["key": key, "value": value(r.me), "lease": lease] as [String: Any]]],
                ], until: deadline)
                return try read(key, until: deadline)
            }
            return .holder(r.me, remaining: .seconds(Double(ttl)))
        case .read:
            return try read(key, until: deadline)
        case .handover:
            guard let to = r.to else { return try read(key, until: deadline) }
            let range: EtcdClient.RangeAnswer = try client.call("/v3/kv/range", ["key": key], until: deadline)
            guard let kv = range.kvs?.first, member(EtcdClient.unb64(kv.value))?.node == r.me.node, let lease = kv.lease,
                  let rev = kv.mod_revision else { return try read(key, until: deadline) }
            let txn: EtcdClient.TxnAnswer = try client.call("/v3/kv/txn", [
                "compare": [["key": key, "target": "MOD", "mod_revision": Int64(rev) ?? 0] as [String: Any]],
                "success": [["request_put": ["key": key, "value": value(to), "lease": lease] as [String: Any]]],
            ], until: deadline)
            log.log(.notice, "arbiter: vote key handed to node \(to.node.rawValue)" + (txn.succeeded == true ? "" : " FAILED (it changed meanwhile)"))
            return try read(key, until: deadline)
        }
    }

    /// The key's holder and how long its lease has left, rounded down to what is proven: etcd
    /// answers whole seconds (possibly rounded up), so one second less.
    private func read(_ key: String, until deadline: Instant) throws(EtcdClient.Failure) -> ArbiterAnswer {
        let range: EtcdClient.RangeAnswer = try client.call("/v3/kv/range", ["key": key], until: deadline)
        guard let kv = range.kvs?.first, let lease = kv.lease else { return .holder(nil, remaining: .zero) }
        guard let h = member(EtcdClient.unb64(kv.value)) else {
            throw .init("the vote key \(config.voteKey) holds '\(EtcdClient.unb64(kv.value) ?? "?")', not NODE:INCARNATION: is another program using this prefix?")
        }
        let ttl: EtcdClient.LeaseAnswer = try client.call("/v3/lease/timetolive", ["ID": lease], until: deadline)
        let left = ttl.TTL.flatMap(Int64.init) ?? -1
        guard left > 0 else { return .holder(nil, remaining: .zero) }
        return .holder(h, remaining: .seconds(Double(left - 1)))
    }

    private func heuristicsLoop(_ argv: [String]) {
        var last: Bool?
        while true {
            let run = Plugin.run(argv[0], args: Array(argv.dropFirst()), timeout: config.heuristicsTimeout)
            let pass = run.exitCode == 0
            if pass != last {
                log.log(pass ? .notice : .warning, "arbiter heuristics \(argv.joined(separator: " ")): \(run.summary)"
                        + (pass ? "" : " (this node will not take the vote)"))
                last = pass
                cond.locked { heuristics = pass }
                wake.poke(ArbiterRunner.wakeByte)
            }
            usleep(UInt32(min(config.heuristicsInterval.nanoseconds / 1_000, 60_000_000)))
        }
    }
}

/// libcurl's global set-up, once per process, before the first thread uses it.
private let vigil_http_init_once: Void = { _ = vigil_http_init() }()
