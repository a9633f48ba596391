/// Fencing (STONITH) decisions. Pure, like the rest of the core: the node says *when* to fence whom
/// with which devices (`Effect.fence`); the shell runs the plugins and reports back
/// (`Event.fenceDone`). See docs/fencing.md.
///
/// Rules:
/// - A member that leaves a *quorate* view uncleanly becomes pending. Pending and fenced state are
///   max-registers per node, shared by `fenceState` messages, so a newcomer or a new coordinator
///   learns them.
/// - Exactly one executor: the lowest-numbered member of the current quorate view that is not
///   itself pending (a pending node that rejoined never judges its own case). Others leave a target
///   alone while another member of their view announced an attempt on it (`fenceStarted`) that is
///   within its time bound.
/// - Before the first attempt on a target the executor waits the target's static delay plus a
///   random delay (fence races in two-node clusters).
/// - Levels in order; a failed level escalates at once to the next; after the last, retry from
///   level 1 with doubling backoff.
/// - Without quorum nothing is started, and running attempts are aborted.
/// - A pending node that rejoins is still fenced (unless the operator confirms it).
public enum FenceAction: String, Sendable, CaseIterable {
    case off, reboot, on
}

/// Self-fencing by hardware watchdog (the SBD idea, without a disk).
public struct WatchdogPolicy: Equatable, Sendable {
    /// The hardware watchdog's timeout: not fed for this long, the board resets.
    public var timeout: TimeSpan
    /// Inquorate for this long, a node stops feeding its watchdog.
    public var quorumLossBound: TimeSpan

    public init(timeout: TimeSpan, quorumLossBound: TimeSpan) {
        self.timeout = timeout
        self.quorumLossBound = quorumLossBound
    }

    /// How long the quorate side waits, from writing a node off, before counting it as fenced when
    /// no device can fence it. The lost node needs up to detection + install to see itself
    /// inquorate (it may also have been frozen for up to one watchdog timeout, which the self-pause
    /// rule excuses), then `quorumLossBound`, then one `timeout` for the board to reset. We wait
    /// twice the timeout plus all of that.
    public func safeWait(_ t: Timing) -> TimeSpan {
        timeout * 2 + quorumLossBound + t.detectionBound + t.installBound
    }
}

public struct FencingPolicy: Equatable, Sendable {
    public var enabled = false
    /// Per node: levels in order, each a list of device names that must all succeed.
    public var levels: [NodeID: [[String]]] = [:]
    /// Static delay before fencing this node (give the preferred survivor of a split a head start).
    public var delay: [NodeID: TimeSpan] = [:]
    /// A random delay in 0...this is added before each first attempt.
    public var randomDelayMax = TimeSpan.zero
    public var action = FenceAction.off
    public var retryBackoff = TimeSpan.seconds(1)
    public var maxBackoff = TimeSpan.seconds(60)
    /// The longest one level may take (its devices' timeouts, plus slack); others wait this long
    /// after a `fenceStarted` before taking over.
    public var attemptBound = TimeSpan.seconds(120)
    public var watchdog: WatchdogPolicy?

    public init() {}
    public static let disabled = FencingPolicy()
}

/// What the shell must run: every device of one level, in order, for one target.
public struct FenceOrder: Equatable, Sendable {
    public var id: UInt64
    public var target: Member
    public var action: FenceAction
    /// 1-based.
    public var level: Int
    public var devices: [String]
    public var manual: Bool
}

public enum FenceNotice: Equatable, Sendable {
    /// A member must be fenced before its resources are recovered.
    case pending(Member)
    /// This node (the executor) will start at the first attempt after this delay.
    case scheduled(Member, delay: TimeSpan)
    case started(Member, executor: NodeID, level: Int, devices: [String])
    case finished(Member, executor: NodeID, result: FenceResult, level: Int, took: TimeSpan)
    /// No device is configured for the node and no watchdog: only the operator can clear it.
    case noDevice(Member)
    /// This node stops feeding its hardware watchdog (inquorate for the bound, or the cluster wants
    /// it fenced and only the watchdog can).
    case selfFence(reason: String)
    /// An operator request was refused (no quorum, unknown node, itself).
    case refused(NodeID, reason: String)
    /// An operator's fence failed at every level; it is not retried (unclean losses are).
    case gaveUp(Member)
}

struct FenceJob: Equatable, Sendable {
    var target: Member
    var action: FenceAction
    var manual: Bool
    var levelIndex = 0
    var round = 0
    var notBefore: Instant
    var order: UInt64?
    var startedAt = Instant.zero
    var reportedNoDevice = false
}

