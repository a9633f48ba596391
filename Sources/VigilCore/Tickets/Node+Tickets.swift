/// The node's side of site tickets (Tickets.swift): requests on each tick, the shell's answers,
/// the operator's commands, and the owner's placement told when a ticket becomes usable or not.
extension Node {
    /// Every ticket as this node sees it (empty without `[[ticket]]`).
    public func ticketStatus(at now: Instant) -> [TicketStatus] { tickets?.status(view: view, now) ?? [] }

    mutating func ticketStep(_ now: Instant, _ out: inout [Effect]) {
        guard var t = tickets else { return }
        // The owner releases a revoked ticket once it knows the ticket's resources stopped everywhere.
        let stopped = owner == id ? Set(t.keepers.values.filter { k in
            k.holder?.state == .revoked && (!config.releaseGate || supervisor.stoppedEverywhere(k.policy.resources, view: view))
        }.map(\.policy.name)) : []
        for r in t.step(me: me, view: view, soon: ticketsSoon, stopped: stopped, now) { out.append(.ticket(r)) }
        ticketsSoon = false
        tickets = t
        judgeTickets(now, &out)
    }

    mutating func ticketAnswered(_ id: UInt64, _ a: TicketAnswer, _ now: Instant, _ out: inout [Effect]) {
        guard let (name, before, after, grant) = tickets?.answer(id, a, now) else { return }
        if before != after { out.append(.notice(.ticket(.holder(name, after)))) }
        // The operator's grant is answered by etcd: taken, or held by another site.
        if let why = grant { out.append(.notice(.ticket(why.isEmpty ? .command(.grant(name)) : .refused(name, reason: why)))) }
        judgeTickets(now, &out)
    }

    mutating func ticketCommand(_ c: TicketCommand, _ now: Instant, _ out: inout [Effect]) {
        guard tickets != nil else { return out.append(.notice(.ticket(.refused(c.name, reason: "no [[ticket]] is configured")))) }
        guard var t = tickets else { return }
        let refusal = t.command(c, quorate: view.quorate)
        tickets = t
        if let why = refusal {
            return out.append(.notice(.ticket(.refused(c.name, reason: why))))
        }
        if case .grant = c {} else { out.append(.notice(.ticket(.command(c)))) }
        ticketStep(now, &out)
    }

    /// A ticket usable or not any more: the owner places again (its loss policy or its start).
    private mutating func judgeTickets(_ now: Instant, _ out: inout [Effect]) {
        guard var t = tickets else { return }
        let changed = t.judge(view: view, now)
        tickets = t
        guard !changed.isEmpty else { return }
        for (name, usable) in changed { out.append(.notice(.ticket(.usable(name, usable)))) }
        supervisor.placementChanged()
    }
}
