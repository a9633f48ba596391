/// Site tickets (booth's, on etcd leases): a ticket is a key on a lease that one Vigil cluster (a
/// site) holds; the resources bound to it run only in the site holding it. Pure, like the vote
/// (Membership/Arbiter.swift), whose proof it shares: the node says which request to make
/// (`Effect.ticket`), the shell talks to etcd and answers (`Event.ticketAnswer`). docs/arbiter.md.
///
/// Rules:
/// - The key `TICKET_PREFIX/NAME` names a site (its cluster id), the member that renews its lease,
///   and a state (granted, standby, revoked). Every node reads it every `renewEvery`.
/// - Granting is the operator's (`vigilctl ticket grant`, on a node of a quorate view), or the
///   lowest member's with `auto_grant`: a transaction that creates the key only if absent. A
///   ticket another site holds cannot be granted here until its lease expired on the server.
/// - The lowest member of a quorate view renews (the owner, in the usual case: its proof is then
///   a renewal's, the longest); it takes the renewing over from the member named (same lease),
///   who stops once the key names another. Only quorate views renew.
/// - The site may run the ticket's resources while the ticket is granted to it, its view is
///   quorate, an answer since the view was installed confirmed it, its proof of the lease reaches
///   past `stopMargin` from now (time to stop them before the lease can expire), and
///   `acquireAfter` has passed since it was first seen held here.
/// - Otherwise the loss policy applies: stop them, fence the nodes running them, freeze them
///   (leave them as they are, start nothing), or demote a promotable clone's instances.
/// - Revoke sets the state to revoked: nobody renews and every node stops the resources. Once the
///   owner knows them stopped everywhere (every member's report, no start unconfirmed, no node
///   that left the view unfenced), it releases the ticket: deletes the key, so another site can
///   take it at once (booth's revoke does not wait for the stop). Otherwise the lease expires.
///   Standby stops them and keeps the ticket; activate undoes it.
public enum TicketLoss: String, Sendable, CaseIterable {
    case stop, fence, freeze, demote
}

public enum TicketState: String, Sendable, CaseIterable {
    case granted, standby, revoked
}

public struct TicketPolicy: Equatable, Sendable {
    public var name: String
    /// The resources bound to it (all of their placement units' resources).
    public var resources: [String]
    public var loss: TicketLoss
    public var autoGrant: Bool
    public var acquireAfter: TimeSpan
    public var stopMargin: TimeSpan
    public init(name: String, resources: [String], loss: TicketLoss = .stop, autoGrant: Bool = false,
                acquireAfter: TimeSpan = .zero, stopMargin: TimeSpan = .seconds(1)) {
        self.name = name
        self.resources = resources
        self.loss = loss
        self.autoGrant = autoGrant
        self.acquireAfter = acquireAfter
        self.stopMargin = stopMargin
    }
}

/// What a ticket's key says: the site, the member renewing its lease, the state.
public struct TicketHolder: Equatable, Sendable, CustomStringConvertible {
    public var site: UInt32
    public var member: Member
    public var state: TicketState
    public init(site: UInt32, member: Member, state: TicketState) {
        self.site = site
        self.member = member
        self.state = state
    }
    public var description: String { "site \(site) (\(member), \(state.rawValue))" }
}

public struct TicketRequest: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// Read the key and its lease's time left.
        case read
        /// If the key names this site and this node (or `takeOver`: any member of this site):
        /// name `value.member` as the renewer and keep the lease alive; then read.
        case renew
        /// Create the key with `value` on a new lease if absent; then read.
        case grant
        /// If the key names this site: set its state to `value.state` (same lease); then read.
        case set
        /// If the key names this site and is revoked: delete it (and its lease); then read.
        case release
    }
    public var id: UInt64
    public var ticket: String
    public var kind: Kind
    public var value: TicketHolder
    /// For `renew`: this node is the lowest member of a quorate view and takes the renewing over.
    public var takeOver = false
}

public enum TicketAnswer: Equatable, Sendable {
    case holder(TicketHolder?, remaining: TimeSpan)
    case failed(String)
}

/// The operator's ticket commands (`vigilctl ticket grant|revoke|standby|activate NAME`).
public enum TicketCommand: Equatable, Sendable {
    case grant(String), revoke(String), standby(String), activate(String)
    public var name: String {
        switch self { case .grant(let n), .revoke(let n), .standby(let n), .activate(let n): n }
    }
}

