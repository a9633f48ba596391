/// Membership: the lowest-numbered node among those a node hears is the coordinator. When the
/// coordinator's alive set differs from the view (and its peers' heartbeats agree on who is alive,
/// or `settle` has passed), it proposes a view with a higher id; members ack; the coordinator
/// installs and tells them. See docs/membership.md for the algorithm and its bounds.
///
/// A sub-machine like `Fencer` and `Supervisor`: it owns the view, the proposals and what it
/// learned of clean leaves. The failure detector (who is alive, what each peer reports) is the
/// node's, read through `MembershipContext`; a view installed goes back in the outbox
/// (`viewInstalled`), and the node tells fencing and the supervisor.
struct Membership: Equatable, Sendable {
    private(set) var quorum: QuorumPolicy
    private(set) var view = View.none
    /// The highest view id this node has proposed or acked.
    private var promised = ViewID.none
    /// The proposal this node acked as a member, and its own as coordinator.
    private(set) var pending: Proposal?
    private(set) var proposal: Proposal?
    private var maxEpochSeen: UInt64 = 0
    /// Highest incarnation of each node known to have left gracefully.
    private(set) var cleanLeft: [NodeID: Incarnation] = [:]
    /// Every configured node has been in one view (`wait_for_all`).
    private var allSeenTogether = false
    /// The arbiter's vote as the node last judged it: counted for views with this member until
    /// this time (Arbiter.swift).
    private(set) var arbiterHolder: Member?
    private(set) var arbiterUntil = Instant.zero
    /// When the arbiter's latest answered and latest failed requests were sent: the vote counts in
    /// a view only with an answer to a request sent since it was installed.
    private(set) var arbiterAnsweredAt = Instant.zero
    private(set) var arbiterFailedAt = Instant.zero
    /// The view's quorum counts the arbiter's vote (as last judged).
    private(set) var voteCounted = false
    /// The view would be quorate with the vote its holder (a member) had, and the arbiter is being
    /// asked again for this view: nothing is fenced or started, but nothing is stopped either.
    private(set) var awaitingVote = false
    /// The members of the last quorate view: who was lost meanwhile is fenced once quorum is back.
    private var lastQuorate: [Member] = []

    init(quorum: QuorumPolicy) { self.quorum = quorum }
}

/// A proposal in flight: ours as coordinator, or one we acked as a member.
struct Proposal: Equatable, Sendable {
    var id: ViewID
    var members: [Member]
    var acks = NodeSet.empty
    var sentAt = Instant.zero
    var lastSent = Instant.zero
}

/// What membership reads of its node: a snapshot taken for each call.
struct MembershipContext {
    var me: Member
    var timing: Timing
    var leaving: Bool
    var startedAt: Instant
    /// The failure detector's peers (what each reports: view, alive set, when), and the alive ones.
    var peers: PeerTable
    var alive: NodeSet
    /// When the alive set last changed.
    var aliveChangedAt: Instant
}

extension Membership {
    /// Membership's messages (the node routes the others: Node.dispatch).
    mutating func receive(_ m: Message, from sender: Member, _ c: MembershipContext, _ now: Instant, _ box: inout Outbox) {
        switch m {
        case let .heartbeat(v, _):
            maxEpochSeen = max(maxEpochSeen, v.epoch)
            // A lost install is recovered from the coordinator's heartbeat showing the view we acked.
            if let p = pending, p.id == v, v.coordinator == sender.node {
                install(p.id, p.members, now, &box)
            }
        case let .propose(v, members):
            maxEpochSeen = max(maxEpochSeen, v.epoch)
            onPropose(v, members, from: sender, c, &box)
        case let .ack(v, clean):
            learnClean(clean)
            guard var p = proposal, p.id == v, p.members.contains(sender) else { return }
            p.acks.insert(sender.node)
            proposal = p
            if p.acks == NodeSet(p.members.map(\.node)) { commit(p, now, &box) }
        case let .install(v, members, clean):
            maxEpochSeen = max(maxEpochSeen, v.epoch)
            learnClean(clean)
            guard v.coordinator == sender.node, members.contains(c.me) else { return }
            install(v, members, now, &box)
        case .leave:
            cleanLeft[sender.node] = max(cleanLeft[sender.node] ?? 0, sender.incarnation)
        default:
            break
        }
    }

