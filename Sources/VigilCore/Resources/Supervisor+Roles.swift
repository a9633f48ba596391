/// The supervisor's side of promotable clones (Promotion.swift): the recurring monitor of each
/// role. The node's promotes and demotes themselves are commands (`Supervisor.command`).
extension Supervisor {
    /// Monitors what runs here, at the interval of its role: a promoted instance's monitor is
    /// healthy on "running promoted" (OCF 8), an unpromoted one's on 0 (Pacemaker's two monitor
    /// operations, one per role).
    mutating func monitor(_ rid: String, promoted: Bool, _ box: inout Outbox) {
        let every = promoted ? policy.promotedMonitorInterval[rid] ?? policy.monitorInterval[rid] : policy.monitorInterval[rid]
        guard let every, every > .zero else { return }
        box.append(.resource(ResourceOrder(id: rid, op: .monitor, every: every, promoted: promoted)))
    }
}
