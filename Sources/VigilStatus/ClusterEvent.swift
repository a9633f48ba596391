import VigilConfig
import VigilCore

/// One line of `vigilctl events`: a JSON object per membership, link, quorum or daemon event.
public struct ClusterEvent: Codable, Sendable, Equatable {

    /// The kinds of event, as `vigilctl events` names them in `type` (docs/status-json.md).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case linkUp = "link_up"
        case linkDown = "link_down"
        case peerAlive = "peer_alive"
        case peerDead = "peer_dead"
        case view
        case quorum
        case paused
        case leaving
        case fencePending = "fence_pending"
        case fenceScheduled = "fence_scheduled"
        case fenceStarted = "fence_started"
        case fenceResult = "fence_result"
        case fenceNoDevice = "fence_no_device"
        case selfFence = "self_fence"
        case fenceRefused = "fence_refused"
        case fenceGaveUp = "fence_gave_up"
        case resourceState = "resource_state"
        case resourceCommand = "resource_command"
        case resourceEscalate = "resource_escalate"
        case resourceAdmin = "resource_admin"
        case resourceAdminRefused = "resource_admin_refused"
        case resourceFailuresExpired = "resource_failures_expired"
        case resourceStopNoQuorum = "resource_stop_no_quorum"
        case resourceStartRefused = "resource_start_refused"
        case resourceNotify = "resource_notify"
        case resourcePolicy = "resource_policy"
        case attribute
        case attributeCleared = "attribute_cleared"
        case attributeConfirmed = "attribute_confirmed"
        case attributeHeld = "attribute_held"
        case attributeRefused = "attribute_refused"
        case configDiffers = "config_differs"
        case configAgrees = "config_agrees"
        case documentRunning = "document_running"
        case documentConflict = "document_conflict"
        case documentRefused = "document_refused"
        case nodesChanged = "nodes_changed"
        case arbiterHolder = "arbiter_holder"
        case arbiterHeuristics = "arbiter_heuristics"
        case ticketHolder = "ticket_holder"
        case ticketUsable = "ticket_usable"
        case ticketCommand = "ticket_command"
        case ticketRefused = "ticket_refused"
    }
    public var seq: UInt64
    /// UTC, ISO 8601 with milliseconds (set by the daemon's wall clock).
    public var time: String
    /// What happened (`Kind`: its raw value is the JSON `type`).
    public var type: Kind
    /// The node reporting the event.
    public var node: String
    public var peer: String?
    public var incarnation: UInt64?
    public var link: String?
    public var reason: String?
    public var epoch: UInt64?
    public var members: [String]?
    public var joined: [String]?
    public var leftCleanly: [String]?
    public var lostUncleanly: [String]?
    public var quorate: Bool?
    public var latenessMs: Double?
    public var detail: String?
    /// Fencing: who ran the attempt, its level, devices, result and duration; the delay before it.
    public var executor: String?
    public var level: Int?
    public var devices: [String]?
    public var result: String?
    public var tookMs: Double?
    public var delayMs: Double?
    /// Resources: which one, its state on `node` (or the command's action), its fail count.
    public var resource: String?
    public var state: String?
    public var failCount: Int?
    /// Node attributes: which one (`peer` is the node it belongs to), its value (left out for a
    /// private one and for a deletion), lifetime and version.
    public var attribute: String?
    public var value: String?
    public var lifetime: String?
    public var version: UInt64?

    public init(seq: UInt64, time: String, type: Kind, node: String) {
        self.seq = seq
        self.time = time
        self.type = type
        self.node = node
    }

    /// The event for a core notice; nil for notices that are counted, not streamed (rejected frames).
    public init?(_ n: Notice, seq: UInt64, time: String, config: ClusterConfig, local: NodeID) {
        func name(_ id: NodeID) -> String { config.node(id)?.name ?? "node\(id.rawValue)" }
        func names(_ ms: [Member]) -> [String] { ms.map { name($0.node) } }
        func linkName(_ l: LinkID) -> String { config.links.first { $0.id == l }?.name ?? l.description }
        self.init(seq: seq, time: time, type: .leaving, node: name(local))
        switch n {
        case let .linkUp(p, l):
            (type, peer, link) = (.linkUp, name(p), linkName(l))
        case let .linkDown(p, l):
            (type, peer, link) = (.linkDown, name(p), linkName(l))
        case let .peerAlive(m):
            (type, peer, incarnation) = (.peerAlive, name(m.node), m.incarnation)
        case let .peerDead(m, r):
            (type, peer, incarnation, reason) = (.peerDead, name(m.node), m.incarnation, r.rawValue)
        case let .viewInstalled(v, c):
            (type, epoch, members, quorate) = (.view, v.id.epoch, names(v.members), v.quorate)
            (joined, leftCleanly, lostUncleanly) = (names(c.joined), names(c.leftCleanly), names(c.lostUncleanly))
        case let .quorumChanged(q):
            (type, quorate) = (.quorum, q)
        case let .paused(l):
            (type, latenessMs) = (.paused, l.milliseconds)
        case .leaving:
            type = .leaving
        case .rejected:
            return nil
        case .attribute(let a):
            describe(a, name)
        case .config(.differs(let p, let parts)):
            (type, peer, detail) = (.configDiffers, name(p), "\(name(p))'s config file differs from this node's in "
                + parts.map(\.description).joined(separator: ", ") + ": each runs its own copy; make the files the same")
        case .config(.agrees(let p)):
            (type, peer, detail) = (.configAgrees, name(p), "\(name(p))'s config file is the same as this node's again")
        case .document(let d):
            describe(d, name)
        case let .nodesChanged(added, removed):
            type = .nodesChanged
            detail = [("added", added), ("removed", removed)].filter { !$0.1.isEmpty }
                .map { "\($0.0) \($0.1.map(name).joined(separator: ", "))" }.joined(separator: "; ")
                + (removed.contains(local) ? ": this node is no longer in the cluster's document and leaves" : "")
        case .arbiter(.holder(let m)):
            (type, peer, incarnation) = (.arbiterHolder, m.map { name($0.node) }, m?.incarnation)
            detail = m.map { "the arbiter's vote is held by \(name($0.node))" } ?? "no one holds the arbiter's vote"
        case .arbiter(.heuristics(let pass)):
            type = .arbiterHeuristics
            detail = pass ? "the arbiter's heuristics pass: this node may take the vote" : "the arbiter's heuristics FAIL: this node will not take the vote"
        case .ticket(let t):
            describe(t, name)
        case .resource(let r):
            switch r {
            case let .state(id, st, fc):
                (type, resource, state, failCount) = (.resourceState, id, st.description, fc)
            case let .command(id, n, a):
                (type, resource, peer, state) = (.resourceCommand, id, name(n), a.word)
            case let .escalate(id, n):
                (type, resource, peer) = (.resourceEscalate, id, name(n))
                detail = "stopping \(id) failed on \(name(n)): it is fenced before \(id) runs anywhere else"
            case let .admin(req, v):
                (type, epoch) = (.resourceAdmin, v)
                switch req {
                case let .standby(n, on): (peer, detail) = (name(n), on ? "node \(name(n)) standby" : "node \(name(n)) online")
                case let .maintenance(n, on): (peer, detail) = (name(n), on ? "node \(name(n)) maintenance" : "node \(name(n)) ready (out of maintenance)")
                case let .move(id, to): (resource, peer, detail) = (id, to.map(name), "move \(id)" + (to.map { " to \(name($0))" } ?? " away"))
                case let .movePromoted(id, to): (resource, peer, detail) = (id, name(to), "move \(id)'s promoted role to \(name(to))")
                case let .ban(id, n): (resource, peer, detail) = (id, n.map(name), "ban \(id)" + (n.map { " from \(name($0))" } ?? " from its node"))
                case .clear(let id): (resource, detail) = (id, "clear \(id)")
                case .cleanup(let id): (resource, detail) = (id, "cleanup \(id)")
                case .restart(let id): (resource, detail) = (id, "restart \(id)")
                }
            case .adminRefused(let why):
                (type, reason) = (.resourceAdminRefused, why.description)
            case let .notified(id, info, ok):
                let phase = (info.phase == .pre ? "pre-" : "post-") + info.operation.word
                (type, resource, state) = (.resourceNotify, id, phase)
                detail = "\(phase) notification of \(id) " + (ok ? "ran" : "failed (ignored, as Pacemaker does)")
            case .stopWithoutQuorum(let id):
                (type, resource, detail) = (.resourceStopNoQuorum, id, "quorum lost: stopping \(id) here (no_quorum_policy = stop)")
            case let .startRefused(id, missing):
                (type, resource, detail) = (.resourceStartRefused, id, "start of \(id) not run: \(missing), earlier in its group, no longer runs here")
            case let .policyAdopted(v, added, removed, redefined):
                (type, epoch) = (.resourcePolicy, v)
                let parts = [("added", added), ("removed", removed), ("redefined", redefined)].filter { !$0.1.isEmpty }
                detail = "resource policy \(v) taken" + (parts.isEmpty ? " (no resource changed)" : ": "
                    + parts.map { "\($0.0) \($0.1.joined(separator: ", "))" }.joined(separator: "; "))
            case .failuresExpired(let id):
                (type, resource, detail) = (.resourceFailuresExpired, id, "failure timeout of \(id) passed: fail count reset")
            }
        case .fence(let f):
            switch f {
            case .pending(let m):
                (type, peer, incarnation) = (.fencePending, name(m.node), m.incarnation)
            case let .scheduled(m, d):
                (type, peer, incarnation, delayMs) = (.fenceScheduled, name(m.node), m.incarnation, d.milliseconds)
            case let .started(m, e, l, ds):
                (type, peer, incarnation, executor, level, devices) = (.fenceStarted, name(m.node), m.incarnation, name(e), l, ds)
            case let .finished(m, e, r, l, t):
                (type, peer, incarnation, executor, result, level, tookMs) =
                    (.fenceResult, name(m.node), m.incarnation, name(e), r.description, l, t.milliseconds)
            case .noDevice(let m):
                (type, peer, incarnation) = (.fenceNoDevice, name(m.node), m.incarnation)
                detail = "no fence device or watchdog covers \(name(m.node)): run `vigilctl fence confirm \(name(m.node))` once it is off"
            case .selfFence(let why):
                type = .selfFence
                detail = "\(why): no longer feeding the hardware watchdog; the board will reset this node"
            case let .refused(n, why):
                (type, peer, reason) = (.fenceRefused, name(n), why.description)
            case .gaveUp(let m):
                (type, peer, incarnation) = (.fenceGaveUp, name(m.node), m.incarnation)
                detail = "the operator's fence of \(name(m.node)) failed at every level"
            }
        }
    }

    /// A readable log line for the same event.
    public var logLine: String {
        switch type {
        case .linkUp, .linkDown: return "\(type.rawValue.replacingUnderscore) peer=\(peer ?? "?") link=\(link ?? "?")"
        case .peerAlive: return "peer alive peer=\(peer ?? "?") incarnation=\(incarnation ?? 0)"
        case .peerDead: return "peer dead peer=\(peer ?? "?") incarnation=\(incarnation ?? 0) reason=\(reason ?? "?")"
        case .view:
            var s = "view installed epoch=\(epoch ?? 0) members=\((members ?? []).joined(separator: ",")) quorate=\(quorate ?? false)"
            if let l = lostUncleanly, !l.isEmpty { s += " lost_uncleanly=\(l.joined(separator: ","))" }
            if let l = leftCleanly, !l.isEmpty { s += " left_cleanly=\(l.joined(separator: ","))" }
            return s
        case .quorum: return (quorate ?? false) ? "quorum gained" : "quorum LOST"
        case .fencePending: return "fence pending peer=\(peer ?? "?") incarnation=\(incarnation ?? 0)"
        case .fenceScheduled: return "fence scheduled peer=\(peer ?? "?") delay=\(delayMs.map(format3ms) ?? "?")"
        case .fenceStarted:
            return "fence started peer=\(peer ?? "?") level=\(level ?? 0) devices=\((devices ?? []).joined(separator: ","))"
        case .fenceResult:
            return "fence \(result ?? "?") peer=\(peer ?? "?") by=\(executor ?? "?") level=\(level ?? 0) took=\(tookMs.map(format3ms) ?? "?")"
        case .resourceState: return "resource \(resource ?? "?") \(state ?? "?") fail_count=\(failCount ?? 0)"
        case .resourceCommand: return "resource \(resource ?? "?"): \(state ?? "?") on \(peer ?? "?")"
        case .resourceAdmin: return "operator: \(detail ?? "?") (admin version \(epoch ?? 0))"
        case .resourceAdminRefused: return "operator request refused: \(reason ?? "?")"
        case .ticketRefused: return "ticket \(resource ?? "?") command refused: \(reason ?? "?")"
        case .fenceRefused: return "fence request refused peer=\(peer ?? "?"): \(reason ?? "?")"
        case .paused: return "own heartbeat loop ran late by \(latenessMs.map(format3ms) ?? "?") (excused for peers)"
        case .attribute, .attributeCleared, .attributeConfirmed, .attributeHeld, .attributeRefused:
            return attributeLogLine
        case .leaving, .fenceNoDevice, .selfFence, .fenceGaveUp, .resourceEscalate, .resourceFailuresExpired,
             .resourceStopNoQuorum, .resourceStartRefused, .resourceNotify, .resourcePolicy, .configDiffers, .configAgrees, .documentRunning, .documentConflict,
             .documentRefused, .nodesChanged, .arbiterHolder, .arbiterHeuristics, .ticketHolder, .ticketUsable, .ticketCommand:
            return type.rawValue + (detail.map { " " + $0 } ?? "")
        }
    }
}