    private mutating func onPropose(_ v: ViewID, _ members: [Member], from sender: Member, _ c: MembershipContext,
                                    _ box: inout Outbox) {
        guard v.coordinator == sender.node, members.first == sender, members.contains(c.me),
              v > promised || pending?.id == v
        else { return }
        promised = v
        pending = Proposal(id: v, members: members)
        box.broadcast(.ack(view: v, cleanLeft: cleanList))
    }

    /// Called after every event: the coordinator's decision to propose (or re-send) a view of
    /// `desired` (this node and every peer it hears, sorted: who should be in the view).
    mutating func evaluate(_ c: MembershipContext, _ now: Instant, _ box: inout Outbox) {
        let timing = c.timing
        guard !c.leaving, now - c.startedAt >= timing.joinWait else { return }
        var desiredNodes = c.alive
        desiredNodes.insert(c.me.node)
        guard desiredNodes.min == c.me.node else {
            proposal = nil
            return
        }
        // The coordinator: steady state costs no list (the view is what it hears, member by member).
        if proposal == nil, view.nodes == desiredNodes, zip(view.members, view.members.dropFirst()).allSatisfy({ $0.node < $1.node }),
           view.members.allSatisfy({ m in m.node == c.me.node ? m == c.me : c.peers[m.node]?.incarnation == m.incarnation }) {
            if peersDisagree(c) { evaluate(desired(c), desiredNodes, c, now, &box) }
            return
        }
        evaluate(desired(c), desiredNodes, c, now, &box)
    }

    /// This node and every alive peer with its incarnation, sorted: the view the coordinator wants.
    private func desired(_ c: MembershipContext) -> [Member] {
        ([c.me] + c.peers.members(c.alive)).sorted()
    }

    private mutating func evaluate(_ desired: [Member], _ desiredNodes: NodeSet, _ c: MembershipContext, _ now: Instant,
                                   _ box: inout Outbox) {
        let timing = c.timing
        if let p = proposal {
            if p.members == desired && now - p.sentAt < timing.ackTimeout {
                if now - p.lastSent >= timing.interval {  // members may have missed it
                    proposal?.lastSent = now
                    box.broadcast(.propose(view: p.id, members: p.members))
                }
                return
            }
            proposal = nil
        }
        guard view.members != desired || peersDisagree(c) else { return }
        let agreed = desired.allSatisfy { m in
            guard m.node != c.me.node, let p = c.peers[m.node] else { return true }
            return p.reportedAlive == desiredNodes && (p.reportedAt ?? .zero) >= c.aliveChangedAt
        }
        guard agreed || now - c.aliveChangedAt >= timing.settle else { return }
        propose(desired, c.me.node, now, &box)
    }

    /// A member of our view keeps reporting a different view: it missed something; re-form.
    private func peersDisagree(_ c: MembershipContext) -> Bool {
        view.members.contains { m in
            guard m.node != c.me.node, let p = c.peers[m.node], let at = p.reportedAt else { return false }
            return p.reportedView != view.id && at - view.installedAt > c.timing.settle
        }
    }

    private mutating func propose(_ members: [Member], _ me: NodeID, _ now: Instant, _ box: inout Outbox) {
        let v = ViewID(epoch: max(maxEpochSeen, promised.epoch, view.id.epoch) + 1, coordinator: me)
        promised = v
        let p = Proposal(id: v, members: members, acks: NodeSet([me]), sentAt: now, lastSent: now)
        proposal = p
        if members.count == 1 { return commit(p, now, &box) }
        box.broadcast(.propose(view: v, members: members))
    }

    private mutating func commit(_ p: Proposal, _ now: Instant, _ box: inout Outbox) {
        if p.members.count > 1 { box.broadcast(.install(view: p.id, members: p.members, cleanLeft: cleanList)) }
        install(p.id, p.members, now, &box)
    }

