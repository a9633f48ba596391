/// Clone notifications (pure, in the owner): Pacemaker's `notify=true` (pe_notif.c). Around each
/// operation the owner carries out on a clone's instances (demote, stop, start, promote, in that
/// order within one transition), every instance that is up is told before (pre) and after (post),
/// with the lists of the transition: what starts, stops, is promoted or demoted, what was active
/// and promoted when it began, where the clone may run. Each round is a barrier: the operation is
/// sent once every recipient has run its pre-notification (its report's ack reaches the command),
/// and the post round once the operation has ended on every target. A node pending fencing is
/// never a recipient (the owner decides only after fencing anyway); a notification that fails is
/// logged and counts as done; a recipient that leaves the view is no longer waited for.
///
/// Consecutive rounds whose operations follow that order form one transition and share its lists
/// (a switchover, demote then promote, gives PAF both lists in the promote round, as Pacemaker
/// does); an operation earlier in the order starts a new transition.
struct NotifyRound: Equatable, Sendable {
    enum Step: Equatable, Sendable { case pre, action, post }
    /// The transition's lists; `phase` and `operation` those of the round under way.
    var info: NotifyInfo
    /// The view it runs in: a new view ends it (as a membership change aborts Pacemaker's
    /// transition; the operations still decided get a new round).
    var view: ViewID
    /// Nil between rounds of an open transition.
    var step: Step?
    var targets = NodeSet.empty
    /// Recipients not yet done: the owner's first command seq to each, and when it last sent one.
    var waiting: [NodeID: Sent] = [:]
    struct Sent: Equatable, Sendable {
        var seq: UInt32
        var at: Instant
    }
}

/// A notification running on this node: the owner's command it answers.
struct NotifyRun: Equatable, Sendable {
    var ack: CommandAck
    var info: NotifyInfo
}

enum Notifications {
    /// The operations of one transition, in Pacemaker's order.
    static let order: [ResourceAction] = [.demote, .stop, .start, .promote]

    /// Instances told: those active with no operation under way, failed ones included (PAF's
    /// pre-demote and pre-stop recover a crashed primary or standby so that its stop succeeds).
    static func told(_ s: ResourceState?) -> Bool { [.running, .promoted, .failed, .failedPromoted].contains(s) }

    static func action(_ d: OwnerDecision.Decision) -> (String, NodeID, ResourceAction)? {
        switch d {
        case let .start(r, n): (r, n, .start)
        case let .stop(r, n): (r, n, .stop)
        case let .promote(r, n): (r, n, .promote)
        case let .demote(r, n): (r, n, .demote)
        default: nil
        }
    }
}

extension Supervisor {
    /// The owner's decisions with the notification barriers of every notify clone applied.
    mutating func gateNotifications(_ decisions: [OwnerDecision.Decision], _ c: SupervisorContext, _ now: Instant,
                                    _ box: inout Outbox) -> [OwnerDecision.Decision] {
        let notifying = Set(policy.units.filter { $0.clone?.notify == true && $0.resources.count == 1 }.map { $0.resources[0] })
        guard !notifying.isEmpty else { return decisions }
        var allowed: [String: [OwnerDecision.Decision]] = [:]
        for rid in notifying.sorted() {
            let mine = decisions.filter { Notifications.action($0)?.0 == rid }
            allowed[rid] = notifyStep(rid, mine, c, now, &box)
        }
        return decisions.filter { d in
            guard let (rid, _, _) = Notifications.action(d), notifying.contains(rid) else { return true }
            return allowed[rid]?.contains(d) ?? false
        }
    }

    /// One clone's round: what of its decided operations may go out now.
    private mutating func notifyStep(_ rid: String, _ mine: [OwnerDecision.Decision], _ c: SupervisorContext, _ now: Instant,
                                     _ box: inout Outbox) -> [OwnerDecision.Decision] {
        let members = c.view.nodes
        let up = NodeSet(members.filter { n in !c.pending.contains(n) && c.fenceable.contains(n) && Notifications.told(reports[n]?.entries[rid]?.state) })
        guard var r = notifyRounds[rid], r.view == c.view.id else {
            return beginRound(rid, mine, fresh: true, up, c, now, &box)
        }
        for (n, w) in r.waiting {
            let ack = reports[n]?.entries[rid]?.ack
            let done = ack.map { $0.view == c.view.id && $0.from == c.me && $0.seq >= w.seq } ?? false
            if done || !members.contains(n) || c.pending.contains(n) || !c.fenceable.contains(n) { r.waiting[n] = nil }
        }
        r.targets = r.targets.intersection(members)
        notifyRounds[rid] = r
        // The round's operation, as still decided for its targets.
        let decided = mine.filter { d in Notifications.action(d).map { $0.2 == r.info.operation && r.targets.contains($0.1) } ?? false }
        switch r.step {
        case nil:
            // Between rounds: the transition goes on with an operation later in the order, or ends.
            return beginRound(rid, mine, fresh: false, up, c, now, &box)
        case .pre?:
            guard r.waiting.isEmpty else {
                resendNotifications(rid, c, now, &box)
                return []
            }
            notifyRounds[rid]?.step = .action
            return decided
        case .action?:
            let busy: Set<ResourceState> = [.starting, .stopping, .promoting, .demoting]
            let inFlight = r.targets.contains { n in
                busy.contains(reports[n]?.entries[rid]?.state ?? .unknown) || unackedStarts[rid]?[n] != nil || unackedPromotes[rid]?[n] != nil
            }
            if !decided.isEmpty || inFlight { return decided }
            notifyRounds[rid]?.step = .post
            notifyRounds[rid]?.info.phase = .post
            sendNotifications(rid, to: up, c, now, &box)
            return notifyStep(rid, mine, c, now, &box)
        case .post?:
            guard r.waiting.isEmpty else {
                resendNotifications(rid, c, now, &box)
                return []
            }
            notifyRounds[rid]?.step = nil
            return beginRound(rid, mine, fresh: false, up, c, now, &box)
        }
    }

