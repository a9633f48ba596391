/// The resource supervisor (pure, like the whole core). Every node probes its resources at start and
/// reports their local state (`resourceReport`). One *owner* decides: the same node that would
/// fence (lowest member of the quorate view that is not itself pending). Once every member has
/// probed, it decides (`OwnerDecision`, placing with `Placer`) and tells nodes to stop or start them
/// (`resourceCommand`), stopping everywhere else before starting anywhere, one group member at a
/// time in order. A resource last seen on a node that must be fenced stays frozen until the fence
/// succeeded. A stop that fails makes that node pending for fencing (as Pacemaker does): never a
/// second start elsewhere first.

struct CommandKey: Hashable, Sendable {
    var node: NodeID
    var resource: String
    var action: ResourceAction
}

/// What the supervisor reads of its node (it owns none of it): a snapshot taken for each call.
struct SupervisorContext {
    var me: NodeID
    var nodes: NodeSet
    var view: View
    var owner: NodeID?
    /// Nodes pending fencing, and the members that could become pending (not fenced already).
    var pending: NodeSet
    var fenceable: NodeSet
    var fenceGate: Bool
    var stopWithoutQuorum: Bool
    /// The arbiter is asked again for this view (Membership.awaitingVote): nothing stops meanwhile.
    var awaitingVote = false
    /// Resources bound to a site ticket this site may not use now, with the ticket's loss policy.
    var ticketLoss: [String: TicketLoss] = [:]
    var interval: TimeSpan
    var leaving: Bool
    var startedAt: Instant
    /// The public node attributes by node (what location rules read).
    var attributes: [NodeID: [String: String]] = [:]
    var applyRules = true
    var applyOrders = true
    var promoteGate = true
    /// Commands of an owner on another resource policy are not obeyed (off only in the planted-bug check).
    var policyGate = true
    /// A member runs a newer copy of the replicated document than this node: as owner it decides
    /// nothing until it has fetched it.
    var documentBehind = false
}

