import VigilCore

/// The arbiter in simulation: an etcd-like lease server with its own clock rate, a link between
/// it and each node that can be cut, delays, pauses of the server; and the rule the vote exists
/// for (`split-quorum`: never two partitions quorate at once). Nodes' own clock rates are
/// `Simulation.clockPPM` (a node's clock reads `now * (1 + ppm / 10^6)`).
public struct ArbiterServerModel: Sendable {
    /// The server's clock rate offset (parts per million; +: fast).
    public var ppm: Int64 = 0
    /// One-way delay of a request or an answer (milliseconds).
    public var delayMs: ClosedRange<Int64> = 1...20
    /// etcd's lease TTLs are whole seconds, rounded up in the worst case; the shell takes one off.
    public var secondsGranularity = true
    /// Nodes cut off from the server (requests and answers lost).
    public var cut: Set<NodeID> = []
    public var paused = false
    /// Each cluster's vote key, and each ticket's key: the value, the lease's expiry on the server's clock.
    var votes: [UInt32: (holder: Member, expiry: Instant)] = [:]
    public internal(set) var tickets: [String: (holder: TicketHolder, expiry: Instant)] = [:]
    var held: [(Member, Effect)] = []
    public init() {}
}

enum ArbiterSimEvent {
    case request(Member, Effect)
    case answer(Member, UInt64, ArbiterAnswer)
    case ticketAnswer(Member, UInt64, TicketAnswer)
}

extension Simulation {
    /// The node's clock at real time `t`, and back (rounded up, so a wake never comes early).
    func local(_ t: Instant, _ id: NodeID) -> Instant {
        guard let ppm = clockPPM[id] else { return t }
        return t + TimeSpan(nanoseconds: t.nanoseconds * ppm / 1_000_000)
    }
    func real(_ l: Instant, _ id: NodeID) -> Instant {
        guard let ppm = clockPPM[id] else { return l }
        let n = l.nanoseconds * 1_000_000
        let d = 1_000_000 + ppm
        return Instant(nanoseconds: n / d + (n % d == 0 ? 0 : 1))
    }

    /// An `.arbiter` or `.ticket` effect: the request travels to the server.
    func sendToArbiter(_ e: Effect, from m: Member) {
        guard !arbiterServer.cut.contains(m.node) else { return }
        queue.push(.arbiter(.request(m, e)), at: now + .ms(Int64.random(in: arbiterServer.delayMs, using: &rng)))
    }

    func arbiterStep(_ s: Step) {
        switch s {
        case let .arbiterCut(id, down): if down { arbiterServer.cut.insert(id) } else { arbiterServer.cut.remove(id) }
        case .arbiterPause(let p): if p { arbiterServer.paused = true } else { resumeArbiter() }
        case let .ticket(on, c): if isRunning(on) { apply(.ticketCommand(c), to: on) }
        default: break
        }
    }

    func arbiterEvent(_ e: ArbiterSimEvent) {
        let m: Member, event: Event
        switch e {
        case let .request(m, r):
            if arbiterServer.paused { return arbiterServer.held.append((m, r)) }
            return serve(r, from: m)
        case let .answer(who, id, a): (m, event) = (who, .arbiterAnswer(id: id, a))
        case let .ticketAnswer(who, id, a): (m, event) = (who, .ticketAnswer(id: id, a))
        }
        let i = Int(m.node.rawValue)
        guard slots[i].node?.me == m, !arbiterServer.cut.contains(m.node) else { return }
        if case .paused = slots[i].state { return slots[i].held.append(.arbiter(e)) }
        apply(event, to: m.node)
    }

    /// The server's clock now.
    private var serverClock: Instant { now + TimeSpan(nanoseconds: now.nanoseconds * arbiterServer.ppm / 1_000_000) }

    /// The time left that an answer says: etcd's whole seconds rounded up, less the shell's second.
    private func answered(_ left: TimeSpan, ttl: TimeSpan) -> TimeSpan {
        guard arbiterServer.secondsGranularity && left < ttl else { return left }
        return .ms(max(0, (left.nanoseconds + 999_999_999) / 1_000_000_000 - 1) * 1000)
    }

