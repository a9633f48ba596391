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

struct SupervisorState: Equatable, Sendable {
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
}

/// Which copy of a node's report is news (seed 171: a late copy from the other link rolled the
/// owner's picture back). Reports of an older incarnation, and older or repeated versions of the
/// same incarnation, are ignored.
public struct ReportVersion: Equatable, Sendable {
    public var incarnation: Incarnation
    public var version: UInt32
    public init(incarnation: Incarnation, version: UInt32) {
        self.incarnation = incarnation
        self.version = version
    }
    public func isNewer(than last: ReportVersion) -> Bool {
        incarnation == last.incarnation ? version > last.version : incarnation > last.incarnation
    }
}

extension CommandAck {
    /// A command already obeyed (seed 221: two commands sent together may arrive in either order,
    /// and the owner can change within one view when a pending node is fenced, so the sender counts).
    public func covers(_ c: CommandAck) -> Bool { view == c.view && from == c.from && seq >= c.seq }
}

extension Node {
    /// Every node's last report (this node's own included).
    public var resourceReports: [NodeID: [String: ResourceEntry]] { supervisor.reports.mapValues(\.entries) }
    public var localResources: [String: ResourceEntry] { supervisor.local }
    public var lastResourceFailures: [String: ResourceFailure] { supervisor.lastFailure }

    mutating func supervisorStep(_ now: Instant, _ out: inout [Effect]) {
        let policy = config.resources
        guard !policy.isEmpty, !leaving else { return }
        if !supervisor.probesSent {
            supervisor.probesSent = true
            for id in policy.ids {
                supervisor.local[id] = ResourceEntry(id: id, state: .unknown, failCount: 0)
                out.append(.resource(ResourceOrder(id: id, op: .probe)))
            }
        }
        if view.quorate {
            supervisor.wasQuorate = true
        } else if supervisor.wasQuorate && config.quorum.stopResourcesWithoutQuorum && !supervisor.admin.maintenance.contains(id) {
            // Quorum lost (no_quorum_policy = "stop"): stop what runs here, groups in reverse order.
            for rid in stopLocalInOrder(&out) { out.append(.notice(.resource(.stopWithoutQuorum(id: rid)))) }
        }
        for (rid, t) in supervisor.failedAt.sorted(by: { $0.key < $1.key }) {
            guard let limit = policy.failureTimeout[rid], now - t >= limit, var e = supervisor.local[rid] else { continue }
            supervisor.failedAt[rid] = nil
            e.failCount = 0
            setLocal(e, &out)
            out.append(.notice(.resource(.failuresExpired(id: rid))))
        }
        if supervisor.changed || now - supervisor.lastReportSent >= .seconds(1) { sendReport(now, &out) }
        if now - supervisor.lastAdminSent >= .seconds(1) {
            supervisor.lastAdminSent = now
            broadcast(.adminState(supervisor.admin), &out)
        }
        if supervisor.decideSoon || now - supervisor.lastDecision >= config.timing.interval * 5 { decideIfOwner(now, &out) }
    }

    /// The owner decides at once when a state it depends on changed (an operation ended here, a
    /// report changed, a fence succeeded), not only on its periodic round: each step of a group's
    /// start follows the previous one without waiting.
    mutating func decideIfOwner(_ now: Instant, _ out: inout [Effect]) {
        supervisor.decideSoon = false
        guard owner == id, !config.resources.isEmpty, !leaving else { return }
        supervisor.lastDecision = now
        decide(now, &out)
    }

    private var probedAll: Bool { supervisor.local.values.allSatisfy { $0.state != .unknown } }

    private mutating func sendReport(_ now: Instant, _ out: inout [Effect]) {
        supervisor.changed = false
        supervisor.lastReportSent = now
        let entries = supervisor.local.values.sorted { $0.id < $1.id }.map {
            var e = $0
            e.ack = supervisor.obeyed[e.id] ?? .none
            return e
        }
        noteReport(from: id, view: view.id, probed: probedAll, entries: entries, now)
        supervisor.version &+= 1
        broadcast(.resourceReport(view: view.id, version: supervisor.version, probed: probedAll, entries: entries), &out)
    }

    private mutating func noteReport(from n: NodeID, view v: ViewID, probed: Bool, entries: [ResourceEntry], _ now: Instant) {
        let before = supervisor.reports[n]?.entries ?? [:]
        supervisor.reports[n] = PeerReport(view: v, probed: probed, entries: Dictionary(entries.map { ($0.id, $0) }) { a, _ in a })
        for e in entries {
            if e.state == .failed || e.state == .stopFailed, before[e.id]?.state != e.state {
                supervisor.lastFailure[e.id] = ResourceFailure(node: n, state: e.state, at: now)
            }
            // A report made before our start reached that node says nothing about the start.
            var startInFlight = false
            if let seq = supervisor.unackedStarts[e.id]?[n] {
                if e.ack.view == view.id && e.ack.from == id && e.ack.seq >= seq {
                    supervisor.unackedStarts[e.id]?[n] = nil
                } else {
                    startInFlight = true
                }
            }
            if e.state.mayBeActive || startInFlight { supervisor.lastKnown[e.id] = n }
            else if supervisor.lastKnown[e.id] == n { supervisor.lastKnown[e.id] = nil }
        }
    }