/// The supervisor sub-machine: it owns this node's resources, the reports of every member, the
/// owner's bookkeeping of its commands and the operator's instructions. The node hands it a
/// `SupervisorContext` and an `Outbox`; what it needs done elsewhere (fence a member whose stop
/// failed, leave once everything here is stopped) goes back in the outbox, in order.
struct Supervisor: Equatable, Sendable {
    /// Replaced at run time by a new version (Supervisor+Adopt.swift).
    var policy: ResourcePolicy
    var local: [String: ResourceEntry] = [:]
    var probesSent = false
    var reports: [NodeID: PeerReport] = [:]
    /// The last node seen with each resource possibly active (kept after that node is lost).
    var lastKnown: [String: NodeID] = [:]
    var changed = true
    var lastReportSent = Instant.zero
    var lastDecision = Instant.zero
    /// (node, resource) -> when a command was last sent, so it is not repeated every tick.
    var sent: [CommandKey: Instant] = [:]
    var version: UInt32 = 0
    /// Commands: the owner's counter, and per resource the latest (view, seq) this node obeyed
    /// (per resource: two commands sent together may arrive in either order).
    var commandSeq: UInt32 = 0
    /// (The owner can change within one view, when a pending node is fenced: so keyed by sender too.)
    var obeyed: [String: CommandAck] = [:]
    /// Owner: starts sent to another node that its reports have not yet shown it obeyed (resource
    /// -> node -> command seq). Until then that node counts as possibly running the resource.
    var unackedStarts: [String: [NodeID: UInt32]] = [:]
    /// The view each of those starts was sent in: a report the target made in a later view shows
    /// whether it was obeyed (a node obeys no command of an older view once it installed a newer).
    var unackedStartViews: [String: [NodeID: ViewID]] = [:]
    /// Owner: promotes sent and not yet seen obeyed, likewise (the target may be promoting).
    var unackedPromotes: [String: [NodeID: UInt32]] = [:]
    /// Local instances demoted because their monitor found them failed promoted (OCF 9): failed
    /// once demoted, so the owner stops and starts them again.
    var demoteThenFail: Set<String> = []
    /// Clone notifications: this node's running now (with the owner's command they answer), and
    /// the owner's rounds per notify clone (Notifications.swift).
    var notifying: [String: NotifyRun] = [:]
    var notifyRounds: [String: NotifyRound] = [:]
    /// Latest report version seen per node incarnation: older copies arriving late are ignored.
    var versions: [NodeID: ReportVersion] = [:]
    /// The operator's instructions (Admin.swift); seeded once this node heard any copy or made one.
    var admin = AdminState()
    var adminSeeded = false
    var lastAdminSent = Instant.zero
    /// Local resources being restarted in place (stop, then start without reporting "stopped"):
    /// still to stop, and stopped but held (reported "starting") until the earlier members of
    /// their group are back. A group member's restart takes every later member with it.
    var restarting: Set<String> = []
    var heldStarts: Set<String> = []
    /// The resource policy each unacknowledged start and promote was sent under (Supervisor+Adopt.swift).
    var unackedPolicy: [CommandKey: UInt64] = [:]
    /// Local resources told to stop while their start was still running: stopped once the start
    /// has ended (a resource's operations never overlap here, as in Pacemaker; seed 710).
    var stopAfterStart: Set<String> = []
    /// When each local resource last failed (failure timeout), and the last failure seen anywhere.
    var failedAt: [String: Instant] = [:]
    var lastFailure: [String: ResourceFailure] = [:]
    /// Something the placement depends on changed (a fence succeeded): decide at the next tick.
    var decideSoon = false
    /// This incarnation has been in a quorate view (quorum can only be *lost* after that).
    var wasQuorate = false
    /// A graceful leave waits until local resources are stopped.
    var leavingAfterStop = false
    /// Local stops (leaving, restarting in place, quorum lost) reported "stopping" and held while
    /// a THEN of theirs still runs, with the state each had before (Supervisor+Orders.swift).
    var stopWaiting: [String: ResourceState] = [:]
    /// Resources a new policy removed, stopped here in their old groups' reverse order and
    /// forgotten once stopped; and changed clones, whose instances all stop under the old
    /// definition before any starts under the new one (Supervisor+Adopt.swift).
    var retiring: [[String]] = []
    /// Redefined clones whose instance here still runs the old definition (reported: the owner
    /// starts and promotes none of their instances anywhere until no member drains them).
    var draining: Set<String> = []
    /// Clones this node saw redefined whose drain is not over everywhere (Supervisor+Adopt.swift).
    var unsettledDrains: Set<String> = []
    /// Redefined while their start (under the old definition) ran: restarted once it ended.
    var redefineAfterStart: Set<String> = []
    /// The members of this node's view: what others reported counts only while they are members.
    var viewMembers = NodeSet.empty

    init(policy: ResourcePolicy) { self.policy = policy }
}

extension Supervisor {
    /// The periodic round: probes at start, quorum loss, failure expiry, reports, the operator's
    /// state, and the owner's decision.
    mutating func step(_ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        guard !policy.isEmpty, !c.leaving else { return }
        if !probesSent {
            probesSent = true
            for id in policy.ids {
                local[id] = ResourceEntry(id: id, state: .unknown, failCount: 0)
                box.append(.resource(ResourceOrder(id: id, op: .probe)))
            }
        }
        if c.view.quorate {
            wasQuorate = true
        } else if wasQuorate && c.stopWithoutQuorum && !c.awaitingVote && !admin.maintenance.contains(c.me) {
            // Quorum lost (no_quorum_policy = "stop"): stop what runs here, groups in reverse order.
            for rid in stopLocalInOrder(c, elsewhere: false, &box) { box.append(.notice(.resource(.stopWithoutQuorum(id: rid)))) }
        }
        continueWaitingStops(c, &box)
        continueRetiring(c, &box)
        settleDrains(c)
        for (rid, t) in failedAt.sorted(by: { $0.key < $1.key }) {
            guard let limit = policy.failureTimeout[rid], now - t >= limit, var e = local[rid] else { continue }
            failedAt[rid] = nil
            e.failCount = 0
            setLocal(e, &box)
            box.append(.notice(.resource(.failuresExpired(id: rid))))
        }
        if changed || now - lastReportSent >= .seconds(1) { sendReport(c, now, &box) }
        if now - lastAdminSent >= .seconds(1) {
            lastAdminSent = now
            box.broadcast(.adminState(admin))
        }
        if decideSoon || now - lastDecision >= c.interval * 5 { decideIfOwner(c, now, &box) }
    }

