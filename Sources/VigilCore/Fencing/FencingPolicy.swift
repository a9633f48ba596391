/// Fencing (STONITH) decisions. Pure, like the rest of the core: the node says *when* to fence whom
/// with which devices (`Effect.fence`); the shell runs the plugins and reports back
/// (`Event.fenceDone`). See docs/fencing.md.
///
/// Rules:
/// - A member that leaves a *quorate* view uncleanly becomes pending. Pending and fenced state are
///   max-registers per node, shared by `fenceState` messages, so a newcomer or a new coordinator
///   learns them.
/// - Exactly one executor: the lowest-numbered member of the current quorate view that is not
///   itself pending (a pending node that rejoined never judges its own case). Others leave a target
///   alone while another member of their view announced an attempt on it (`fenceStarted`) that is
///   within its time bound.
/// - Before the first attempt on a target the executor waits the target's static delay plus a
///   random delay (fence races in two-node clusters), plus the priority delay when this side has
///   no majority and the target ran the most important resources.
/// - Levels in order; a failed level escalates at once to the next; after the last, retry from
///   level 1 with doubling backoff.
/// - Without quorum nothing is started, and running attempts are aborted.
/// - A pending node that rejoins is still fenced (unless the operator confirms it).
public enum FenceAction: String, Sendable, CaseIterable {
    case off, reboot, on
}

/// Self-fencing by hardware watchdog (the SBD idea, without a disk).
public struct WatchdogPolicy: Equatable, Sendable {
    /// The hardware watchdog's timeout: not fed for this long, the board resets.
    public var timeout: TimeSpan
    /// Inquorate for this long, a node stops feeding its watchdog.
    public var quorumLossBound: TimeSpan

    public init(timeout: TimeSpan, quorumLossBound: TimeSpan) {
        self.timeout = timeout
        self.quorumLossBound = quorumLossBound
    }

    /// How long the quorate side waits, from writing a node off, before counting it as fenced when
    /// no device can fence it. The lost node needs up to detection + install to see itself
    /// inquorate (it may also have been frozen for up to one watchdog timeout, which the self-pause
    /// rule excuses), then `quorumLossBound`, then one `timeout` for the board to reset. We wait
    /// twice the timeout plus all of that.
    public func safeWait(_ t: Timing) -> TimeSpan {
        timeout * 2 + quorumLossBound + t.detectionBound + t.installBound
    }
}

public struct FencingPolicy: Equatable, Sendable {
    public var enabled = false
    /// Per node: levels in order, each a list of device names that must all succeed.
    public var levels: [NodeID: [[String]]] = [:]
    /// Static delay before fencing this node (give the preferred survivor of a split a head start).
    public var delay: [NodeID: TimeSpan] = [:]
    /// A random delay in 0...this is added before each first attempt.
    public var randomDelayMax = TimeSpan.zero
    /// Pacemaker's `priority-fencing-delay`: without a majority (a half split, two nodes), a node
    /// running the cluster's highest total resource priority is fenced only after this extra delay,
    /// so the side running the services wins the race (`Fencer.priorityDelay`).
    public var priorityDelay = TimeSpan.zero
    public var action = FenceAction.off
    public var retryBackoff = TimeSpan.seconds(1)
    public var maxBackoff = TimeSpan.seconds(60)
    /// The longest one level may take (its devices' timeouts, plus slack); others wait this long
    /// after a `fenceStarted` before taking over.
    public var attemptBound = TimeSpan.seconds(120)
    public var watchdog: WatchdogPolicy?

    public init() {}
    public static let disabled = FencingPolicy()
}

/// What the shell must run: every device of one level, in order, for one target.
public struct FenceOrder: Equatable, Sendable {
    public var id: UInt64
    public var target: Member
    public var action: FenceAction
    /// 1-based.
    public var level: Int
    public var devices: [String]
    public var manual: Bool
}