    mutating func receiveResource(_ m: Message, from sender: Member, _ now: Instant, _ out: inout [Effect]) {
        guard !config.resources.isEmpty else { return }
        switch m {
        case let .resourceReport(rview, version, probed, entries):
            let got = ReportVersion(incarnation: sender.incarnation, version: version)
            if let last = supervisor.versions[sender.node], !got.isNewer(than: last) { return }
            supervisor.versions[sender.node] = got
            let before = supervisor.reports[sender.node]
            noteReport(from: sender.node, view: rview, probed: probed, entries: entries, now)
            if supervisor.reports[sender.node] != before { decideIfOwner(now, &out) }
        case let .resourceCommand(v, seq, node, rid, action):
            guard node == id, v == view.id, owner == sender.node else { return }
            let ack = CommandAck(view: v, from: sender.node, seq: seq)
            if let a = supervisor.obeyed[rid], a.covers(ack) { return }
            supervisor.obeyed[rid] = ack
            supervisor.changed = true  // the owner learns from the next report that this command arrived
            command(rid, action, &out)
        case .adminState(let a):
            if a.isNewer(than: supervisor.admin) { adoptAdmin(a, now, &out) }
            supervisor.adminSeeded = true
        default:
            break
        }
    }

    /// Carries out a command from the owner on this node.
    mutating func command(_ rid: String, _ action: ResourceAction, _ out: inout [Effect]) {
        guard var e = supervisor.local[rid] else { return }
        switch action {
        case .start where e.state == .stopped:
            // The owner decided from an older report: an earlier member of the group may have
            // failed here since (seed 599, 5 nodes). A member starts only on top of the earlier ones.
            if let missing = earlierNotRunning(rid) {
                out.append(.notice(.resource(.startRefused(id: rid, missing: missing))))
                return
            }
            e.state = .starting
            out.append(.resource(ResourceOrder(id: rid, op: .start)))
        case .stop where e.state == .running || e.state == .failed || e.state == .starting:
            // A stop from the owner (or on leaving, or without quorum) overrides a restart.
            supervisor.restarting.remove(rid)
            let held = supervisor.heldStarts.remove(rid) != nil
            let starting = e.state == .starting && !held
            e.state = .stopping
            if starting {
                // The start is still running: the stop follows when it ends (seed 710: a stop
                // that ended first let the late start's "running" stand under a stopped group).
                supervisor.stopAfterStart.insert(rid)
            } else {
                out.append(.resource(ResourceOrder(id: rid, op: .stop)))
            }
        default:
            return
        }
        setLocal(e, &out)
    }

    /// The first member before `rid` in its group that does not run here.
    private func earlierNotRunning(_ rid: String) -> String? {
        guard let u = config.resources.units.first(where: { $0.resources.contains(rid) }) else { return nil }
        return u.resources.prefix(while: { $0 != rid }).first { supervisor.local[$0]?.state != .running }
    }

    /// A start or monitor that failed here: the fail count grows (to INFINITY for a hard error).
    private mutating func noteFailure(_ e: inout ResourceEntry, _ outcome: ResourceOutcome, _ now: Instant) {
        e.failCount = outcome == .unavailable ? ResourceEntry.infinity : min(e.failCount &+ 1, ResourceEntry.infinity - 1)
        supervisor.failedAt[e.id] = now
    }

    mutating func setLocal(_ e: ResourceEntry, _ out: inout [Effect]) {
        supervisor.local[e.id] = e
        supervisor.changed = true
        out.append(.notice(.resource(.state(id: e.id, e.state, failCount: Int(e.failCount)))))
    }

