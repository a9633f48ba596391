/// Nodes added to or removed from the cluster's document, and new votes, quorum rules or fencing
/// devices and levels, taken at run time (issue 14; docs/live-config.md).
///
/// An added node is accepted from now on (its frames were refused as unknown before) and joins
/// when it starts; votes and expected votes follow the document, and the two-node rules with them
/// (the shell derives the policy from the document as at start-up). A removed node that is still
/// alive stays a peer until it has gone, so that it can stop its resources and say goodbye: it
/// leaves as soon as it takes the document itself (a node not in the document leaves gracefully);
/// one that is down is forgotten at once. Its votes count no more from the start.
extension Node {
    mutating func adoptCluster(nodes: NodeSet, quorum: QuorumPolicy, fencing: FencingPolicy, _ now: Instant, _ out: inout [Effect]) {
        let added = nodes.subtracting(config.nodes), removed = config.nodes.subtracting(nodes)
        guard nodes.contains(id) else {
            out.append(.notice(.nodesChanged(added: added, removed: removed)))
            return handleLeave(&out)
        }
        config.nodes = nodes
        removing = removing.union(removed).subtracting(nodes)
        config.quorum = quorum
        config.quorum.arbiterVotes = arbiter == nil ? 0 : 1  // adding or removing [arbiter] needs a restart
        var f = fencing
        f.enabled = config.fencing.enabled  // turning fencing on or off needs a restart (the shell says so)
        config.fencing = f
        fencer.policy = f
        var box = Outbox()
        membership.adopt(quorum: config.quorum, &box)
        carryOut(box, &out)
        forgetRemoved()
        if !added.isEmpty || !removed.isEmpty { out.append(.notice(.nodesChanged(added: added, removed: removed))) }
        evaluateMembership(now, &out)
    }

    /// Removed nodes that have gone (not alive, not in the view) are forgotten: their frames are
    /// refused from now on. Until then they stay peers (`codec.known`, the detector).
    mutating func forgetRemoved() {
        let gone = removing.filter { n in !(detector.peers[n]?.alive ?? false) && !view.nodes.contains(n) }
        removing = removing.subtracting(NodeSet(gone))
        codec.known = config.nodes.union(removing)
        detector.setNodes(config.nodes.union(removing))
    }
}