    /// Starts the round of the first operation (in the order) among the decisions, in the open
    /// transition if it comes later in the order than the last round's, else in a new one.
    private mutating func beginRound(_ rid: String, _ mine: [OwnerDecision.Decision], fresh: Bool, _ up: NodeSet,
                                     _ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) -> [OwnerDecision.Decision] {
        guard let op = Notifications.order.first(where: { k in mine.contains { Notifications.action($0)?.2 == k } }) else {
            notifyRounds[rid] = nil  // nothing to do: the transition is over
            return []
        }
        let targets = NodeSet(mine.compactMap { d in Notifications.action(d).flatMap { $0.2 == op ? $0.1 : nil } })
        var info: NotifyInfo
        if !fresh, let open = notifyRounds[rid], open.view == c.view.id, Notifications.order.firstIndex(of: open.info.operation)! < Notifications.order.firstIndex(of: op)! {
            info = open.info
        } else {
            let promoted = NodeSet(up.filter { reports[$0]?.entries[rid]?.state.holdsPromoted == true })
            info = NotifyInfo(phase: .pre, operation: op, active: up, promoted: promoted,
                              available: c.view.nodes.subtracting(admin.standby).subtracting(c.pending))
        }
        info.phase = .pre
        info.operation = op
        switch op {
        case .start: info.start = info.start.union(targets)
        case .stop: info.stop = info.stop.union(targets)
        case .promote: info.promote = info.promote.union(targets)
        case .demote: info.demote = info.demote.union(targets)
        }
        notifyRounds[rid] = NotifyRound(info: info, view: c.view.id, step: .pre, targets: targets)
        sendNotifications(rid, to: up, c, now, &box)
        return notifyStep(rid, mine, c, now, &box)
    }

    private mutating func sendNotifications(_ rid: String, to nodes: NodeSet, _ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        guard let info = notifyRounds[rid]?.info else { return }
        for n in nodes {
            commandSeq &+= 1
            notifyRounds[rid]?.waiting[n] = NotifyRound.Sent(seq: commandSeq, at: now)
            if n == c.me {
                notified(rid, info, CommandAck(view: c.view.id, from: c.me, seq: commandSeq), &box)
            } else {
                box.broadcast(.resourceNotify(view: c.view.id, seq: commandSeq, node: n, id: rid, info: info))
            }
        }
    }

    /// Recipients silent for a second get the notification again (it may have been lost; a node
    /// that is running it, or ran it, ignores the copy).
    private mutating func resendNotifications(_ rid: String, _ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        guard let r = notifyRounds[rid] else { return }
        for (n, w) in r.waiting.sorted(by: { $0.key < $1.key }) where now - w.at >= .seconds(1) {
            notifyRounds[rid]?.waiting[n]?.at = now
            // The same seq: a node that ran it already (its report lost) does not run it twice.
            // This node too: its copy was passed over while an earlier notification still ran.
            if n == c.me { notified(rid, r.info, CommandAck(view: c.view.id, from: c.me, seq: w.seq), &box); continue }
            box.broadcast(.resourceNotify(view: c.view.id, seq: w.seq, node: n, id: rid, info: r.info))
        }
    }

    /// A notification for this node: run by the agent if the instance is up here (one at a
    /// time, never beside another of its operations), else answered at once.
    mutating func notified(_ rid: String, _ info: NotifyInfo, _ ack: CommandAck, _ box: inout Outbox) {
        guard let e = local[rid] else { return }
        if let a = obeyed[rid], a.covers(ack) { return }
        guard notifying[rid] == nil else { return }  // one is running: its ack answers this copy too
        guard Notifications.told(e.state) else {
            obeyed[rid] = ack
            changed = true
            return
        }
        notifying[rid] = NotifyRun(ack: ack, info: info)
        box.append(.resource(ResourceOrder(id: rid, op: .notify, notify: info)))
    }

    /// A notification ended here: acknowledged by the next report, whatever the agent said.
    mutating func notifyDone(_ rid: String, _ outcome: ResourceOutcome, _ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        guard let run = notifying.removeValue(forKey: rid) else { return }
        if !(obeyed[rid]?.covers(run.ack) ?? false) { obeyed[rid] = run.ack }
        box.append(.notice(.resource(.notified(id: rid, run.info, ok: outcome == .running))))
        if stopAfterStart.remove(rid) != nil {
            box.append(.resource(ResourceOrder(id: rid, op: .stop)))
        } else if let r = notifyRounds[rid], r.view == c.view.id, let w = r.waiting[c.me] {
            // The owner's own copy of a newer round was passed over while this one ran: run it now.
            notified(rid, r.info, CommandAck(view: c.view.id, from: c.me, seq: w.seq), &box)
        }
        sendReport(c, now, &box)
        decideIfOwner(c, now, &box)
    }
}
