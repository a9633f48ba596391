/// The supervisor's side of ordering constraints: a node does not start a THEN (the owner's
/// start, or the start of an in-place restart) while a mandatory FIRST of it does not run whole
/// on some member, as the members' reports (this node's own included) say. The owner decided
/// from older reports; the owner decides again from this node's report.
extension Supervisor {
    /// The first member of a mandatory FIRST of `rid`'s unit that runs nowhere, if any (only for
    /// the unit's leading resource: later members follow it).
    func orderFirstNotRunning(_ rid: String) -> String? {
        for o in policy.orders where o.mandatory && o.then == rid {
            guard let f = policy.units.first(where: { $0.resources.first == o.first }) else { continue }
            let up = reports.values.contains { r in f.resources.allSatisfy { r.entries[$0]?.state == .running } }
            if !up { return f.resources.first { rid in !reports.values.contains { $0.entries[rid]?.state == .running } } ?? o.first }
        }
        return nil
    }
}
