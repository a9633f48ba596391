/// The fencing sub-machine: it owns who must be fenced, who was, and the attempts this node runs.
/// The node hands it a `FenceContext` (its view, owner, peers' liveness, timing) and an `Outbox`;
/// it touches nothing else. Rules: FencingPolicy.swift and docs/fencing.md.
struct Fencer: Equatable, Sendable {
    /// Devices, levels and delays (the cluster's document may change them; not `enabled`).
    var policy: FencingPolicy
    /// Members lost uncleanly from a quorate view and not yet fenced (node -> incarnation).
    private(set) var pending: [NodeID: Incarnation] = [:]
    /// Highest fenced incarnation of each node.
    private(set) var fenced: [NodeID: Incarnation] = [:]
    /// When this node first learned each pending target.
    private var pendingSince: [NodeID: Instant] = [:]
    /// Last time a pending incarnation was seen alive (the watchdog safe wait counts from there).
    private var lastAlive: [NodeID: Instant] = [:]
    private var others: [NodeID: OtherAttempt] = [:]
    /// The last outcome heard per target: the same message arrives once per link.
    private var lastOutcome: [NodeID: Message] = [:]
    private(set) var jobs: [NodeID: FenceJob] = [:]
    private var nextOrder: UInt64 = 0
    private var lastStateSent = Instant.zero
    private var random: SeededRandom
    // Self-fencing.
    private(set) var watchdogArmed = false
    private(set) var stoppedFeeding = false
    private var inquorateSince: Instant?

    init(policy: FencingPolicy, seed: UInt64) {
        self.policy = policy
        random = SeededRandom(seed: seed)
    }

    /// A member is clean (its resources may be recovered) when it left gracefully or was fenced.
    func isFenced(_ m: Member) -> Bool { (fenced[m.node] ?? 0) >= m.incarnation }

    func devices(_ n: NodeID, _ level: Int) -> [String] {
        let levels = policy.levels[n] ?? []
        return level < levels.count ? levels[level] : []
    }

    /// Highest incarnation of `n` this node knows of (all of them go down with the power).
    private func knownIncarnation(_ n: NodeID, _ c: FenceContext) -> Incarnation {
        max(pending[n] ?? 0, c.peers[n]?.incarnation ?? 0, c.view.members.first { $0.node == n }?.incarnation ?? 0)
    }

    /// Records unclean losses of a new view (quorate views only: a minority never fences).
    mutating func recordUnclean(_ change: ViewChange, quorate: Bool, _ now: Instant, _ box: inout Outbox) {
        guard quorate else { return }
        for m in change.lostUncleanly { addPending(m, now, &box) }
        if policy.enabled && (!change.joined.isEmpty || !change.lostUncleanly.isEmpty) {
            sendState(now, &box)
        }
    }

    mutating func addPending(_ m: Member, _ now: Instant, _ box: inout Outbox) {
        guard (pending[m.node] ?? 0) < m.incarnation, !isFenced(m) else { return }
        pending[m.node] = m.incarnation
        pendingSince[m.node] = now
        box.append(.notice(.fence(.pending(m))))
    }

    private mutating func markFenced(_ n: NodeID, upTo inc: Incarnation, _ box: inout Outbox) {
        fenced[n] = max(fenced[n] ?? 0, inc)
        if let p = pending[n], p <= inc {
            pending[n] = nil
            pendingSince[n] = nil
            lastAlive[n] = nil
        }
        others[n] = nil
        box.placementChanged = true
    }

    private mutating func sendState(_ now: Instant, _ box: inout Outbox) {
        lastStateSent = now
        let p = pending.map { Member($0.key, $0.value) }.sorted()
        let f = fenced.map { Member($0.key, $0.value) }.sorted()
        box.broadcast(.fenceState(pending: p, fenced: f))
    }

    /// Fencing messages from peers.
    mutating func receive(_ m: Message, from sender: Member, _ now: Instant, _ box: inout Outbox) {
        guard policy.enabled else { return }
        switch m {
        case let .fenceState(pending, fenced):
            for f in fenced { markFenced(f.node, upTo: f.incarnation, &box) }
            for p in pending { addPending(p, now, &box) }
        case let .fenceStarted(target, _, boundMs):
            others[target.node] = OtherAttempt(executor: sender.node, until: now + .ms(Int64(boundMs)))
            // Someone else is on it: drop our own attempt if it has not started.
            if let j = jobs[target.node], j.order == nil, !j.manual { jobs[target.node] = nil }
        case let .fenceOutcome(target, result, level, tookMs):
            guard lastOutcome[target.node] != m else { return }
            lastOutcome[target.node] = m
            if others[target.node]?.executor == sender.node { others[target.node] = nil }
            if result.isSuccess { markFenced(target.node, upTo: target.incarnation, &box) }
            box.append(.notice(.fence(.finished(target, executor: sender.node, result: result, level: Int(level),
                                                took: .ms(Int64(tookMs))))))
        default:
            break
        }
    }

