import VigilCore

/// The node-attribute rules, checked where the simulator sees every node's map.
extension Simulation {
    /// A write confirmed by `writer` must be held (at its version or newer) by every member of
    /// the writer's view that is still that incarnation and in the same view.
    func checkConfirmed(_ k: AttributeKey, version: UInt64, by writer: Node) {
        for m in writer.view.members where m.node != writer.id {
            guard let peer = node(m.node), isRunning(m.node), peer.incarnation == m.incarnation,
                  peer.view.id == writer.view.id else { continue }
            let held = peer.attributeEntry(k)?.version ?? 0
            if held < version {
                invariants.fail(.attributeConfirm, writer.id, "confirmed \(k) version \(version), but \(m.node) holds version \(held)", at: now)
            }
        }
    }

    /// Once attribute changes are applied, nothing runs where its rules forbid (judged with the
    /// map the nodes agree on).
    /// Not judged while a member is in maintenance (as resource liveness): what runs there is
    /// unmanaged, and a FIRST whose symmetrical THEN runs unmanaged there cannot stop (seed 86 with
    /// clones: ping stayed on a red node under g-ip on a node in maintenance), as in Pacemaker.
    func checkRules(_ n: Node) {
        guard n.view.quorate, n.adminState.maintenance.intersection(n.view.nodes).isEmpty else { return }
        for u in Rules.apply(config.resources.units, attributes: n.attributesByNode, nodes: n.view.nodes, policy: config.resources) {
            // A node in maintenance leaves what runs there alone, rules or not.
            for (node, score) in u.location where score == PlacementUnit.never && !n.adminState.maintenance.contains(node) {
                for rid in u.resources where resourceActive[rid]?.contains(node) == true {
                    invariants.fail(.ruleForbidden, node, "\(rid) active where its rules forbid it (\(n.attributesByNode[node] ?? [:]))", at: now)
                }
            }
        }
    }

    /// After a quiet period every running node holds the same map (values, deletions, versions),
    /// and nobody holds a transient value of a node that is down.
    func checkAttributesAgree(_ running: [Node]) {
        guard let first = running.first else { return }
        let map = first.attributeMap
        for n in running.dropFirst() where n.attributeMap != map {
            let theirs = n.attributeMap
            let diff = Set(theirs.map(\.key)).symmetricDifference(map.map(\.key)).sorted().prefix(3)
            invariants.fail(.attributeAgreement, n.id, "after the quiet period: \(theirs.count) entries vs \(map.count) on \(first.id)"
                            + (diff.isEmpty ? " (same keys, other versions)" : ", keys only on one: \(Array(diff))"), at: now)
        }
        checkRules(first)
        let up = Set(running.map(\.id))
        for n in running {
            for e in n.attributeMap where e.lifetime == .reboot && e.value != nil && !up.contains(e.key.node) {
                invariants.fail(.attributeAgreement, n.id, "holds transient \(e.key) = \(e.value!) of a node that is down", at: now)
            }
        }
    }
}