struct OtherAttempt: Equatable, Sendable {
    var executor: NodeID
    var until: Instant
}

struct FenceState: Equatable, Sendable {
    /// Highest fenced incarnation of each node.
    var fenced: [NodeID: Incarnation] = [:]
    /// When this node first learned each pending target.
    var pendingSince: [NodeID: Instant] = [:]
    /// Last time a pending incarnation was seen alive (the watchdog safe wait counts from there).
    var lastAlive: [NodeID: Instant] = [:]
    var others: [NodeID: OtherAttempt] = [:]
    /// The last outcome heard per target: the same message arrives once per link.
    var lastOutcome: [NodeID: Message] = [:]
    var jobs: [NodeID: FenceJob] = [:]
    var nextOrder: UInt64 = 0
    var lastStateSent = Instant.zero
    var random: SeededRandom
    // Self-fencing.
    var watchdogArmed = false
    var stoppedFeeding = false
    var inquorateSince: Instant?

    init(seed: UInt64) { random = SeededRandom(seed: seed) }
}

extension Node {
    /// Members that must be fenced before anything of theirs is recovered (node -> incarnation).
    public var pendingFences: [NodeID: Incarnation] { needsFencing }
    public var fencedUpTo: [NodeID: Incarnation] { fence.fenced }
    /// Fence attempts this node is running now (for status).
    public var runningFences: [FenceOrder] {
        fence.jobs.values.compactMap { j in
            j.order.map { FenceOrder(id: $0, target: j.target, action: j.action, level: j.levelIndex + 1,
                                     devices: devices(j.target.node, j.levelIndex), manual: j.manual) }
        }.sorted { $0.id < $1.id }
    }
    /// True once a quorate view armed self-fencing: the shell opens the hardware watchdog.
    public var watchdogArmed: Bool { config.fencing.watchdog != nil && fence.watchdogArmed }
    /// The shell feeds the hardware watchdog only while this is true (and its loop is on time).
    public var feedsWatchdog: Bool { watchdogArmed && !fence.stoppedFeeding }

    /// A member is clean (its resources may be recovered) when it left gracefully or was fenced.
    public func isFenced(_ m: Member) -> Bool { (fence.fenced[m.node] ?? 0) >= m.incarnation }

    private func devices(_ n: NodeID, _ level: Int) -> [String] {
        let levels = config.fencing.levels[n] ?? []
        return level < levels.count ? levels[level] : []
    }

    /// Highest incarnation of `n` this node knows of (all of them go down with the power).
    private func knownIncarnation(_ n: NodeID) -> Incarnation {
        max(needsFencing[n] ?? 0, detector.peers[n]?.incarnation ?? 0, view.members.first { $0.node == n }?.incarnation ?? 0)
    }

    /// Records unclean losses of a new view (quorate views only: a minority never fences).
    mutating func recordUnclean(_ change: ViewChange, quorate: Bool, _ now: Instant, _ out: inout [Effect]) {
        guard quorate else { return }
        for m in change.lostUncleanly { addPending(m, now, &out) }
        if config.fencing.enabled && (!change.joined.isEmpty || !change.lostUncleanly.isEmpty) {
            sendFenceState(now, &out)
        }
    }

    mutating func addPending(_ m: Member, _ now: Instant, _ out: inout [Effect]) {
        guard (needsFencing[m.node] ?? 0) < m.incarnation, !isFenced(m) else { return }
        needsFencing[m.node] = m.incarnation
        fence.pendingSince[m.node] = now
        out.append(.notice(.fence(.pending(m))))
    }

    private mutating func markFenced(_ n: NodeID, upTo inc: Incarnation) {
        fence.fenced[n] = max(fence.fenced[n] ?? 0, inc)
        if let p = needsFencing[n], p <= inc {
            needsFencing[n] = nil
            fence.pendingSince[n] = nil
            fence.lastAlive[n] = nil
        }
        fence.others[n] = nil
        supervisor.decideSoon = true
    }

    private mutating func sendFenceState(_ now: Instant, _ out: inout [Effect]) {
        fence.lastStateSent = now
        let pending = needsFencing.map { Member($0.key, $0.value) }.sorted()
        let fenced = fence.fenced.map { Member($0.key, $0.value) }.sorted()
        broadcast(.fenceState(pending: pending, fenced: fenced), &out)
    }