    /// Called on every tick: self-fencing, the executor's schedule, state gossip.
    mutating func step(_ c: FenceContext, _ now: Instant, _ box: inout Outbox) {
        guard policy.enabled, !c.leaving else { return }
        if c.awaitingVote {
            inquorateSince = nil
            return
        }
        watchdogStep(c, now, &box)
        for (n, inc) in pending where n != c.me.node {
            if let p = c.peers[n], p.alive, (p.incarnation ?? 0) <= inc { lastAlive[n] = now }
        }
        if !c.view.quorate {
            for (n, j) in jobs {
                if let order = j.order {
                    box.append(.abortFence(order))
                    finish(n, .aborted, c, now, &box)
                }
            }
            jobs = [:]
            return
        }
        let executor = c.owner == c.me.node
        for (n, j) in jobs where j.order == nil && !j.manual && (!executor || pending[n] == nil) {
            jobs[n] = nil
        }
        if executor {
            for (n, inc) in pending.sorted(by: { $0.key < $1.key }) where jobs[n] == nil {
                if let o = others[n], o.executor != c.me.node, o.until > now, c.view.nodes.contains(o.executor) { continue }
                var delay = (policy.delay[n] ?? .zero) + priorityDelay(n, c)
                if policy.randomDelayMax > .zero {
                    let ns = policy.randomDelayMax.nanoseconds
                    delay = delay + TimeSpan(nanoseconds: Int64.random(in: 0...ns, using: &random))
                }
                jobs[n] = FenceJob(target: Member(n, inc), action: policy.action, manual: false, notBefore: now + delay)
                box.append(.notice(.fence(.scheduled(Member(n, inc), delay: delay))))
            }
        }
        for n in jobs.keys.sorted() {
            guard let j = jobs[n], j.order == nil, now >= j.notBefore else { continue }
            start(n, c, now, &box)
        }
        if !pending.isEmpty && now - lastStateSent >= .seconds(1) { sendState(now, &box) }
    }

    /// Pacemaker's `priority-fencing-delay`: when this side has no majority (a half split, where
    /// the other half may be fencing us at the same moment), a target whose total resource priority
    /// is the cluster's highest, and not everyone's, is fenced only after the extra delay. The side
    /// running the services then wins the race by construction, whatever the static delays say.
    func priorityDelay(_ n: NodeID, _ c: FenceContext) -> TimeSpan {
        guard policy.priorityDelay > .zero, !c.majority else { return .zero }
        let all = c.nodes.map { c.priorities[$0] ?? 0 }
        guard let top = all.max(), let low = all.min(), top > low, (c.priorities[n] ?? 0) == top else { return .zero }
        return policy.priorityDelay
    }

    private mutating func start(_ n: NodeID, _ c: FenceContext, _ now: Instant, _ box: inout Outbox) {
        guard var j = jobs[n] else { return }
        let levels = policy.levels[n] ?? []
        if levels.isEmpty {
            if let wd = policy.watchdog, !j.manual, let since = pendingSince[n] {
                // The target self-fences once it is inquorate, or once it learns it is pending while
                // still in a view: count from the last time it was seen alive.
                let at = max(since, lastAlive[n] ?? since) + wd.safeWait(c.timing)
                if now >= at {
                    j.startedAt = since
                    jobs[n] = j
                    return finish(n, .watchdog, c, now, &box)
                }
                j.notBefore = at
            } else {
                if !j.reportedNoDevice { box.append(.notice(.fence(.noDevice(j.target)))) }
                j.reportedNoDevice = true
                j.notBefore = now + policy.maxBackoff
                if j.manual { jobs[n] = nil; return }
            }
            jobs[n] = j
            return
        }
        nextOrder += 1
        j.order = nextOrder
        // Everything of the target known now goes down with its power, a rebooted incarnation too.
        j.target = Member(n, max(j.target.incarnation, knownIncarnation(n, c)))
        j.startedAt = now
        jobs[n] = j
        let order = FenceOrder(id: nextOrder, target: j.target, action: j.action, level: j.levelIndex + 1,
                               devices: levels[j.levelIndex], manual: j.manual)
        let bound = UInt32(clamping: policy.attemptBound.nanoseconds / 1_000_000)
        box.broadcast(.fenceStarted(target: j.target, level: UInt8(clamping: order.level), boundMs: bound))
        box.append(.notice(.fence(.started(j.target, executor: c.me.node, level: order.level, devices: order.devices))))
        box.append(.fence(order))
    }

    /// The shell's report on an order.
    mutating func done(_ order: UInt64, _ result: FenceResult, _ c: FenceContext, _ now: Instant, _ box: inout Outbox) {
        guard let (n, _) = jobs.first(where: { $0.value.order == order }) else { return }
        finish(n, result, c, now, &box)
    }