extension String {
    var replacingUnderscore: String { String(map { $0 == "_" ? " " : $0 }) }
}

extension ClusterEvent {
    /// The replicated document's happenings (VigilCore's DocumentSync.swift).
    mutating func describe(_ d: DocumentNotice, _ name: (NodeID) -> String) {
        switch d {
        case let .running(s, previous, from):
            (type, peer) = (.documentRunning, from.map(name))
            detail = "running document \(s.version)" + (from.map { " (fetched from \(name($0)))" } ?? "")
                + (previous.isNone ? "" : ", was \(previous.version)")
        case let .conflict(p, mine, theirs):
            (type, peer) = (.documentConflict, name(p))
            detail = "\(name(p)) runs another document with this node's version \(mine.version) (two changes made apart):"
                + " the one with the larger hash wins on every node: " + (theirs > mine ? "\(name(p))'s" : "this node's")
        case let .badCopy(from, s):
            (type, peer, reason) = (.documentRefused, name(from), "the copy of document \(s.version) fetched from \(name(from)) does not match its hash")
        case .refused(let s):
            (type, reason) = (.documentRefused, "document \(s.version) cannot be run here (see this node's log); this node keeps its own")
        case .applyRefused(let why):
            (type, reason) = (.documentRefused, "change not applied: \(why)")
        }
        if type == .documentRefused { detail = reason }
    }
}

extension ClusterEvent {
    /// Site tickets' happenings (VigilCore's Tickets/Tickets.swift).
    mutating func describe(_ t: TicketNotice, _ name: (NodeID) -> String) {
        switch t {
        case let .holder(ticket, h):
            (type, resource) = (.ticketHolder, ticket)
            detail = h.map { "ticket \(ticket) is held by site \($0.site) (renewed by node \($0.member.node.rawValue)), \($0.state.rawValue)" }
                ?? "no site holds ticket \(ticket)"
        case let .usable(ticket, u):
            (type, resource, state) = (.ticketUsable, ticket, u ? "usable" : "lost")
            detail = u ? "this site may run ticket \(ticket)'s resources" : "this site may no longer run ticket \(ticket)'s resources: its loss policy applies"
        case .command(let c):
            let word: String = switch c { case .grant: "grant"; case .revoke: "revoke"; case .standby: "standby"; case .activate: "activate" }
            (type, resource, state, detail) = (.ticketCommand, c.name, word, "operator: \(word) ticket \(c.name)")
        case let .refused(ticket, why):
            (type, resource, reason) = (.ticketRefused, ticket, why)
        }
    }
}
