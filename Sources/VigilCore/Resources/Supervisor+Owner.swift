/// The owner's side of the supervisor: what its decision reads, and a guard on the starts it sends.
extension Supervisor {
    /// What the owner's decision depends on.
    func ownerInputs(_ c: SupervisorContext, _ now: Instant) -> OwnerDecision.Inputs {
        var i = OwnerDecision.Inputs(view: c.view)
        i.reports = reports
        i.lastKnown = lastKnown
        i.unackedStarts = unackedStarts
        i.unackedPromotes = unackedPromotes
        i.attributes = c.attributes
        i.promoteGate = c.promoteGate
        i.pending = c.pending
        i.fenceable = c.fenceable
        i.fenceGate = c.fenceGate
        i.admin = admin
        i.units = c.applyRules ? Rules.apply(adminUnits, attributes: c.attributes, nodes: c.view.nodes, policy: policy) : adminUnits
        i.onFail = policy.onFail
        i.orders = policy.orders
        i.applyOrders = c.applyOrders
        i.configuredNodes = c.nodes.count
        i.uptime = now - c.startedAt
        return i
    }

    /// A stop of an earlier member of `rid`'s group sent to `n` that its report does not show yet
    /// (seed 297 with clones: the start of app overtook the stop of fs sent just before it).
    func stopInFlight(before rid: String, on n: NodeID, _ now: Instant) -> Bool {
        guard let u = policy.units.first(where: { $0.resources.contains(rid) }) else { return false }
        return u.resources.prefix(while: { $0 != rid }).contains { m in
            sent[CommandKey(node: n, resource: m, action: .stop)].map { now - $0 < .seconds(1) } == true
                && reports[n]?.entries[m]?.state == .running
        }
    }
}
