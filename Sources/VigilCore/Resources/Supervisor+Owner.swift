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
        i.policy = policy.version
        i.policyGate = c.policyGate
        i.ticketLoss = c.ticketLoss
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

    /// The owner's decision (OwnerDecision.swift), carried out in order.
    mutating func decide(_ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        settleDrains(c)
        guard !c.documentBehind else { return }
        guard let verdict = OwnerDecision.make(ownerInputs(c, now)) else { return }
        for rid in verdict.forget { lastKnown[rid] = nil }
        for u in verdict.dropUnacked { unackedStarts[u.resource]?[u.node] = nil }
        for rid in unackedPromotes.keys { unackedPromotes[rid] = unackedPromotes[rid]?.filter { c.view.nodes.contains($0.key) } }
        for d in gateNotifications(verdict.decisions, c, now, &box) {
            switch d {
            case let .escalate(rid, n):
                box.append(.notice(.resource(.escalate(id: rid, node: n))))
                box.requireFencing(n, at: now)
            case .fence(let n):
                box.requireFencing(n, at: now)
            case let .stop(rid, n):
                send(rid, .stop, to: n, c, now, &box)
            case let .start(rid, _) where drained(rid, c), let .promote(rid, _) where drained(rid, c):
                continue  // a changed clone: not before every old instance stopped (Supervisor+Adopt.swift)
            case let .start(rid, n) where !stopInFlight(before: rid, on: n, now):
                send(rid, .start, to: n, c, now, &box)
            case .start:
                continue
            case let .promote(rid, n):
                send(rid, .promote, to: n, c, now, &box)
            case let .demote(rid, n):
                send(rid, .demote, to: n, c, now, &box)
            }
        }
    }

    private mutating func send(_ rid: String, _ action: ResourceAction, to n: NodeID, _ c: SupervisorContext, _ now: Instant,
                               _ box: inout Outbox) {
        let key = CommandKey(node: n, resource: rid, action: action)
        if let at = sent[key], now - at < .seconds(1) { return }
        sent[key] = now
        box.append(.notice(.resource(.command(id: rid, node: n, action: action))))
        if n == c.me {
            command(rid, action, &box)
            sendReport(c, now, &box)  // our own report must show it before the next decision (seed 64)
        } else {
            commandSeq &+= 1
            if action == .start {
                unackedStarts[rid, default: [:]][n] = commandSeq
                unackedStartViews[rid, default: [:]][n] = c.view.id
                lastKnown[rid] = n
            }
            if action == .promote { unackedPromotes[rid, default: [:]][n] = commandSeq }
            if action == .start || action == .promote { unackedPolicy[key] = policy.version }
            box.broadcast(.resourceCommand(view: c.view.id, seq: commandSeq, node: n, id: rid, action: action, policy: policy.version))
        }
    }
}

extension Supervisor {
    /// The owner knows none of `rids` possibly active anywhere: every member's report of this view
    /// shows each stopped, no start is unconfirmed, and no node that left the view still counts
    /// as running one (`lastKnown` keeps such a node until it is fenced or left cleanly). A
    /// revoked site ticket is released then (Tickets/Tickets.swift).
    func stoppedEverywhere(_ rids: [String], view: View) -> Bool {
        view.nodes.allSatisfy { n in
            guard let r = reports[n], r.view == view.id, r.probed else { return false }
            return rids.allSatisfy { r.entries[$0].map { !$0.state.mayBeActive } ?? false }
        } && rids.allSatisfy { lastKnown[$0] == nil && (unackedStarts[$0] ?? [:]).isEmpty }
    }
}
