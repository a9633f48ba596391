/// Whether the shell may leave datagrams queued between reads (the daemon's receive hold): at
/// 16 nodes and a 10 ms interval a node hears 3,000 frames a second, and waking the heartbeat
/// thread for each cost more than handling it. A heartbeat read late changes nothing, because the
/// shell hands each frame over with the time the kernel received it and reads everything queued
/// before every tick (the only place a peer is judged dead). What must not wait is the protocol:
/// a proposal, an ack, a fence or resource message. So the node is steady only while nothing of
/// the kind is under way or about to be, recomputed at every tick:
/// - in a view that holds exactly the alive peers, with no proposal in flight;
/// - every alive peer heard within `overdue` on some link, which is at least one tick before the
///   detector's deadline: by the time any node declares a peer dead, every node that also misses
///   it is prompt again, and reads the proposal at once;
/// - no fence pending or running, no resource command or notification unconfirmed, no attribute
///   round, no document transfer.
/// Any frame other than a heartbeat or a probe, and any event from the shell other than a tick,
/// ends it until the next tick.
extension Node {
    /// How long an alive peer may be silent before the node stops being steady: one and a half
    /// intervals, and at most the deadline less one interval (so the first tick that finds the
    /// peer overdue comes before the tick that would find it dead).
    static func overdue(_ t: Timing) -> TimeSpan {
        min(t.interval * 3 / 2, t.deadline - t.interval)
    }

    mutating func judgeSteady(_ now: Instant) {
        let view = membership.view
        guard !leaving, view.id != .none, membership.settled else {
            steady = false
            return
        }
        var alive = detector.aliveSet
        alive.insert(id)
        steady = alive == view.nodes
            && detector.allAliveHeard(within: Node.overdue(config.timing), at: now)
            && fencer.idle && supervisor.quiet && !attributes.busy && !documents.fetching
            && removing.isEmpty
    }
}

extension FailureDetector {
    /// Every alive peer was heard on some link within `span` before `now`.
    func allAliveHeard(within span: TimeSpan, at now: Instant) -> Bool {
        for n in aliveSet {
            guard let t = peers[n]?.lastHeard, now - t <= span else { return false }
        }
        return true
    }
}

extension Membership {
    /// No proposal of this node's in flight, none acked and waiting for its install.
    var settled: Bool { proposal == nil && pending == nil }
}

extension Fencer {
    var idle: Bool { pending.isEmpty && jobs.isEmpty }
}

extension Supervisor {
    /// No command, promotion or notification round waiting on another node.
    var quiet: Bool { unackedStarts.isEmpty && unackedPromotes.isEmpty && notifying.isEmpty && notifyRounds.isEmpty }
}

extension DocumentSync {
    var fetching: Bool { fetch != nil }
}

extension Node {
    /// After a routine frame: still steady unless handling it changed something (a peer or link
    /// came up, a proposal went out). Rejected frames change nothing: a flood of forged frames
    /// does not make the node read every datagram as it comes.
    func stillSteady(after start: Int, _ out: [Effect]) -> Bool {
        guard membership.settled else { return false }
        return out[start...].allSatisfy {
            switch $0 {
            case .send, .notice(.rejected), .wake: true
            default: false
            }
        }
    }
}

extension Message {
    /// Heartbeats and round-trip probes: the frames a steady cluster is made of.
    var isRoutine: Bool {
        switch self {
        case .heartbeat, .probe, .probeReply: true
        default: false
        }
    }
}