    /// The owner decides at once when a state it depends on changed (an operation ended here, a
    /// report changed, a fence succeeded), not only on its periodic round: each step of a group's
    /// start follows the previous one without waiting.
    mutating func decideIfOwner(_ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        decideSoon = false
        guard c.owner == c.me, !policy.isEmpty, !c.leaving else { return }
        lastDecision = now
        decide(c, now, &box)
    }

    /// A new view: report at once in it (the owner waits for every member's report).
    mutating func viewChanged(_ members: NodeSet) {
        changed = true
        viewMembers = members
    }

    /// A fence succeeded: the placement's inputs changed, the owner decides at its next tick.
    mutating func placementChanged() { decideSoon = true }

    private var probedAll: Bool { local.values.allSatisfy { $0.state != .unknown } }

    mutating func sendReport(_ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        changed = false
        lastReportSent = now
        let entries = local.values.sorted { $0.id < $1.id }.map {
            var e = $0
            e.ack = obeyed[e.id] ?? .none
            return e
        }
        noteReport(from: c.me, view: c.view.id, probed: probedAll, entries: entries, policy: policy.version,
                   draining: draining, leaving: leavingAfterStop, c, now)
        version &+= 1
        box.broadcast(.resourceReport(view: c.view.id, version: version, probed: probedAll, entries: entries,
                                      policy: policy.version, draining: draining.sorted(), leaving: leavingAfterStop))
    }

    private mutating func noteReport(from n: NodeID, view v: ViewID, probed: Bool, entries: [ResourceEntry], policy: UInt64,
                                     draining: Set<String>, leaving: Bool, _ c: SupervisorContext, _ now: Instant) {
        let before = reports[n]?.entries ?? [:]
        reports[n] = PeerReport(view: v, probed: probed, entries: Dictionary(entries.map { ($0.id, $0) }) { a, _ in a },
                                policy: policy, draining: draining, leaving: leaving)
        for e in entries {
            if e.state == .failed || e.state == .stopFailed, before[e.id]?.state != e.state {
                lastFailure[e.id] = ResourceFailure(node: n, state: e.state, at: now)
            }
            // A report made before our start reached that node says nothing about the start.
            var startInFlight = false
            if let seq = unackedStarts[e.id]?[n] {
                let obeyed = e.ack.view == c.view.id && e.ack.from == c.me && e.ack.seq >= seq
                // Seed 974 with --promotable: a start the old view never delivered counted on n3
                // for good, and moved web2's last known node off the paused n1 (unfrozen).
                let overtaken = unackedStartViews[e.id]?[n].map { v > $0 } ?? false
                if obeyed || overtaken || refused(e.id, .start, by: n, reportPolicy: policy) {
                    unackedStarts[e.id]?[n] = nil
                    unackedStartViews[e.id]?[n] = nil
                } else {
                    startInFlight = true
                }
            }
            if let seq = unackedPromotes[e.id]?[n],
               e.ack.view == c.view.id && e.ack.from == c.me && e.ack.seq >= seq || refused(e.id, .promote, by: n, reportPolicy: policy) {
                unackedPromotes[e.id]?[n] = nil
            }
            if e.state.mayBeActive || startInFlight { lastKnown[e.id] = n }
            else if lastKnown[e.id] == n { lastKnown[e.id] = nil }
        }
    }

    /// Resource messages from peers.
    mutating func receive(_ m: Message, from sender: Member, _ c: SupervisorContext, _ now: Instant, _ box: inout Outbox) {
        guard !policy.isEmpty else { return }
        switch m {
        case let .resourceReport(rview, version, probed, entries, policy, draining, leaving):
            let got = ReportVersion(incarnation: sender.incarnation, version: version)
            if let last = versions[sender.node], !got.isNewer(than: last) { return }
            versions[sender.node] = got
            let before = reports[sender.node]
            noteReport(from: sender.node, view: rview, probed: probed, entries: entries, policy: policy,
                       draining: Set(draining), leaving: leaving, c, now)
            if reports[sender.node] != before { decideIfOwner(c, now, &box) }
        case let .resourceCommand(v, seq, node, rid, action, p):
            guard node == c.me, v == c.view.id, c.owner == sender.node else { return }
            // An owner on another resource policy: not obeyed (it decides again once this
            // node's report shows it runs the same).
            guard p == policy.version || !c.policyGate else { return }
            let ack = CommandAck(view: v, from: sender.node, seq: seq)
            if let a = obeyed[rid], a.covers(ack) { return }
            obeyed[rid] = ack
            changed = true  // the owner learns from the next report that this command arrived
            command(rid, action, &box)
        case let .resourceNotify(v, seq, node, rid, info):
            guard node == c.me, v == c.view.id, c.owner == sender.node else { return }
            notified(rid, info, CommandAck(view: v, from: sender.node, seq: seq), &box)
        case .adminState(let a):
            if a.isNewer(than: admin) { adoptAdmin(a, c, now, &box) }
            adminSeeded = true
        default:
            break
        }
    }

