/// One clone notification (Pacemaker's `notify` action, pe_notif.c): its phase, the operation it
/// surrounds, and the instance lists of the transition it belongs to (the same in every round of
/// that transition, as Pacemaker computes them once; agents do the set arithmetic themselves,
/// e.g. promoted after it = promoted - demote + promote).
public struct NotifyInfo: Equatable, Sendable {
    public enum Phase: UInt8, Sendable { case pre = 1, post = 2 }
    public var phase: Phase
    public var operation: ResourceAction
    /// Nodes whose instances start, stop, are promoted and demoted in the transition.
    public var start: NodeSet
    public var stop: NodeSet
    public var promote: NodeSet
    public var demote: NodeSet
    /// When the transition began: nodes with an instance up, and those of them promoted.
    public var active: NodeSet
    public var promoted: NodeSet
    /// Members the clone may run on.
    public var available: NodeSet

    public init(phase: Phase, operation: ResourceAction, start: NodeSet = .empty, stop: NodeSet = .empty,
                promote: NodeSet = .empty, demote: NodeSet = .empty, active: NodeSet = .empty, promoted: NodeSet = .empty,
                available: NodeSet = .empty) {
        self.phase = phase
        self.operation = operation
        self.start = start
        self.stop = stop
        self.promote = promote
        self.demote = demote
        self.active = active
        self.promoted = promoted
        self.available = available
    }

    static let listCount = 7
    var lists: [NodeSet] { [start, stop, promote, demote, active, promoted, available] }
    init(phase: Phase, operation: ResourceAction, lists l: [NodeSet]) {
        self.init(phase: phase, operation: operation, start: l[0], stop: l[1], promote: l[2], demote: l[3], active: l[4],
                  promoted: l[5], available: l[6])
    }
}
