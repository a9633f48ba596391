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
    private enum Job { case vote(ArbiterRequest), ticket(TicketRequest) }
    private let cond = Condition()
    private var queue: [Job] = []
    private var answers: [(UInt64, ArbiterAnswer)] = []
    private var ticketAnswers: [(UInt64, TicketAnswer)] = []
    private var heuristics: Bool?
    private let config: ArbiterConfig
    private let log: Log
    private let wake: WakePipe
    private var client: EtcdClient
    /// Requests by outcome (status and metrics: vigil_arbiter_requests_total).
    private var answered = 0
    private var failed = 0
    /// The latest request failed (a change is logged once, not every failure).
    private var failing = false

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
        cond.locked { queue.append(.vote(r)); cond.signal() }
    }

    func submit(_ r: TicketRequest) {
        cond.locked { queue.append(.ticket(r)); cond.signal() }
    }

    /// Answers since the last call (the vote's, the tickets'), and the heuristics' latest result
    /// if it changed.
    func take() -> (answers: [(UInt64, ArbiterAnswer)], tickets: [(UInt64, TicketAnswer)], heuristics: Bool?) {
        cond.locked {
            defer { (answers, ticketAnswers, heuristics) = ([], [], nil) }
            return (answers, ticketAnswers, heuristics)
        }
    }

    var counts: (answered: Int, failed: Int) { cond.locked { (answered, failed) } }

    private func work() {
        while true {
            cond.lock()
            while queue.isEmpty { cond.wait() }
            let job = queue.removeFirst()
            cond.unlock()
            let deadline = Clock.monotonic() + config.timeout
            switch job {
            case .vote(let r):
                let answer: ArbiterAnswer?
                do throws(EtcdClient.Failure) { answer = try perform(r, until: deadline) } catch {
                    answer = .failed(error.description)
                }
                guard let answer else { continue }
                cond.locked {
                    answers.append((r.id, answer))
                    if case .failed = answer { failed += 1 } else { answered += 1 }
                }
                if case .failed(let why) = answer { noteOutcome(why) } else { noteOutcome(nil) }
            case .ticket(let r):
                let answer: TicketAnswer
                do throws(EtcdClient.Failure) { answer = try perform(r, until: deadline) } catch {
                    answer = .failed(error.description)
                }
                cond.locked {
                    ticketAnswers.append((r.id, answer))
                    if case .failed = answer { failed += 1 } else { answered += 1 }
                }
                if case .failed(let why) = answer { noteOutcome(why) } else { noteOutcome(nil) }
            }
            wake.poke(ArbiterRunner.wakeByte)
        }
    }

    /// Logs etcd becoming unreachable (with why) or answering again, once per change.
    private func noteOutcome(_ error: String?) {
        guard (error != nil) != failing else { return }
        failing = error != nil
        if let error { log.log(.warning, "arbiter: etcd does not answer: \(error) (counted in vigil_arbiter_requests_total)") }
        else { log.log(.notice, "arbiter: etcd answers again") }
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
            if let ttl = try client.create(key, value(r.me), ttl: config.policy.ttl, until: deadline) {
                log.log(.notice, "arbiter: took the vote key \(config.voteKey) (\(ttl)s lease)")
                return .holder(r.me, remaining: .seconds(Double(ttl)))
            }
        case .renew:
            // The key names this node (or, restarted, its earlier life: it names this one now).
            guard let kv = try client.get(key, until: deadline), let h = member(EtcdClient.unb64(kv.value)), h.node == r.me.node,
                  h.incarnation <= r.me.incarnation, let ttl = try client.keepAlive(kv, until: deadline) else { break }
            if h == r.me { return .holder(r.me, remaining: .seconds(Double(ttl))) }
            _ = try client.replace(key, kv, with: value(r.me), until: deadline)
        case .handover:
            guard let to = r.to, let kv = try client.get(key, until: deadline), member(EtcdClient.unb64(kv.value))?.node == r.me.node else { break }
            let done = try client.replace(key, kv, with: value(to), until: deadline)
            log.log(.notice, "arbiter: vote key handed to node \(to.node.rawValue)" + (done ? "" : " FAILED (it changed meanwhile)"))
        case .read:
            break
        }
        guard let (v, left) = try client.read(key, until: deadline) else { return .holder(nil, remaining: .zero) }
        guard let h = member(v) else {
            throw .init("the vote key \(config.voteKey) holds '\(v ?? "?")', not NODE:INCARNATION: is another program using this prefix?")
        }
        return .holder(h, remaining: left)
    }

    // MARK: site tickets: the key's value is "SITE/NODE:INCARNATION/STATE".

    private func ticketHolder(_ v: String?) -> TicketHolder? {
        guard let parts = v?.split(separator: "/"), parts.count == 3, let site = UInt32(parts[0]), let m = member(String(parts[1])),
              let state = TicketState(rawValue: String(parts[2])) else { return nil }
        return TicketHolder(site: site, member: m, state: state)
    }
    private func value(_ h: TicketHolder) -> String {
        EtcdClient.b64("\(h.site)/\(h.member.node.rawValue):\(h.member.incarnation)/\(h.state.rawValue)")
    }

    private func perform(_ r: TicketRequest, until deadline: Instant) throws(EtcdClient.Failure) -> TicketAnswer {
        let key = EtcdClient.b64(config.ticketKey(r.ticket))
        switch r.kind {
        case .grant:
            if let ttl = try client.create(key, value(r.value), ttl: config.policy.ttl, until: deadline) {
                log.log(.notice, "ticket \(r.ticket): granted to this site (\(config.ticketKey(r.ticket)), \(ttl)s lease)")
                return .holder(r.value, remaining: .seconds(Double(ttl)))
            }
        case .renew, .set:
            guard let kv = try client.get(key, until: deadline), let h = ticketHolder(EtcdClient.unb64(kv.value)), h.site == r.value.site else { break }
            if r.kind == .set {
                if try client.replace(key, kv, with: value(TicketHolder(site: h.site, member: h.member, state: r.value.state)), until: deadline) {
                    log.log(.notice, "ticket \(r.ticket): state now \(r.value.state.rawValue)")
                }
                break
            }
            // The renewer named, or the lowest member taking the renewing over (same lease).
            guard h.state != .revoked, r.takeOver || h.member.node == r.value.member.node,
                  let ttl = try client.keepAlive(kv, until: deadline) else { break }
            if h.member == r.value.member { return .holder(h, remaining: .seconds(Double(ttl))) }
            _ = try client.replace(key, kv, with: value(TicketHolder(site: h.site, member: r.value.member, state: h.state)), until: deadline)
        case .release:
            guard let kv = try client.get(key, until: deadline), let h = ticketHolder(EtcdClient.unb64(kv.value)),
                  h.site == r.value.site, h.state == .revoked else { break }
            if try client.delete(key, kv, until: deadline) {
                log.log(.notice, "ticket \(r.ticket): released (revoked, and its resources stopped everywhere in this site)")
            }
        case .read:
            break
        }
        guard let (v, left) = try client.read(key, until: deadline) else { return .holder(nil, remaining: .zero) }
        guard let h = ticketHolder(v) else {
            throw .init("ticket key \(config.ticketKey(r.ticket)) holds '\(v ?? "?")', not SITE/NODE:INCARNATION/STATE")
        }
        return .holder(h, remaining: left)
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
