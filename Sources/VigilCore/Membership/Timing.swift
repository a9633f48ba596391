/// Heartbeat timing: the two knobs a user sets. Everything else is derived and printed by
/// `vigilctl validate`, so no knob interacts silently with another.
public struct Timing: Equatable, Sendable {
    /// Heartbeat period on every link (5 ms at the least).
    public var interval: TimeSpan
    /// A peer silent on every link for longer than this is dead.
    public var deadline: TimeSpan

    /// The floor: 5 ms, stable on the lab under `stress-ng --cpu 2` with the heartbeat thread at
    /// SCHED_FIFO (docs/benchmarks.md, docs/scale.md).
    public static let minimumInterval = TimeSpan.ms(5)
    public static let `default` = Timing(interval: .ms(20), deadline: .ms(100))

    public init(interval: TimeSpan, deadline: TimeSpan) {
        self.interval = interval
        self.deadline = deadline
    }

    /// How long the coordinator waits for peers' heartbeats to agree on who is alive
    /// before proposing a view anyway.
    public var settle: TimeSpan { interval * 3 }
    /// How long a proposal waits for acks before it is dropped and made afresh.
    public var ackTimeout: TimeSpan { max(interval * 6, deadline) }
    /// A node that just started listens this long before forming a view on its own.
    public var joinWait: TimeSpan { deadline + interval * 2 }
    /// Own tick later than this counts as a pause of this node, not silence of its peers.
    public var pauseThreshold: TimeSpan { interval / 2 }
    /// Worst case from a node's last frame to every survivor declaring it dead
    /// (deadline, plus one tick of granularity, plus one interval since its last heartbeat).
    public var detectionBound: TimeSpan { deadline + interval * 2 }
    /// Worst case from detection on every survivor to the new view being installed, without loss:
    /// connectivity agreement (settle), then propose, ack and install (three one-way trips, each under
    /// an interval on a LAN), plus one tick of granularity.
    public var installBound: TimeSpan { settle + interval * 4 }
}
