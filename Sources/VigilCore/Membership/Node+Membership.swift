/// The node's side of membership: the context it reads, and the routing of calls to it.
extension Node {
    var membershipContext: MembershipContext {
        MembershipContext(me: me, timing: config.timing, leaving: leaving, startedAt: startedAt, peers: detector.peers,
                          alive: detector.aliveSet, aliveChangedAt: aliveChangedAt)
    }

    /// One call into membership; what it hands back is carried out in order (`carryOut`).
    mutating func membershipCall(_ out: inout [Effect], _ call: (inout Membership, MembershipContext, inout Outbox) -> Void) {
        var box = Outbox()
        call(&membership, membershipContext, &box)
        carryOut(box, &out)
    }

    /// Called after every event: the coordinator's decision to propose (or re-send) a view.
    mutating func evaluateMembership(_ now: Instant, _ out: inout [Effect]) {
        membershipCall(&out) { ms, c, box in ms.evaluate(c, now, &box) }
    }
}
