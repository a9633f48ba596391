/// The external vote (Pacemaker's qdevice, on an etcd lease): one extra vote for the partition
/// whose member holds the vote key. Pure, like the rest of the core: the node says which request
/// to make (`Effect.arbiter`), the shell talks to etcd off the heartbeat thread and reports the
/// answer (`Event.arbiterAnswer`) with the id it was given. See docs/arbiter.md.
///
/// Rules:
/// - The vote key names one member (node and incarnation) and lives on a lease (TTL `ttl` on the
///   server). The member it names renews that lease; everyone reads the key every `renewEvery`.
///   No lease is ever revoked: a proof that it lives (below) stays true until it expires.
/// - A node counts the vote while the holder is a member of its view, an answer to a request it
///   sent since it installed that view confirmed the holder (as qdevice asks qnetd again at each
///   membership change: a holder cut off from etcd must not fence the other side only to lose
///   the vote a moment later), and its own latest answer proves the lease alive: an answer to a request sent at local time `s`, saying `r` remained,
///   proves the lease lives on the server until at least `s + r` on the server's clock, which is
///   `s + r * (1 - ρ) / (1 + ρ)` on ours when clock rates differ by at most ρ (`rateBoundPPM`).
///   The shell rounds the remaining time down to what it can prove.
/// - With a hardware watchdog, a node stops counting `timeout * (1 + ρ) / (1 - ρ)` earlier: if that
///   costs it quorum it stops feeding at once, so the board has reset it before the lease can
///   expire on the server (`Fencer.arbiterLapsed`).
/// - The lowest member of a view takes a free key (a transaction: only if absent), if its
///   heuristics pass and the vote could make its partition quorate. The holder stops renewing
///   when the vote could not (the lease then expires); leaving cleanly, it hands the key (and
///   the lease) to the lowest other member of its view; restarted, it takes its old
///   incarnation's key over.
/// - Another partition can take the key only once the server expired the lease, after every
///   node counting it stopped (the proof above), so two partitions never count it at once.
public struct ArbiterPolicy: Equatable, Sendable {
    /// The lease's time to live on the server.
    public var ttl: TimeSpan
    /// How often each node reads the key (the holder: renews its lease).
    public var renewEvery: TimeSpan
    /// The bound on how much any two clocks' rates differ (parts per million; 1% = 10,000).
    public var rateBoundPPM: Int64
    /// A heuristics command is configured: the node may take the key only while it passes.
    public var heuristics: Bool
    /// The proof counts from the request's sending and allows for clock rates and the watchdog,
    /// and only the server's expiry frees the key. Off only in the simulator's planted-bug check:
    /// the proof counts from the answer's arrival without margins, and a node takes the key by
    /// force once its own reckoning says the holder's lease ran out.
    public var margins = true

    public init(ttl: TimeSpan, renewEvery: TimeSpan? = nil, rateBoundPPM: Int64 = 10_000, heuristics: Bool = false) {
        self.ttl = ttl
        self.renewEvery = renewEvery ?? ttl / 5
        self.rateBoundPPM = rateBoundPPM
        self.heuristics = heuristics
    }

    /// The local time until which an answer to a request sent at `sentAt`, saying `remaining`
    /// was left, proves the lease alive on the server.
    public func provenUntil(sentAt: Instant, remaining: TimeSpan) -> Instant {
        sentAt + TimeSpan(nanoseconds: remaining.nanoseconds * (1_000_000 - rateBoundPPM) / (1_000_000 + rateBoundPPM))
    }

    /// How much earlier than `provenUntil` a node with a watchdog of `timeout` stops counting the vote.
    public func watchdogMargin(_ timeout: TimeSpan) -> TimeSpan {
        guard margins else { return .zero }
        return TimeSpan(nanoseconds: timeout.nanoseconds * (1_000_000 + rateBoundPPM) / (1_000_000 - rateBoundPPM))
    }

    /// How long a fresh renewal keeps the vote counted (with the watchdog's margin): must leave
    /// room for a few failed renewals (`vigilctl validate` checks it).
    public func window(watchdog: TimeSpan?) -> TimeSpan {
        provenUntil(sentAt: .zero, remaining: ttl) - .zero - (watchdog.map(watchdogMargin) ?? .zero)
    }
}

/// What the shell asks of etcd for the node, then answers with `Event.arbiterAnswer(id, ...)`.
public struct ArbiterRequest: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// Read the key: its holder and how long its lease has left.
        case read
        /// If the key names this node (this or an earlier incarnation), name this incarnation and
        /// keep its lease alive; then read.
        case renew
        /// Create the key for this node on a new lease if no one holds it; then read.
        case acquire
        /// If the key names this node, name `to` instead (same lease); then read.
        case handover
    }
    public var id: UInt64
    public var kind: Kind
    /// This node and incarnation (the value `acquire` and `renew` write).
    public var me: Member
    /// For `handover`: the member that renews the lease from now on.
    public var to: Member?
    /// `acquire` even if someone holds the key: only the planted-bug check asks it (the daemon
    /// refuses it).
    public var force = false
}

/// The shell's answer to an `ArbiterRequest`.
public enum ArbiterAnswer: Equatable, Sendable {
    /// The key's holder (nil: no one) and how long its lease has left, at least.
    case holder(Member?, remaining: TimeSpan)
    /// etcd did not answer in time, or answered an error.
    case failed(String)
}