    private mutating func finish(_ n: NodeID, _ result: FenceResult, _ c: FenceContext, _ now: Instant,
                                 _ box: inout Outbox) {
        guard var j = jobs[n] else { return }
        let took = now - j.startedAt
        let target = j.target
        if result.isSuccess { markFenced(n, upTo: target.incarnation, &box) }
        let ms = UInt32(clamping: max(0, took.nanoseconds / 1_000_000))
        box.broadcast(.fenceOutcome(target: target, result: result, level: UInt8(clamping: j.levelIndex + 1), tookMs: ms))
        box.append(.notice(.fence(.finished(target, executor: c.me.node, result: result, level: j.levelIndex + 1,
                                            took: took))))
        if result.isSuccess || result == .aborted {
            jobs[n] = nil
            if result.isSuccess { sendState(now, &box) }
            return
        }
        let levels = policy.levels[n]?.count ?? 0
        j.order = nil
        j.levelIndex += 1
        if j.levelIndex >= levels {
            if j.manual {
                jobs[n] = nil
                return box.append(.notice(.fence(.gaveUp(j.target))))
            }
            j.levelIndex = 0
            j.round += 1
            var backoff = policy.retryBackoff
            for _ in 1..<min(j.round, 16) { backoff = backoff * 2 }
            j.notBefore = now + min(backoff, policy.maxBackoff)
        } else {
            j.notBefore = now
        }
        jobs[n] = j
        if j.notBefore <= now { start(n, c, now, &box) }
    }

    /// Operator: fence `n` now (no delay), from this node, if it is quorate.
    mutating func command(_ n: NodeID, _ action: FenceAction, _ c: FenceContext, _ now: Instant, _ box: inout Outbox) {
        if let why = refusal(n, manualFence: true, c) { return box.append(.notice(.fence(.refused(n, reason: why)))) }
        let inc = knownIncarnation(n, c)
        jobs[n] = FenceJob(target: Member(n, max(inc, pending[n] ?? 0)), action: action, manual: true, notBefore: now)
        start(n, c, now, &box)
    }

    private func refusal(_ n: NodeID, manualFence: Bool, _ c: FenceContext) -> FenceRefusal? {
        if !policy.enabled { return .notEnabled }
        if !c.nodes.contains(n) { return .noSuchNode }
        if n == c.me.node { return .itself }
        if manualFence && !c.view.quorate { return .notQuorate }
        if manualFence && jobs[n]?.order != nil { return .alreadyRunning }
        return nil
    }

    /// Operator swears `n` is off: counts as fenced (recorded everywhere), even without quorum.
    mutating func confirm(_ n: NodeID, _ c: FenceContext, _ now: Instant, _ box: inout Outbox) {
        if let why = refusal(n, manualFence: false, c) { return box.append(.notice(.fence(.refused(n, reason: why)))) }
        if let order = jobs[n]?.order { box.append(.abortFence(order)) }
        jobs[n] = FenceJob(target: Member(n, pending[n] ?? knownIncarnation(n, c)), action: .off, manual: true,
                           notBefore: now, startedAt: now)
        finish(n, .confirmed, c, now, &box)
    }

    /// Stop feeding the watchdog now (the arbiter's vote lapsed and this node lost quorum by it).
    mutating func selfFence(_ reason: SelfFenceReason, _ box: inout Outbox) {
        guard policy.watchdog != nil, watchdogArmed, !stoppedFeeding else { return }
        stoppedFeeding = true
        box.append(.notice(.fence(.selfFence(reason: reason))))
        box.append(.watchdog(.stopFeeding))
    }

    private mutating func watchdogStep(_ c: FenceContext, _ now: Instant, _ box: inout Outbox) {
        guard let wd = policy.watchdog, !stoppedFeeding else { return }
        if let p = pending[c.me.node], p >= c.me.incarnation, (policy.levels[c.me.node] ?? []).isEmpty {
            // The cluster wants us fenced and no device can do it: the watchdog must.
            stoppedFeeding = true
            box.append(.notice(.fence(.selfFence(reason: .noDevice))))
            if watchdogArmed { box.append(.watchdog(.stopFeeding)) }
            return
        }
        if c.view.quorate {
            if !watchdogArmed { box.append(.watchdog(.arm)) }
            watchdogArmed = true
            inquorateSince = nil
            return
        }
        guard watchdogArmed else { return }
        let since = inquorateSince ?? now
        inquorateSince = since
        if now - since >= wd.quorumLossBound {
            stoppedFeeding = true
            box.append(.notice(.fence(.selfFence(reason: .inquorate(now - since)))))
            box.append(.watchdog(.stopFeeding))
        }
    }
}

/// What fencing reads of its node, passed in on every call.
struct FenceContext {
    var me: Member
    /// Every configured node.
    var nodes: NodeSet
    var view: View
    var owner: NodeID?
    var peers: PeerTable
    var timing: Timing
    var leaving: Bool
    /// This side holds more than half of the expected votes (no fence race is possible).
    var majority = true
    /// The arbiter is asked again for this view: attempts neither start nor are aborted meanwhile.
    var awaitingVote = false
    /// Each node's total resource priority, from the last reports (only while something is pending
    /// and `priorityDelay` is set).
    var priorities: [NodeID: Int] = [:]
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
