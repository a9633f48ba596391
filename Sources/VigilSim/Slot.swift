import VigilCore

/// Simulator state of one node slot: the real core `Node`, or nothing while down.
struct Slot {
    enum State: Equatable { case down, running, paused(since: Instant) }
    var node: Node?
    var state = State.down
    var incarnation: Incarnation = 0
    var wakeAt: Instant?
    var held: [SimEvent] = []
    /// Pauses of the current incarnation, for the no-false-death rule.
    var pauses: [(from: Instant, to: Instant)] = []
    /// Frames this incarnation accepted recently, for replay attacks.
    var delivered: [([UInt8], LinkID)] = []
    /// Last time the simulated hardware watchdog was fed.
    var fedAt: Instant?
    /// The hardware watchdog as the node's effects set it: armed (fed on each tick), stopped.
    var watchdog = WatchdogState.off
    enum WatchdogState { case off, armed, stopped }
    /// Recurring monitors the node asked for: resource -> generation and interval.
    var monitors: [String: (generation: UInt64, every: TimeSpan, promoted: Bool)] = [:]
    /// Probes, starts and stops ordered and not yet ended: resource -> operation.
    var running: [String: ResourceOp] = [:]
    /// A graceful leave asked of it (SIGTERM), while it stops its resources first: the daemon
    /// exits once it has said goodbye, or is killed after `Simulation.stopTimeout` (systemd's).
    var leavingSince: Instant?
    /// The permanent attributes the node last saved (`Effect.persistAttributes`).
    var savedAttributes: [NodeAttribute] = []
    /// A resource policy taken while paused: the node takes it when it resumes.
    var pendingPolicy: ResourcePolicy?
    /// The copy of the replicated document the node last saved (read back when it starts again).
    var savedDocument: (stamp: DocumentStamp, bytes: [UInt8])?
}
