/// Membership: the lowest-numbered node among those a node hears is the coordinator. When the
/// coordinator's alive set differs from the view (and its peers' heartbeats agree on who is alive,
/// or `settle` has passed), it proposes a view with a higher id; members ack; the coordinator
/// installs and tells them. See docs/membership.md for the algorithm and its bounds.
extension Node {
    /// Membership's messages (the node routes the others: Node.dispatch).
    mutating func receiveMembership(_ m: Message, from sender: Member, _ now: Instant, _ out: inout [Effect]) {
        switch m {
        case let .heartbeat(v, alive):
            maxEpochSeen = max(maxEpochSeen, v.epoch)
            detector.peers[sender.node]?.reportedView = v
            detector.peers[sender.node]?.reportedAlive = alive
            detector.peers[sender.node]?.reportedAt = now
            // A lost install is recovered from the coordinator's heartbeat showing the view we acked.
            if let p = pending, p.id == v, v.coordinator == sender.node {
                install(p.id, p.members, now, &out)
            }
        case let .propose(v, members):
            maxEpochSeen = max(maxEpochSeen, v.epoch)
            onPropose(v, members, from: sender, now, &out)
        case let .ack(v, clean):
            learnClean(clean)
            guard var p = proposal, p.id == v, p.members.contains(sender) else { return }
            p.acks.insert(sender.node)
            proposal = p
            if p.acks == NodeSet(p.members.map(\.node)) { commit(p, now, &out) }
        case let .install(v, members, clean):
            maxEpochSeen = max(maxEpochSeen, v.epoch)
            learnClean(clean)
            guard v.coordinator == sender.node, members.contains(me) else { return }
            install(v, members, now, &out)
        case .leave:
            cleanLeft[sender.node] = max(cleanLeft[sender.node] ?? 0, sender.incarnation)
            noted(detector.left(sender.node, incarnation: sender.incarnation), now, &out)
        default:
            break
        }
    }

    private mutating func onPropose(_ v: ViewID, _ members: [Member], from sender: Member,
                                    _ now: Instant, _ out: inout [Effect]) {
        guard v.coordinator == sender.node, members.first == sender, members.contains(me),
              v > promised || pending?.id == v
        else { return }
        promised = v
        pending = Proposal(id: v, members: members)
        broadcast(.ack(view: v, cleanLeft: cleanList), &out)
    }

    /// Called after every event: the coordinator's decision to propose (or re-send) a view.
    mutating func evaluateMembership(_ now: Instant, _ out: inout [Effect]) {
        let timing = config.timing
        guard !leaving, now - startedAt >= timing.joinWait else { return }
        let desired = aliveMembers
        let desiredNodes = NodeSet(desired.map(\.node))
        guard desiredNodes.min == id else {
            proposal = nil
            return
        }
        if let p = proposal {
            if p.members == desired && now - p.sentAt < timing.ackTimeout {
                if now - p.lastSent >= timing.interval {  // members may have missed it
                    proposal?.lastSent = now
                    broadcast(.propose(view: p.id, members: p.members), &out)
                }
                return
            }
            proposal = nil
        }
        guard view.members != desired || peersDisagree(now) else { return }
        let agreed = desired.allSatisfy { m in
            guard m.node != id, let p = detector.peers[m.node] else { return true }
            return p.reportedAlive == desiredNodes && (p.reportedAt ?? .zero) >= aliveChangedAt
        }
        guard agreed || now - aliveChangedAt >= timing.settle else { return }
        propose(desired, now, &out)
    }

    /// A member of our view keeps reporting a different view: it missed something; re-form.
    private func peersDisagree(_ now: Instant) -> Bool {
        view.members.contains { m in
            guard m.node != id, let p = detector.peers[m.node], let at = p.reportedAt else { return false }
            return p.reportedView != view.id && at - view.installedAt > config.timing.settle
        }
    }

    private mutating func propose(_ members: [Member], _ now: Instant, _ out: inout [Effect]) {
        let v = ViewID(epoch: max(maxEpochSeen, promised.epoch, view.id.epoch) + 1, coordinator: id)
        promised = v
        let p = Proposal(id: v, members: members, acks: NodeSet([id]), sentAt: now, lastSent: now)
        proposal = p
        if members.count == 1 { return commit(p, now, &out) }
        broadcast(.propose(view: v, members: members), &out)
    }

    private mutating func commit(_ p: Proposal, _ now: Instant, _ out: inout [Effect]) {
        if p.members.count > 1 { broadcast(.install(view: p.id, members: p.members, cleanLeft: cleanList), &out) }
        install(p.id, p.members, now, &out)
    }

    mutating func install(_ v: ViewID, _ members: [Member], _ now: Instant, _ out: inout [Effect]) {
        guard v > view.id else { return }
        let change = ViewChange.between(view.members, members) { m in (cleanLeft[m.node] ?? 0) >= m.incarnation }
        let nodes = NodeSet(members.map(\.node))
        if config.quorum.isComplete(nodes) { allSeenTogether = true }
        let wasQuorate = view.quorate
        view = View(id: v, members: members, quorate: config.quorum.isQuorate(nodes, allSeenTogether: allSeenTogether),
                    installedAt: now)
        promised = max(promised, v)
        supervisor.viewChanged()  // report resources at once in the new view (the owner waits for it)
        maxEpochSeen = max(maxEpochSeen, v.epoch)
        pending = nil
        if let p = proposal, p.id <= v { proposal = nil }
        out.append(.notice(.viewInstalled(view, change)))
        if view.quorate != wasQuorate { out.append(.notice(.quorumChanged(quorate: view.quorate))) }
        let quorate = view.quorate
        fencing(&out) { f, _, box in f.recordUnclean(change, quorate: quorate, now, &box) }
    }

    private mutating func learnClean(_ list: [Member]) {
        for m in list where (cleanLeft[m.node] ?? 0) < m.incarnation { cleanLeft[m.node] = m.incarnation }
    }

    private var cleanList: [Member] { cleanLeft.map { Member($0.key, $0.value) }.sorted() }
}
