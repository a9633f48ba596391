import VigilCore

/// The rules checked after every step of a simulation. Each breach is recorded as a `Violation`.
struct Invariants {
    let config: CoreConfig
    private(set) var violations: [Violation] = []
    /// Ground truth: when a frame from each sender incarnation last reached each node (key: from*128+to).
    private var lastArrival: [Int: (Incarnation, Instant)] = [:]
    /// Every view id seen, with its coordinator's incarnation and members: one id, one membership.
    private var registry: [ViewID: [Member]] = [:]
    private var lastView: [Member: ViewID] = [:]
    private var sawAllTogether: Set<Member> = []
    private var graceful: Set<Member> = []

    init(config: CoreConfig) { self.config = config }

    mutating func fail(_ rule: Rule, _ node: NodeID?, _ detail: String, at t: Instant) {
        if violations.count < 20 { violations.append(Violation(time: t, node: node, rule: rule, detail: detail)) }
    }

    mutating func started(_ m: Member) {
        for k in lastArrival.keys where k % 128 == Int(m.node.rawValue) { lastArrival[k] = nil }
    }
    mutating func leftGracefully(_ m: Member) { graceful.insert(m) }

    mutating func arrived(from: Member, to: NodeID, at t: Instant) {
        lastArrival[Int(from.node.rawValue) * 128 + Int(to.rawValue)] = (from.incarnation, t)
    }

    mutating func observe(_ n: Notice, node: Node, at t: Instant, pauses: [(from: Instant, to: Instant)]) {
        switch n {
        case let .peerDead(m, .silent):
            checkNotFalselyDead(m, by: node.id, at: t, pauses: pauses)
        case let .viewInstalled(v, change):
            checkInstall(v, change, by: node.me, quorum: node.config.quorum, vote: node.hasArbiterVote, at: t)
        default:
            break
        }
    }

    /// No member declared dead while one of its links still delivers: the time since its last frame
    /// reached us, not counting our own pauses, must be at least the deadline (less one tick).
    private mutating func checkNotFalselyDead(_ m: Member, by a: NodeID, at t: Instant,
                                              pauses: [(from: Instant, to: Instant)]) {
        guard let (inc, ta) = lastArrival[Int(m.node.rawValue) * 128 + Int(a.rawValue)], inc == m.incarnation else { return }
        var paused = TimeSpan.zero
        for p in pauses where p.to > ta { paused = paused + (min(p.to, t) - max(p.from, ta)) }
        let silence = t - ta - paused
        let timing = config.timing
        if silence < timing.deadline - timing.interval {
            fail(.falseDeath, a, "declared \(m) dead after \(silence) of silence (deadline \(timing.deadline)); its frames still arrived", at: t)
        }
    }

    private mutating func checkInstall(_ v: View, _ change: ViewChange, by me: Member, quorum q: QuorumPolicy, vote: Bool, at t: Instant) {
        if let prev = lastView[me], v.id <= prev {
            fail(.epochOrder, me.node, "installed \(v.id) after \(prev)", at: t)
        }
        lastView[me] = v.id
        if let known = registry[v.id], known.first == v.members.first, known != v.members {
            fail(.agreement, me.node, "view \(v.id) has members \(v.members), elsewhere \(known)", at: t)
        }
        registry[v.id] = v.members
        if !v.members.contains(me) { fail(.selfMember, me.node, "installed \(v) without itself", at: t) }
        checkQuorum(v, by: me, q, vote: vote, at: t)
        for m in change.leftCleanly where !graceful.contains(m) {
            fail(.cleanLeave, me.node, "\(m) recorded as a clean leave but it never said goodbye", at: t)
        }
    }

    /// The quorum flag follows the vote rule exactly (the node's own: the document may change it).
    private mutating func checkQuorum(_ v: View, by me: Member, _ q: QuorumPolicy, vote: Bool, at t: Instant) {
        if q.isComplete(v.nodes) { sawAllTogether.insert(me) }
        let expected = q.isQuorate(v.nodes, allSeenTogether: sawAllTogether.contains(me), arbiterVote: vote)
        if v.quorate != expected {
            fail(.quorum, me.node, "\(v) but votes \(q.votes(of: v.nodes))/\(q.expectedVotes) say quorate=\(expected)", at: t)
        }
    }

    /// After a quiet period: all running nodes share one view whose members are exactly them.
    mutating func checkAgreement(_ running: [Node], at t: Instant) {
        let expected = running.map(\.me).sorted()
        guard let first = running.first else { return }
        for n in running where n.view.members != expected || n.view.id != first.view.id {
            fail(.agreement, n.id, "after the quiet period: \(n.view), expected \(expected) in one view (\(first.id) has \(first.view.id))", at: t)
        }
        // Fencing liveness: a quorate cluster has fenced everyone it lost by now.
        for n in running where config.fencing.enabled && n.view.quorate && !n.pendingFences.isEmpty {
            fail(.fenceLiveness, n.id, "after the quiet period still waiting to fence \(n.pendingFences.sorted { $0.key < $1.key })", at: t)
        }
    }
}
