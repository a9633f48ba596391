/// The node's side of the external vote (Arbiter.swift): its requests on each tick, the shell's
/// answers, and the vote's effect on the view's quorum (and, when it lapses, on the watchdog).
extension Node {
    /// The arbiter as status shows it (nil without `[arbiter]`).
    public func arbiterStatus(at now: Instant) -> ArbiterStatus? {
        arbiter?.status(view, watchdog: arbiterWatchdog, now)
    }

    /// The view's quorum counts the arbiter's vote now.
    public var hasArbiterVote: Bool { membership.voteCounted }
    /// The view would be quorate with the vote, and the arbiter is being asked again for it.
    public var awaitingArbiter: Bool { membership.awaitingVote }

    /// The watchdog's timeout while it is armed and fed: the vote is counted that much less long.
    var arbiterWatchdog: TimeSpan? { feedsWatchdog ? config.fencing.watchdog?.timeout : nil }

    /// On every tick: the next request, then the vote judged again.
    mutating func arbiterStep(_ now: Instant, _ out: inout [Effect]) {
        guard var a = arbiter else { return }
        if arbiterHandover == .waiting {
            // The handover's answer is late: the request failed; the leave goes on without it.
            if a.handoverOverdue(now) {
                arbiterHandover = .done
                arbiter = a
                return leave(&out)
            }
            return
        }
        let delegate = view.nodes.min == id
        if let r = a.step(me: me, delegate: delegate, needsVote: membership.couldUseVote, soon: arbiterSoon, now) {
            out.append(.arbiter(r))
        }
        arbiterSoon = false
        arbiter = a
        judgeVote(now, &out)
    }

    mutating func arbiterAnswered(_ id: UInt64, _ answer: ArbiterAnswer, _ now: Instant, _ out: inout [Effect]) {
        guard arbiter != nil else { return }
        let before = arbiter?.holder
        arbiter?.answer(id, answer, now)
        if arbiter?.holder != before { out.append(.notice(.arbiter(.holder(arbiter?.holder)))) }
        if arbiterHandover == .waiting && !(arbiter?.handingOver ?? false) {
            arbiterHandover = .done
            return leave(&out)
        }
        judgeVote(now, &out)
    }

    mutating func arbiterHeuristics(_ pass: Bool, _ out: inout [Effect]) {
        guard arbiter != nil, arbiter?.heuristicsPass != pass else { return }
        arbiter?.heuristicsPass = pass
        out.append(.notice(.arbiter(.heuristics(pass: pass))))
    }

    /// The vote's holder and the end of its proof (less the watchdog's margin) go to membership,
    /// which judges the view's quorum with them. Quorum lost by the vote lapsing stops the watchdog
    /// at once: the board must reset before the lease can expire on the server.
    private mutating func judgeVote(_ now: Instant, _ out: inout [Effect]) {
        guard let a = arbiter else { return }
        let until = a.holder == nil ? now : a.provenUntil - (arbiterWatchdog.map(a.policy.watchdogMargin) ?? .zero)
        var lost = false
        membershipCall(&out) { ms, _, box in
            lost = ms.arbiter(holder: a.holder, until: until, answeredAt: a.answeredSentAt, failedAt: a.failedSentAt, now, &box)
        }
        if lost && arbiterWatchdog != nil {
            fencing(&out) { f, _, box in f.selfFence(.arbiterLapsed, &box) }
        }
    }

    /// A clean leave: the holder hands the key to the lowest other member of its view and says
    /// goodbye once etcd answered (or the request failed), so that the member finds the vote its
    /// own when it installs the view without this node. Returns whether the leave waits for it.
    mutating func arbiterHandsOver(_ out: inout [Effect]) -> Bool {
        guard arbiterHandover == .none, var a = arbiter else { return arbiterHandover == .waiting }
        guard let r = a.leave(me: me, successor: view.members.first { $0.node != id }, lastNow) else { return false }
        out.append(.arbiter(r))
        arbiter = a
        arbiterHandover = .waiting
        return true
    }
}

/// Where a graceful leave stands with the arbiter's vote.
enum ArbiterHandover: Equatable, Sendable { case none, waiting, done }