/// What status shows of the arbiter.
public struct ArbiterStatus: Equatable, Sendable {
    public var holder: Member?
    /// This node counts the vote now.
    public var counted: Bool
    /// Until when the latest answer proves the lease alive (local time).
    public var provenUntil: Instant?
    /// The latest request was answered.
    public var reachable: Bool
    public var heuristicsPass: Bool
    public var lastError: String?
}

struct Arbiter: Equatable, Sendable {
    var policy: ArbiterPolicy
    private(set) var holder: Member?
    /// The latest answer proves the holder's lease alive until here.
    private(set) var provenUntil = Instant.zero
    private(set) var reachable = false
    /// When the latest request that was answered, and the latest that failed, were sent.
    private(set) var answeredSentAt = Instant.zero
    private(set) var failedSentAt = Instant.zero
    private(set) var lastError: String?
    var heuristicsPass = true
    /// The request in flight: its id, kind and when it was sent.
    private var inFlight: (id: UInt64, kind: ArbiterRequest.Kind, sentAt: Instant)?
    private var nextId: UInt64 = 0
    private var nextRequest = Instant.zero
    /// At the last step this node could have taken a free key (so a read finding it free is
    /// followed by a take at the next tick, not a period later).
    private var mayTake = false

    init(policy: ArbiterPolicy) { self.policy = policy }

    static func == (a: Arbiter, b: Arbiter) -> Bool {
        a.policy == b.policy && a.holder == b.holder && a.provenUntil == b.provenUntil && a.reachable == b.reachable
            && a.heuristicsPass == b.heuristicsPass && a.inFlight?.id == b.inFlight?.id && a.nextRequest == b.nextRequest
    }

    /// Whether this node counts the vote at `now` in `view` (`watchdog`: its timeout, when armed).
    func counts(_ view: View, watchdog: TimeSpan?, _ now: Instant) -> Bool {
        guard let h = holder, view.members.contains(h) else { return false }
        return now < provenUntil - (watchdog.map(policy.watchdogMargin) ?? .zero)
    }

    func status(_ view: View, watchdog: TimeSpan?, _ now: Instant) -> ArbiterStatus {
        ArbiterStatus(holder: holder, counted: counts(view, watchdog: watchdog, now),
                      provenUntil: holder == nil ? nil : provenUntil, reachable: reachable,
                      heuristicsPass: heuristicsPass, lastError: lastError)
    }

    /// Called on every tick: the next request, when one is due (or `soon`: the view changed).
    /// `needsVote`: the vote could make this partition quorate; `delegate`: this node is the
    /// lowest member of its view.
    mutating func step(me: Member, delegate: Bool, needsVote: Bool, soon: Bool, _ now: Instant) -> ArbiterRequest? {
        if let f = inFlight {
            guard now - f.sentAt >= policy.renewEvery * 2 else { return nil }
            answer(f.id, .failed("no answer within \(policy.renewEvery * 2)"), now)
        }
        mayTake = delegate && needsVote && (heuristicsPass || !policy.heuristics)
        let force = !policy.margins && mayTake && holder != nil && holder?.node != me.node && now >= provenUntil
        guard now >= nextRequest || soon || force else { return nil }
        let kind: ArbiterRequest.Kind
        if let h = holder, h.node == me.node, h.incarnation <= me.incarnation, needsVote {
            kind = .renew
        } else if (holder == nil || force) && mayTake {
            kind = .acquire
        } else {
            kind = .read
        }
        nextId += 1
        nextRequest = now + policy.renewEvery
        inFlight = (nextId, kind, now)
        return ArbiterRequest(id: nextId, kind: kind, me: me, force: force)
    }

    /// The shell's answer to request `id`.
    mutating func answer(_ id: UInt64, _ a: ArbiterAnswer, _ now: Instant) {
        guard let f = inFlight, f.id == id else { return }
        inFlight = nil
        switch a {
        case let .holder(h, remaining):
            reachable = true
            answeredSentAt = f.sentAt
            lastError = nil
            let proven = policy.margins ? policy.provenUntil(sentAt: f.sentAt, remaining: remaining) : now + remaining
            // The same lease, proven alive longer by an earlier answer: keep the longer proof (leases
            // are never revoked, and a handover keeps the lease).
            provenUntil = h == nil ? now : (holder != nil ? max(proven, provenUntil) : proven)
            // A free key is taken at the next tick, not a period later.
            if h == nil && f.kind == .read && mayTake { nextRequest = now }
            holder = h
        case .failed(let why):
            reachable = false
            failedSentAt = f.sentAt
            lastError = why
        }
    }

    /// A clean leave: the holder hands the key to `successor` (nil: none left; the lease expires).
    /// It waits for the answer (`handingOver`) for at most `handoverOverdue`.
    mutating func leave(me: Member, successor: Member?, _ now: Instant) -> ArbiterRequest? {
        guard holder?.node == me.node, let successor else { return nil }
        nextId += 1
        inFlight = (nextId, .handover, now)
        return ArbiterRequest(id: nextId, kind: .handover, me: me, to: successor, force: false)
    }

    var handingOver: Bool { inFlight?.kind == .handover }
    func handoverOverdue(_ now: Instant) -> Bool { inFlight.map { now - $0.sentAt >= policy.renewEvery * 2 } ?? true }
}