    private mutating func install(_ v: ViewID, _ members: [Member], _ now: Instant, _ box: inout Outbox) {
        guard v > view.id else { return }
        let change = ViewChange.between(view.members, members) { m in (cleanLeft[m.node] ?? 0) >= m.incarnation }
        let nodes = NodeSet(members.map(\.node))
        if quorum.isComplete(nodes) { allSeenTogether = true }
        let (wasQuorate, wasActuallyQuorate) = (view.quorate || awaitingVote, view.quorate)
        view = View(id: v, members: members, quorate: false, installedAt: now)
        view.quorate = quorum.isQuorate(nodes, allSeenTogether: allSeenTogether, arbiterVote: votes(now))
        promised = max(promised, v)
        maxEpochSeen = max(maxEpochSeen, v.epoch)
        pending = nil
        if let p = proposal, p.id <= v { proposal = nil }
        box.append(.notice(.viewInstalled(view, change)))
        if (view.quorate || awaitingVote) != wasQuorate { box.append(.notice(.quorumChanged(quorate: view.quorate || awaitingVote))) }
        box.viewInstalled(change, at: now)
        if view.quorate { quorumHeld(regained: !wasActuallyQuorate, now, &box) }
    }

    /// Judges the vote for the current view (`voteCounted`, `awaitingVote`); returns whether it counts.
    private mutating func votes(_ now: Instant) -> Bool {
        let held = arbiterHolder.map { now < arbiterUntil && view.members.contains($0) } ?? false
        let asked = arbiterAnsweredAt >= view.installedAt
        voteCounted = held && asked
        // Until the first answer (or failure) since the install, whoever the last answer named:
        // the holder may just have handed the vote to this side before leaving.
        awaitingVote = !asked && arbiterFailedAt < view.installedAt
            && !quorum.isQuorate(view.nodes, allSeenTogether: allSeenTogether) && couldUseVote
        return voteCounted
    }

    /// The vote could make this partition quorate (the arbiter takes or keeps the key only then).
    var couldUseVote: Bool { quorum.arbiterVotes > 0 && quorum.isQuorate(view.nodes, allSeenTogether: allSeenTogether, arbiterVote: true) }

    /// The arbiter's vote, judged again (on every tick, and on each answer): the view's quorum
    /// follows it at once. Returns whether the view lost quorum by it.
    mutating func arbiter(holder: Member?, until: Instant, answeredAt: Instant, failedAt: Instant, _ now: Instant,
                          _ box: inout Outbox) -> Bool {
        (arbiterHolder, arbiterUntil, arbiterAnsweredAt, arbiterFailedAt) = (holder, until, answeredAt, failedAt)
        let (was, wasAwaiting) = (view.quorate, awaitingVote)
        guard view.id != .none else { return false }
        view.quorate = quorum.isQuorate(view.nodes, allSeenTogether: allSeenTogether, arbiterVote: votes(now))
        if view.quorate && !was { quorumHeld(regained: true, now, &box) }
        // Awaiting the arbiter's answer counts as quorate for the notice (no flap at each split).
        guard (view.quorate || awaitingVote) != (was || wasAwaiting) else { return false }
        box.append(.notice(.quorumChanged(quorate: view.quorate || awaitingVote)))
        return was || wasAwaiting
    }

    /// The view is quorate: members of the last quorate view that are gone (not by a clean leave,
    /// and not back with a new life) were lost while this node could not judge, and are fenced now.
    private mutating func quorumHeld(regained: Bool, _ now: Instant, _ box: inout Outbox) {
        if regained {
            let nodes = view.nodes
            let lost = lastQuorate.filter { !nodes.contains($0.node) && (cleanLeft[$0.node] ?? 0) < $0.incarnation }
            if !lost.isEmpty { box.lostWhileInquorate(lost, at: now) }
        }
        lastQuorate = view.members
    }

    /// New votes and quorum rules (nodes added or removed by the cluster's document): the view's
    /// quorum is judged again at once.
    mutating func adopt(quorum q: QuorumPolicy, _ box: inout Outbox) {
        guard q != quorum else { return }
        quorum = q
        let was = view.quorate
        if quorum.isComplete(view.nodes) { allSeenTogether = true }
        view.quorate = quorum.isQuorate(view.nodes, allSeenTogether: allSeenTogether, arbiterVote: voteCounted)
        if view.quorate != was { box.append(.notice(.quorumChanged(quorate: view.quorate))) }
    }

    private mutating func learnClean(_ list: [Member]) {
        for m in list where (cleanLeft[m.node] ?? 0) < m.incarnation { cleanLeft[m.node] = m.incarnation }
    }

    private var cleanList: [Member] { cleanLeft.map { Member($0.key, $0.value) }.sorted() }
}