    /// Fencing messages from peers.
    mutating func receiveFence(_ m: Message, from sender: Member, _ now: Instant, _ out: inout [Effect]) {
        guard config.fencing.enabled else { return }
        switch m {
        case let .fenceState(pending, fenced):
            for f in fenced { markFenced(f.node, upTo: f.incarnation) }
            for p in pending { addPending(p, now, &out) }
        case let .fenceStarted(target, _, boundMs):
            fence.others[target.node] = OtherAttempt(executor: sender.node, until: now + .ms(Int64(boundMs)))
            // Someone else is on it: drop our own attempt if it has not started.
            if let j = fence.jobs[target.node], j.order == nil, !j.manual { fence.jobs[target.node] = nil }
        case let .fenceOutcome(target, result, level, tookMs):
            guard fence.lastOutcome[target.node] != m else { return }
            fence.lastOutcome[target.node] = m
            if fence.others[target.node]?.executor == sender.node { fence.others[target.node] = nil }
            if result.isSuccess { markFenced(target.node, upTo: target.incarnation) }
            out.append(.notice(.fence(.finished(target, executor: sender.node, result: result, level: Int(level),
                                                took: .ms(Int64(tookMs))))))
        default:
            break
        }
    }

    /// Called on every tick: self-fencing, the executor's schedule, state gossip.
    mutating func fenceStep(_ now: Instant, _ out: inout [Effect]) {
        let policy = config.fencing
        guard policy.enabled, !leaving else { return }
        watchdogStep(now, &out)
        for (n, inc) in needsFencing where n != id {
            if let p = detector.peers[n], p.alive, (p.incarnation ?? 0) <= inc { fence.lastAlive[n] = now }
        }
        if !view.quorate {
            for (n, j) in fence.jobs {
                if let order = j.order {
                    out.append(.abortFence(order))
                    finish(n, .aborted, now, &out)
                }
            }
            fence.jobs = [:]
            return
        }
        let executor = owner == id
        for (n, j) in fence.jobs where j.order == nil && !j.manual && (!executor || needsFencing[n] == nil) {
            fence.jobs[n] = nil
        }
        if executor {
            for (n, inc) in needsFencing.sorted(by: { $0.key < $1.key }) where fence.jobs[n] == nil {
                if let o = fence.others[n], o.executor != id, o.until > now, view.nodes.contains(o.executor) { continue }
                var delay = policy.delay[n] ?? .zero
                if policy.randomDelayMax > .zero {
                    let ns = policy.randomDelayMax.nanoseconds
                    delay = delay + TimeSpan(nanoseconds: Int64.random(in: 0...ns, using: &fence.random))
                }
                fence.jobs[n] = FenceJob(target: Member(n, inc), action: policy.action, manual: false, notBefore: now + delay)
                out.append(.notice(.fence(.scheduled(Member(n, inc), delay: delay))))
            }
        }
        for n in fence.jobs.keys.sorted() {
            guard let j = fence.jobs[n], j.order == nil, now >= j.notBefore else { continue }
            start(n, now, &out)
        }
        if !needsFencing.isEmpty && now - fence.lastStateSent >= .seconds(1) { sendFenceState(now, &out) }
    }

    private mutating func start(_ n: NodeID, _ now: Instant, _ out: inout [Effect]) {
        guard var j = fence.jobs[n] else { return }
        let policy = config.fencing
        let levels = policy.levels[n] ?? []
        if levels.isEmpty {
            if let wd = policy.watchdog, !j.manual, let since = fence.pendingSince[n] {
                // The target self-fences once it is inquorate, or once it learns it is pending while
                // still in a view: count from the last time it was seen alive.
                let at = max(since, fence.lastAlive[n] ?? since) + wd.safeWait(config.timing)
                if now >= at {
                    j.startedAt = since
                    fence.jobs[n] = j
                    return finish(n, .watchdog, now, &out)
                }
                j.notBefore = at
            } else {
                if !j.reportedNoDevice { out.append(.notice(.fence(.noDevice(j.target)))) }
                j.reportedNoDevice = true
                j.notBefore = now + policy.maxBackoff
                if j.manual { fence.jobs[n] = nil; return }
            }
            fence.jobs[n] = j
            return
        }
        fence.nextOrder += 1
        j.order = fence.nextOrder
        // Everything of the target known now goes down with its power, a rebooted incarnation too.
        j.target = Member(n, max(j.target.incarnation, knownIncarnation(n)))
        j.startedAt = now
        fence.jobs[n] = j
        let order = FenceOrder(id: fence.nextOrder, target: j.target, action: j.action, level: j.levelIndex + 1,
                               devices: levels[j.levelIndex], manual: j.manual)
        let bound = UInt32(clamping: policy.attemptBound.nanoseconds / 1_000_000)
        broadcast(.fenceStarted(target: j.target, level: UInt8(clamping: order.level), boundMs: bound), &out)
        out.append(.notice(.fence(.started(j.target, executor: id, level: order.level, devices: order.devices))))
        out.append(.fence(order))
    }