    private func serve(_ e: Effect, from m: Member) {
        switch e {
        case .arbiter(let r): serve(r, from: m)
        case .ticket(let r): serve(r, from: m)
        default: break
        }
    }

    /// The server at its own clock: expire the lease, then do what the request asks. Each
    /// cluster (`siteConfigs`) has a vote key of its own.
    private func serve(_ r: ArbiterRequest, from m: Member) {
        let c = siteConfigs[m.node] ?? config
        let ttl = c.arbiter?.ttl ?? .seconds(5), clock = serverClock
        var key = arbiterServer.votes[c.cluster].flatMap { clock < $0.expiry ? $0 : nil }
        switch r.kind {
        case .renew:
            if let h = key?.holder, h.node == r.me.node { key = (r.me, clock + ttl) }
        case .acquire:
            if key == nil || r.force { key = (r.me, clock + ttl) }
        case .handover:
            if let k = key, k.holder.node == r.me.node, let to = r.to { key = (to, k.expiry) }
        case .read:
            break
        }
        arbiterServer.votes[c.cluster] = key
        let a = ArbiterAnswer.holder(key?.holder, remaining: key.map { answered($0.expiry - clock, ttl: ttl) } ?? .zero)
        guard !arbiterServer.cut.contains(m.node) else { return }
        queue.push(.arbiter(.answer(m, r.id, a)), at: now + .ms(Int64.random(in: arbiterServer.delayMs, using: &rng)))
    }

    /// A ticket's key, as etcd would keep it (TicketModel.swift's sites share the server).
    private func serve(_ r: TicketRequest, from m: Member) {
        let c = siteConfigs[m.node] ?? config
        let ttl = c.ticketLease?.ttl ?? .seconds(5), clock = serverClock
        var key = arbiterServer.tickets[r.ticket].flatMap { clock < $0.expiry ? $0 : nil }
        switch r.kind {
        case .renew:
            if let k = key, k.holder.site == r.value.site, k.holder.state != .revoked, r.takeOver || k.holder.member.node == r.value.member.node {
                key = (TicketHolder(site: k.holder.site, member: r.value.member, state: k.holder.state), clock + ttl)
            }
        case .grant:
            if key == nil { key = (r.value, clock + ttl) }
        case .set:
            if let k = key, k.holder.site == r.value.site {
                key = (TicketHolder(site: k.holder.site, member: k.holder.member, state: r.value.state), k.expiry)
            }
        case .release:
            if let k = key, k.holder.site == r.value.site, k.holder.state == .revoked { key = nil }
        case .read:
            break
        }
        arbiterServer.tickets[r.ticket] = key
        let a = TicketAnswer.holder(key?.holder, remaining: key.map { answered($0.expiry - clock, ttl: ttl) } ?? .zero)
        guard !arbiterServer.cut.contains(m.node) else { return }
        queue.push(.arbiter(.ticketAnswer(m, r.id, a)), at: now + .ms(Int64.random(in: arbiterServer.delayMs, using: &rng)))
    }

    /// The server resumes: what queued up is served now, in order.
    func resumeArbiter() {
        arbiterServer.paused = false
        let held = arbiterServer.held
        arbiterServer.held = []
        for (m, r) in held { serve(r, from: m) }
    }

    /// `split-quorum`: after each event, a node quorate now (running, not paused) must share a
    /// node with every other such node's view.
    func checkSplitQuorum(_ id: NodeID) {
        let i = Int(id.rawValue)
        let q: NodeSet? = slots[i].state == .running && slots[i].node?.view.quorate == true ? slots[i].node?.view.nodes : nil
        guard q != quorateViews[id] else { return }
        quorateViews[id] = q
        guard let mine = q else { return }
        let cluster = (siteConfigs[id] ?? config).cluster
        for (other, theirs) in quorateViews where other != id && theirs.intersection(mine).isEmpty
            && (siteConfigs[other] ?? config).cluster == cluster {
            invariants.fail(.splitQuorum, id, "quorate in \(mine.sorted()) while \(other) is quorate in \(theirs.sorted())", at: now)
        }
    }
}