    /// Carries out a command from the owner on this node.
    mutating func command(_ rid: String, _ action: ResourceAction, _ box: inout Outbox) {
        guard var e = local[rid] else { return }
        switch action {
        case .start where e.state == .stopped && !leavingAfterStop:
            // The owner decided from an older report: an earlier member of the group may have
            // failed here since (seed 599, 5 nodes). A member starts only on top of the earlier ones.
            // Likewise an interleaved THEN's instance, when FIRST's instance here is down (the
            // owner decided before this node's report of it arrived; seed 717 with clones).
            if let missing = earlierNotRunning(rid) ?? orderFirstNotRunning(rid, interleavedOnly: true) {
                box.append(.notice(.resource(.startRefused(id: rid, missing: missing))))
                return
            }
            e.state = .starting
            box.append(.resource(ResourceOrder(id: rid, op: .start)))
        case .stop where stopWaiting[rid] != nil:
            // The owner's stop: it has ordered the THENs already; the restart (if any) is off.
            restarting.remove(rid)
            stopWaiting[rid] = nil
            box.append(.resource(ResourceOrder(id: rid, op: .stop)))
        case .promote where e.state == .running && !leavingAfterStop:
            e.state = .promoting
            box.append(.resource(ResourceOrder(id: rid, op: .promote)))
        case .demote where e.state == .promoted || e.state == .failedPromoted:
            if e.state == .failedPromoted { demoteThenFail.insert(rid) }
            e.state = .demoting
            box.append(.resource(ResourceOrder(id: rid, op: .demote)))
        case .stop where e.state == .stopping && (restarting.contains(rid) || heldStarts.contains(rid)):
            // Already stopping for an in-place restart: the owner's stop calls the restart off, so
            // it stays stopped (seed 477 with --documents: the restart started g-ip again under
            // the owner's stop, which was sent again only a second later).
            restarting.remove(rid)
            heldStarts.remove(rid)
        case .stop where e.state.mayBeActive && e.state != .stopping && e.state != .stopFailed:
            // A stop from the owner (or on leaving, or without quorum) overrides a restart.
            restarting.remove(rid)
            let held = heldStarts.remove(rid) != nil
            let busy = (e.state == .starting && !held) || e.state == .promoting || e.state == .demoting || notifying[rid] != nil
            e.state = .stopping
            if busy {
                // The start is still running: the stop follows when it ends (seed 710: a stop
                // that ended first let the late start's "running" stand under a stopped group).
                stopAfterStart.insert(rid)
            } else {
                box.append(.resource(ResourceOrder(id: rid, op: .stop)))
            }
        default:
            return
        }
        setLocal(e, &box)
    }

    /// The first member before `rid` in its group that does not run here.
    private func earlierNotRunning(_ rid: String) -> String? {
        guard let u = policy.units.first(where: { $0.resources.contains(rid) }) else { return nil }
        return u.resources.prefix(while: { $0 != rid }).first { local[$0]?.state != .running }
    }

    /// A start or monitor that failed here: the fail count grows (to INFINITY for a hard error).
    private mutating func noteFailure(_ e: inout ResourceEntry, _ outcome: ResourceOutcome, _ now: Instant) {
        e.failCount = outcome == .unavailable ? ResourceEntry.infinity : min(e.failCount &+ 1, ResourceEntry.infinity - 1)
        failedAt[e.id] = now
    }

    mutating func setLocal(_ e: ResourceEntry, _ box: inout Outbox) {
        local[e.id] = e
        changed = true
        box.append(.notice(.resource(.state(id: e.id, e.state, failCount: Int(e.failCount)))))
    }