/// One ticket as a node sees it (status).
public struct TicketStatus: Equatable, Sendable {
    public var name: String
    public var holder: TicketHolder?
    /// This site may run the ticket's resources now.
    public var usable: Bool
    public var provenUntil: Instant?
    public var reachable: Bool
    public var lastError: String?
    public var loss: TicketLoss
    public var resources: [String]
}

/// One ticket's keeper on this node.
struct TicketKeeper: Equatable, Sendable {
    var policy: TicketPolicy
    private(set) var holder: TicketHolder?
    private(set) var provenUntil = Instant.zero
    private(set) var answeredSentAt = Instant.zero
    private(set) var reachable = false
    private(set) var lastError: String?
    /// When this site was first seen holding it (granted), for `acquireAfter`.
    private(set) var heldSince: Instant?
    /// The operator asked to grant it here; or to set its state.
    var grantWanted = false
    var stateWanted: TicketState?
    var inFlight: UInt64?
    var inFlightKind = TicketRequest.Kind.read
    var sentAt = Instant.zero
    var nextRequest = Instant.zero
    /// At the last step this node could have granted it automatically (the lowest member).
    var mayAutoGrant = false

    init(policy: TicketPolicy) { self.policy = policy }

    /// Returns, for an operator's grant, its outcome: nil (not a grant), or why it failed ("" if granted).
    @discardableResult
    mutating func answered(_ a: TicketAnswer, site: UInt32, lease: ArbiterPolicy, _ now: Instant) -> String? {
        inFlight = nil
        // Any answer settles an operator's grant, but a read that found the key free (the grant
        // follows at the next tick): taken, held by another site, or etcd unreachable.
        let operatorGrant = grantWanted
        var outcome: String?
        switch a {
        case let .holder(h, remaining):
            reachable = true
            lastError = nil
            answeredSentAt = sentAt
            let proven = lease.provenUntil(sentAt: sentAt, remaining: remaining)
            provenUntil = h == nil ? now : (holder?.site == h?.site && holder != nil ? max(proven, provenUntil) : proven)
            if operatorGrant && (h != nil || inFlightKind == .grant) {
                outcome = h?.site == site ? "" : h.map { "held by site \($0.site): revoke it there, or wait until its lease expires" } ?? "etcd did not keep it"
                grantWanted = false
            }
            if inFlightKind == .set && h?.state == stateWanted { stateWanted = nil }
            holder = h
            let mine = h?.site == site && h?.state == .granted
            heldSince = mine ? (heldSince ?? now) : nil
            // A free ticket to grant: at the next tick.
            if h == nil && (grantWanted || policy.autoGrant && mayAutoGrant) { nextRequest = now }
        case .failed(let why):
            reachable = false
            lastError = why
            if operatorGrant {
                outcome = "etcd did not answer: \(why)"
                grantWanted = false
            }
        }
        return outcome
    }

    func usable(site: UInt32, view: View, _ now: Instant) -> Bool {
        guard let h = holder, h.site == site, h.state == .granted, view.quorate, answeredSentAt >= view.installedAt,
              let since = heldSince else { return false }
        return now < provenUntil - policy.stopMargin && now >= since + policy.acquireAfter
    }
}

/// Every ticket this node's site knows, and their requests.
struct Tickets: Equatable, Sendable {
    let site: UInt32
    var lease: ArbiterPolicy
    private(set) var keepers: [String: TicketKeeper]
    private var nextId: UInt64 = 0
    /// Whether each ticket was usable at the last judgement (to notice changes).
    private(set) var usable: [String: Bool] = [:]

    init(site: UInt32, lease: ArbiterPolicy, tickets: [TicketPolicy]) {
        self.site = site
        self.lease = lease
        keepers = Dictionary(tickets.map { ($0.name, TicketKeeper(policy: $0)) }) { a, _ in a }
    }