    /// The shell's report on an order.
    mutating func fenceDone(_ order: UInt64, _ result: FenceResult, _ now: Instant, _ out: inout [Effect]) {
        guard let (n, _) = fence.jobs.first(where: { $0.value.order == order }) else { return }
        finish(n, result, now, &out)
    }

    private mutating func finish(_ n: NodeID, _ result: FenceResult, _ now: Instant, _ out: inout [Effect]) {
        guard var j = fence.jobs[n] else { return }
        let took = now - j.startedAt
        let target = j.target
        if result.isSuccess { markFenced(n, upTo: target.incarnation) }
        let ms = UInt32(clamping: max(0, took.nanoseconds / 1_000_000))
        broadcast(.fenceOutcome(target: target, result: result, level: UInt8(clamping: j.levelIndex + 1), tookMs: ms), &out)
        out.append(.notice(.fence(.finished(target, executor: id, result: result, level: j.levelIndex + 1, took: took))))
        if result.isSuccess || result == .aborted {
            fence.jobs[n] = nil
            if result.isSuccess { sendFenceState(now, &out) }
            return
        }
        let levels = config.fencing.levels[n]?.count ?? 0
        j.order = nil
        j.levelIndex += 1
        if j.levelIndex >= levels {
            if j.manual {
                fence.jobs[n] = nil
                return out.append(.notice(.fence(.gaveUp(j.target))))
            }
            j.levelIndex = 0
            j.round += 1
            let policy = config.fencing
            var backoff = policy.retryBackoff
            for _ in 1..<min(j.round, 16) { backoff = backoff * 2 }
            j.notBefore = now + min(backoff, policy.maxBackoff)
        } else {
            j.notBefore = now
        }
        fence.jobs[n] = j
        if j.notBefore <= now { start(n, now, &out) }
    }

    /// Operator: fence `n` now (no delay), from this node, if it is quorate.
    mutating func fenceCommand(_ n: NodeID, _ action: FenceAction, _ now: Instant, _ out: inout [Effect]) {
        if let why = refusal(n, manualFence: true) { return out.append(.notice(.fence(.refused(n, reason: why)))) }
        let inc = knownIncarnation(n)
        fence.jobs[n] = FenceJob(target: Member(n, max(inc, needsFencing[n] ?? 0)), action: action, manual: true,
                                 notBefore: now)
        start(n, now, &out)
    }

    private func refusal(_ n: NodeID, manualFence: Bool) -> String? {
        if !config.fencing.enabled { return "fencing is not enabled in the config" }
        if !config.nodes.contains(n) { return "no such node" }
        if n == id { return "a node does not fence itself" }
        if manualFence && !view.quorate { return "this node is not in a quorate view" }
        if manualFence && fence.jobs[n]?.order != nil { return "an attempt is already running" }
        return nil
    }

    /// Operator swears `n` is off: counts as fenced (recorded everywhere), even without quorum.
    mutating func fenceConfirm(_ n: NodeID, _ now: Instant, _ out: inout [Effect]) {
        if let why = refusal(n, manualFence: false) { return out.append(.notice(.fence(.refused(n, reason: why)))) }
        if let order = fence.jobs[n]?.order { out.append(.abortFence(order)) }
        fence.jobs[n] = FenceJob(target: Member(n, needsFencing[n] ?? knownIncarnation(n)), action: .off, manual: true, notBefore: now,
                                 startedAt: now)
        finish(n, .confirmed, now, &out)
    }

    private mutating func watchdogStep(_ now: Instant, _ out: inout [Effect]) {
        guard let wd = config.fencing.watchdog, !fence.stoppedFeeding else { return }
        if let p = needsFencing[id], p >= incarnation, (config.fencing.levels[id] ?? []).isEmpty {
            // The cluster wants us fenced and no device can do it: the watchdog must.
            fence.stoppedFeeding = true
            out.append(.notice(.fence(.selfFence(reason: "the cluster must fence this node and no device can"))))
            return
        }
        if view.quorate {
            fence.watchdogArmed = true
            fence.inquorateSince = nil
            return
        }
        guard fence.watchdogArmed else { return }
        let since = fence.inquorateSince ?? now
        fence.inquorateSince = since
        if now - since >= wd.quorumLossBound {
            fence.stoppedFeeding = true
            out.append(.notice(.fence(.selfFence(reason: "inquorate for \(now - since)"))))
        }
    }
}
