/// The node's side of fencing: what status reads, and the routing of events to its `Fencer`.
extension Node {
    /// Members that must be fenced before anything of theirs is recovered (node -> incarnation).
    public var pendingFences: [NodeID: Incarnation] { fencer.pending }
    public var fencedUpTo: [NodeID: Incarnation] { fencer.fenced }
    /// Fence attempts this node is running now (for status).
    public var runningFences: [FenceOrder] {
        fencer.jobs.values.compactMap { j in
            j.order.map { FenceOrder(id: $0, target: j.target, action: j.action, level: j.levelIndex + 1,
                                     devices: fencer.devices(j.target.node, j.levelIndex), manual: j.manual) }
        }.sorted { $0.id < $1.id }
    }
    /// True once a quorate view armed self-fencing (for status; the shell follows `Effect.watchdog`).
    public var watchdogArmed: Bool { config.fencing.watchdog != nil && fencer.watchdogArmed }
    /// Armed and still feeding (for status and the clean-leave disarm).
    public var feedsWatchdog: Bool { watchdogArmed && !fencer.stoppedFeeding }

    /// A member is clean (its resources may be recovered) when it left gracefully or was fenced.
    public func isFenced(_ m: Member) -> Bool { fencer.isFenced(m) }

    var fenceContext: FenceContext {
        var c = FenceContext(me: me, nodes: config.nodes, view: view, owner: owner, peers: detector.peers,
                             timing: config.timing, leaving: leaving)
        c.majority = config.quorum.votes(of: view.nodes) * 2 > config.quorum.expectedVotes
        c.awaitingVote = membership.awaitingVote
        // Read only while something may be scheduled (the reports are walked).
        if fencer.policy.priorityDelay > .zero && !fencer.pending.isEmpty {
            c.priorities = supervisor.policy.nodePriorities(supervisor.reports.mapValues(\.entries))
        }
        return c
    }

    /// One call into the fencer; what it hands back is carried out in order (`carryOut`).
    mutating func fencing(_ out: inout [Effect], _ call: (inout Fencer, FenceContext, inout Outbox) -> Void) {
        var box = Outbox()
        call(&fencer, fenceContext, &box)
        carryOut(box, &out)
    }
}