    /// On every tick: the requests due (`soon`: the view changed; `stopped`: tickets whose
    /// resources the owner, this node, knows stopped everywhere).
    mutating func step(me: Member, view: View, soon: Bool, stopped: Set<String> = [], _ now: Instant) -> [TicketRequest] {
        var out: [TicketRequest] = []
        let delegate = view.nodes.min == me.node
        for name in keepers.keys.sorted() {
            var k = keepers[name]!
            if k.inFlight != nil && now - k.sentAt < lease.renewEvery * 2 { continue }
            if k.inFlight != nil { k.answered(.failed("no answer within \(lease.renewEvery * 2)"), site: site, lease: lease, now) }
            // A release is due at once (the site has stopped what the ticket bound), once.
            let releaseDue = stopped.contains(name) && k.inFlightKind != .release
            guard now >= k.nextRequest || soon || k.stateWanted != nil || releaseDue else { keepers[name] = k; continue }
            var value = TicketHolder(site: site, member: me, state: .granted)
            var takeOver = false
            k.mayAutoGrant = k.policy.autoGrant && delegate && view.quorate
            let kind: TicketRequest.Kind
            if let want = k.stateWanted, k.holder?.site == site {
                kind = .set
                value.state = want
            } else if let h = k.holder, h.site == site, h.state == .revoked, view.quorate, stopped.contains(name) {
                kind = .release
            } else if let h = k.holder, h.site == site, h.state != .revoked, view.quorate, h.member.node == me.node || delegate {
                kind = .renew
                value.state = h.state
                takeOver = h.member.node != me.node
            } else if k.holder == nil, view.quorate, k.grantWanted || (k.policy.autoGrant && delegate) {
                kind = .grant
            } else {
                kind = .read
            }
            if k.stateWanted != nil && kind != .set { k.stateWanted = nil }
            nextId += 1
            (k.inFlight, k.inFlightKind, k.sentAt, k.nextRequest) = (nextId, kind, now, now + lease.renewEvery)
            keepers[name] = k
            out.append(TicketRequest(id: nextId, ticket: name, kind: kind, value: value, takeOver: takeOver))
        }
        return out
    }

    /// The shell's answer; returns the ticket, its holder before and after, and an operator's
    /// grant's outcome ("": granted; else why not).
    mutating func answer(_ id: UInt64, _ a: TicketAnswer, _ now: Instant) -> (String, TicketHolder?, TicketHolder?, String?)? {
        guard let name = keepers.first(where: { $0.value.inFlight == id })?.key else { return nil }
        let before = keepers[name]?.holder
        let outcome = keepers[name]?.answered(a, site: site, lease: lease, now)
        return (name, before, keepers[name]?.holder, outcome)
    }

    /// The operator's command; nil when taken, else why not.
    mutating func command(_ c: TicketCommand, quorate: Bool) -> String? {
        guard var k = keepers[c.name] else { return "no ticket '\(c.name)' is configured" }
        guard quorate else { return "this node is not in a quorate view" }
        switch c {
        case .grant:
            if let h = k.holder {
                return h.site == site ? "already granted to this site" : "held by site \(h.site): revoke it there, or wait until its lease expires"
            }
            k.grantWanted = true
            k.nextRequest = .zero
        case .revoke, .standby, .activate:
            guard k.holder?.site == site else { return "not held by this site" }
            k.stateWanted = c == .revoke(c.name) ? .revoked : c == .standby(c.name) ? .standby : .granted
        }
        keepers[c.name] = k
        return nil
    }

    /// Judges every ticket again: those whose usability changed.
    mutating func judge(view: View, _ now: Instant) -> [(String, Bool)] {
        var changed: [(String, Bool)] = []
        for (name, k) in keepers.sorted(by: { $0.key < $1.key }) {
            let u = k.usable(site: site, view: view, now)
            if usable[name] != u { changed.append((name, u)) }
            usable[name] = u
        }
        return changed
    }

    /// The loss policy of each resource bound to a ticket this site may not use now.
    var lost: [String: TicketLoss] {
        var out: [String: TicketLoss] = [:]
        for (name, k) in keepers where usable[name] != true {
            for r in k.policy.resources { out[r] = k.policy.loss }
        }
        return out
    }

    func status(view: View, _ now: Instant) -> [TicketStatus] {
        keepers.values.sorted { $0.policy.name < $1.policy.name }.map { k in
            TicketStatus(name: k.policy.name, holder: k.holder, usable: k.usable(site: site, view: view, now),
                         provenUntil: k.holder == nil ? nil : k.provenUntil, reachable: k.reachable, lastError: k.lastError,
                         loss: k.policy.loss, resources: k.policy.resources)
        }
    }
}
