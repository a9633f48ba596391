import VigilCore

/// A live configuration, judged (issue 14): a resource runs only under the definition of the
/// policy its node runs, never under two definitions at once, and after a quiet period only
/// what the current policy contains runs, under its current definition.
extension Simulation {
    /// At each start a node orders: the node's own policy contains the resource, and no other
    /// node runs it under another definition (a changed clone drains before it starts again).
    func checkDefinition(_ rid: String, on n: NodeID) {
        guard let policy = slots[Int(n.rawValue)].node?.config.resources else { return }
        guard policy.ids.contains(rid) else {
            return invariants.fail(.definition, n, "\(rid) started, but this node's policy \(policy.version) has no such resource", at: now)
        }
        let def = policy.definitions[rid] ?? 0
        for other in resourceActive[rid, default: []] where other != n && slots[Int(other.rawValue)].node != nil {
            if let d = startedDefinition[rid]?[other], d != def {
                invariants.fail(.definition, n, "\(rid) started under definition \(def) while \(other) runs it under \(d)", at: now)
            }
        }
        startedDefinition[rid, default: [:]][n] = def
    }

    /// After a quiet period: nothing runs that the current policy removed or redefined.
    func checkDefinitionsCurrent() {
        let policy = config.resources
        for (rid, nodes) in resourceActive.sorted(by: { $0.key < $1.key }) {
            let alive = nodes.filter { slots[Int($0.rawValue)].node != nil }.sorted()
            guard !alive.isEmpty else { continue }
            guard policy.ids.contains(rid) else {
                invariants.fail(.definition, nil, "\(rid) still active on \(alive) after the quiet period; policy \(policy.version) removed it", at: now)
                continue
            }
            let stale = alive.filter { startedDefinition[rid]?[$0] != (policy.definitions[rid] ?? 0) }
            if !stale.isEmpty {
                invariants.fail(.definition, nil, "\(rid) runs an old definition on \(stale) after the quiet period (policy \(policy.version))", at: now)
            }
        }
    }
}