    /// The shell's report on an operation.
    mutating func done(_ rid: String, _ op: ResourceOp, _ outcome: ResourceOutcome, _ c: SupervisorContext, _ now: Instant,
                       _ box: inout Outbox) {
        guard var e = local[rid] else { return }
        if op == .notify { return notifyDone(rid, outcome, c, now, &box) }
        let onFail = policy.onFail[rid] ?? .restart
        let recovering = op == .demote && demoteThenFail.remove(rid) != nil
        if op == .start || op == .promote || op == .demote, stopAfterStart.remove(rid) != nil {
            // Stopped while it started: what the start found only counts as a failure, the stop runs now.
            if outcome == .failed || outcome == .unavailable { noteFailure(&e, outcome, now) }
            setLocal(e, &box)
            box.append(.resource(ResourceOrder(id: rid, op: .stop)))
            sendReport(c, now, &box)
            return
        }
        if op == .monitor, stopWaiting[rid] != nil, outcome != .running {
            // Found dead while its stop waits for a THEN (seed 763): failed, if the stop is called off.
            stopWaiting[rid] = .failed
            noteFailure(&e, outcome, now)
            setLocal(e, &box)
            return
        }
        if op == .stop, restarting.remove(rid) != nil, outcome == .stopped, !c.leaving, !leavingAfterStop {
            // Restart in place: straight from stopping to (held) starting, never "stopped" in a
            // report; the rest of the group follows in order.
            e.state = .starting
            heldStarts.insert(rid)
            setLocal(e, &box)
            continueRestart(rid, c, &box)
            sendReport(c, now, &box)
            return
        }
        switch (op, outcome) {
        case (.monitor, .failed) where onFail == .ignore:
            return
        case (.monitor, _) where admin.maintenance.contains(c.me):
            return  // in flight when the node went into maintenance: unmanaged now
        case (.monitor, _) where !e.state.isUp:
            return  // a late monitor of something already being stopped
        case (.monitor, .running) where e.state == .promoted: e.state = .failed  // lost its role unseen
        case (.demote, .running) where recovering: e.state = .failed  // failed promoted: now stopped and started
        case (_, .running): e.state = .running
        case (_, .promoted): e.state = .promoted
        case (_, .failedPromoted): e.state = .failedPromoted
        case (_, .stopped): e.state = op == .monitor ? .failed : .stopped
        case (_, .failed): e.state = .failed
        case (_, .stopFailed): e.state = .stopFailed
        case (.probe, .unavailable): e.state = .stopped
        case (_, .unavailable): e.state = .failed  // stopped next (a stop of what is not installed is a success)
        }
        if outcome == .unavailable || (e.state == .failed && [.start, .monitor, .promote, .demote].contains(op) && !recovering)
            || (e.state == .failedPromoted && op == .monitor) {
            noteFailure(&e, outcome, now)
        }
        setLocal(e, &box)
        // The next of each group; a promote or demote that was in flight lets its demote or stop go.
        if leavingAfterStop && [.stop, .demote, .promote].contains(op) { _ = stopLocalInOrder(c, elsewhere: c.view.quorate, &box) }
        if op == .stop || op == .start { continueRetiring(c, &box) }
        if op == .start, policy.units.contains(where: { $0.resources.contains(rid) && $0.resources.contains(where: heldStarts.contains) }) {
            if outcome == .running { continueRestart(rid, c, &box) } else { releaseHeld(rid, &box) }
        } else if op == .start || op == .stop, policy.units.contains(where: { $0.resources.contains(rid) && $0.resources.contains(where: restarting.contains) }) {
            continueRestart(rid, c, &box)  // a restart here waited for this operation of a later member
        }
        // Found or started running while in maintenance (a probe after a restart or a cleanup):
        // not monitored.
        if e.state.isUp && admin.maintenance.contains(c.me) {
            box.append(.resource(ResourceOrder(id: rid, op: .unmonitor)))
        } else if e.state.isUp, op != .monitor || outcome == .promoted {
            monitor(rid, promoted: e.state == .promoted, &box)
        }
        if op == .start, redefineAfterStart.remove(rid) != nil, !admin.maintenance.contains(c.me) { restartRedefined(rid, c, &box) }
        sendReport(c, now, &box)
        decideIfOwner(c, now, &box)
        // A stop that failed keeps the node here (it must be fenced, not leave "cleanly").
        if leavingAfterStop && !local.values.contains(where: { $0.state.mayBeActive }) {
            box.leave()
        }
    }
}