    /// The shell's report on an operation.
    mutating func resourceDone(_ rid: String, _ op: ResourceOp, _ outcome: ResourceOutcome, _ now: Instant, _ out: inout [Effect]) {
        guard var e = supervisor.local[rid] else { return }
        let onFail = config.resources.onFail[rid] ?? .restart
        if op == .start, supervisor.stopAfterStart.remove(rid) != nil {
            // Stopped while it started: what the start found only counts as a failure, the stop runs now.
            if outcome == .failed || outcome == .unavailable { noteFailure(&e, outcome, now) }
            setLocal(e, &out)
            out.append(.resource(ResourceOrder(id: rid, op: .stop)))
            sendReport(now, &out)
            return
        }
        if op == .stop, supervisor.restarting.remove(rid) != nil, outcome == .stopped, !leaving, !leavingAfterStop {
            // Restart in place: straight from stopping to (held) starting, never "stopped" in a
            // report; the rest of the group follows in order.
            e.state = .starting
            supervisor.heldStarts.insert(rid)
            setLocal(e, &out)
            continueRestart(rid, &out)
            sendReport(now, &out)
            return
        }
        switch (op, outcome) {
        case (.monitor, .failed) where onFail == .ignore:
            return
        case (.monitor, _) where supervisor.admin.maintenance.contains(id):
            return  // in flight when the node went into maintenance: unmanaged now
        case (.monitor, _) where e.state != .running:
            return  // a late monitor of something already being stopped
        case (_, .running): e.state = .running
        case (_, .stopped): e.state = op == .monitor ? .failed : .stopped
        case (_, .failed): e.state = .failed
        case (_, .stopFailed): e.state = .stopFailed
        case (.probe, .unavailable): e.state = .stopped
        case (_, .unavailable): e.state = .failed  // stopped next (a stop of what is not installed is a success)
        }
        if outcome == .unavailable || (e.state == .failed && (op == .start || op == .monitor)) {
            noteFailure(&e, outcome, now)
        }
        setLocal(e, &out)
        if leavingAfterStop && op == .stop { _ = stopLocalInOrder(&out) }  // the next of each group
        if op == .start, config.resources.units.contains(where: { $0.resources.contains(rid) && $0.resources.contains(where: supervisor.heldStarts.contains) }) {
            if outcome == .running { continueRestart(rid, &out) } else { releaseHeld(rid, &out) }
        }
        // Found or started running while in maintenance (a probe after a restart or a cleanup):
        // not monitored.
        if outcome == .running && supervisor.admin.maintenance.contains(id) {
            out.append(.resource(ResourceOrder(id: rid, op: .unmonitor)))
        } else if outcome == .running, op != .monitor, let every = config.resources.monitorInterval[rid], every > .zero {
            out.append(.resource(ResourceOrder(id: rid, op: .monitor, every: every)))
        }
        sendReport(now, &out)
        decideIfOwner(now, &out)
        // A stop that failed keeps the node here (it must be fenced, not leave "cleanly").
        if leavingAfterStop && !supervisor.local.values.contains(where: { $0.state.mayBeActive }) {
            handleLeave(&out)
        }
    }

    /// The owner's decision (OwnerDecision.swift), carried out in order.
    private mutating func decide(_ now: Instant, _ out: inout [Effect]) {
        guard let verdict = OwnerDecision.make(ownerInputs(now)) else { return }
        for rid in verdict.forget { supervisor.lastKnown[rid] = nil }
        for u in verdict.dropUnacked { supervisor.unackedStarts[u.resource]?[u.node] = nil }
        for d in verdict.decisions {
            switch d {
            case let .escalate(rid, n):
                out.append(.notice(.resource(.escalate(id: rid, node: n))))
                requireFencing(n, now, &out)
            case .fence(let n):
                requireFencing(n, now, &out)
            case let .stop(rid, n):
                send(rid, .stop, to: n, now, &out)
            case let .start(rid, n):
                send(rid, .start, to: n, now, &out)
            }
        }
    }

    /// What the owner's decision depends on, from this node's state.
    func ownerInputs(_ now: Instant) -> OwnerDecision.Inputs {
        var i = OwnerDecision.Inputs(view: view)
        i.reports = supervisor.reports
        i.lastKnown = supervisor.lastKnown
        i.unackedStarts = supervisor.unackedStarts
        i.pending = NodeSet(needsFencing.keys)
        i.fenceable = NodeSet(view.members.filter { !isFenced($0) }.map(\.node))
        i.fenceGate = config.fenceGate
        i.admin = supervisor.admin
        i.units = adminUnits
        i.onFail = config.resources.onFail
        i.configuredNodes = config.nodes.count
        i.uptime = now - startedAt
        return i
    }

    /// A member whose resource cannot be stopped cleanly: it must be fenced before anything moves.
    private mutating func requireFencing(_ n: NodeID, _ now: Instant, _ out: inout [Effect]) {
        guard let m = view.members.first(where: { $0.node == n }) else { return }
        fencing(&out) { f, _, box in f.addPending(m, now, &box) }
    }

    private mutating func send(_ rid: String, _ action: ResourceAction, to n: NodeID, _ now: Instant, _ out: inout [Effect]) {
        let key = CommandKey(node: n, resource: rid, action: action)
        if let at = supervisor.sent[key], now - at < .seconds(1) { return }
        supervisor.sent[key] = now
        out.append(.notice(.resource(.command(id: rid, node: n, action: action))))
        if n == id {
            command(rid, action, &out)
            sendReport(now, &out)  // our own report must show it before the next decision (seed 64)
        } else {
            supervisor.commandSeq &+= 1
            if action == .start {
                supervisor.unackedStarts[rid, default: [:]][n] = supervisor.commandSeq
                supervisor.lastKnown[rid] = n
            }
            broadcast(.resourceCommand(view: view.id, seq: supervisor.commandSeq, node: n, id: rid, action: action), &out)
        }
    }
}
