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
    /// The vote key: its holder, its lease, the lease's expiry on the server's clock.
    var holder: Member?
    var expiry = Instant.zero
    var held: [(Member, ArbiterRequest)] = []
    public init() {}
}

enum ArbiterSimEvent {
    case request(Member, ArbiterRequest)
    case answer(Member, UInt64, ArbiterAnswer)
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

    func sendToArbiter(_ r: ArbiterRequest, from m: Member) {
        guard !arbiterServer.cut.contains(m.node) else { return }
        queue.push(.arbiter(.request(m, r)), at: now + .ms(Int64.random(in: arbiterServer.delayMs, using: &rng)))
    }

    func arbiterEvent(_ e: ArbiterSimEvent) {
        switch e {
        case let .request(m, r):
            if arbiterServer.paused { return arbiterServer.held.append((m, r)) }
            serve(r, from: m)
        case let .answer(m, id, a):
            let i = Int(m.node.rawValue)
            guard slots[i].node?.me == m, !arbiterServer.cut.contains(m.node) else { return }
            if case .paused = slots[i].state { return slots[i].held.append(.arbiter(e)) }
            apply(.arbiterAnswer(id: id, a), to: m.node)
        }
    }

    /// The server at its own clock: expire the lease, then do what the request asks.
    private func serve(_ r: ArbiterRequest, from m: Member) {
        let ttl = config.arbiter?.ttl ?? .seconds(5)
        let clock = now + TimeSpan(nanoseconds: now.nanoseconds * arbiterServer.ppm / 1_000_000)
        if arbiterServer.holder != nil && clock >= arbiterServer.expiry { arbiterServer.holder = nil }
        switch r.kind {
        case .renew:
            if let h = arbiterServer.holder, h.node == r.me.node {
                arbiterServer.holder = r.me
                arbiterServer.expiry = clock + ttl
            }
        case .acquire:
            if arbiterServer.holder == nil || r.force {
                arbiterServer.holder = r.me
                arbiterServer.expiry = clock + ttl
            }
        case .handover:
            if let h = arbiterServer.holder, h.node == r.me.node, let to = r.to { arbiterServer.holder = to }
        case .read:
            break
        }
        var left = arbiterServer.holder == nil ? .zero : arbiterServer.expiry - clock
        if arbiterServer.secondsGranularity && arbiterServer.holder != nil && left < ttl {
            // What etcd's TimeToLive says (whole seconds, rounded up), less the shell's second.
            let secs = (left.nanoseconds + 999_999_999) / 1_000_000_000
            left = .ms(max(0, secs - 1) * 1000)
        }
        let a = ArbiterAnswer.holder(arbiterServer.holder, remaining: left)
        guard !arbiterServer.cut.contains(m.node) else { return }
        queue.push(.arbiter(.answer(m, r.id, a)), at: now + .ms(Int64.random(in: arbiterServer.delayMs, using: &rng)))
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
        for (other, theirs) in quorateViews where other != id && theirs.intersection(mine).isEmpty {
            invariants.fail(.splitQuorum, id, "quorate in \(mine.sorted()) while \(other) is quorate in \(theirs.sorted())", at: now)
        }
    }
}
