import VigilCore

/// Random changes to a resource policy, as an operator's `vigilctl config apply` makes them: a
/// resource added, one that nothing refers to removed, one redefined (a new parameter: a group
/// member, a clone, the promotable clone alike), or the group's preferred node moved.
enum PolicyChange {
    /// `version`: the new policy's (default: the next after `p`'s; two changes drawn from one
    /// policy at once need their own).
    static func draw(_ p: ResourcePolicy, version: UInt64? = nil, nodes: [NodeID], _ rng: inout SeededRandom) -> ResourcePolicy {
        var q = p
        q.version = version ?? p.version + 1
        let free = q.units.indices.filter { i in
            q.units[i].clone == nil && q.units[i].resources.count == 1 && !referenced(q.units[i].resources[0], in: q)
        }
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            let rid = "extra\(q.version)"
            q.units.append(PlacementUnit(resources: [rid], spread: rng.chance(0.5) ? "web" : nil))
            q.monitorInterval[rid] = .ms(200)
        case 1 where !free.isEmpty:
            let rid = q.units.remove(at: free.randomElement(using: &rng)!).resources[0]
            q.monitorInterval[rid] = nil
            q.definitions[rid] = nil
            q.onFail[rid] = nil
            q.failureTimeout[rid] = nil
        case 3 where !q.units[0].location.isEmpty:
            q.units[0].location = [nodes.randomElement(using: &rng)!: 100]
        default:
            let rid = q.ids.randomElement(using: &rng)!
            q.definitions[rid] = q.version
        }
        return q
    }

    /// Named by another unit's colocation or by an order (so removing it would leave a dangling
    /// reference, which the config validator refuses).
    static func referenced(_ rid: String, in p: ResourcePolicy) -> Bool {
        p.orders.contains { $0.first == rid || $0.then == rid }
            || p.units.contains { $0.with == rid || $0.near.contains { $0.resource == rid } || $0.apart.contains(rid) }
    }
}
