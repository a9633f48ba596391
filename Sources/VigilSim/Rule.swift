/// The invariants the simulator checks, by name (DESIGN.md's list): each violation line names its
/// rule in brackets, and `vigil-sim` exits with the rule's family code (TigerBeetle's VOPR does
/// the same): 1 safety, 2 liveness.
public enum Rule: String, Sendable, CaseIterable, CustomStringConvertible {
    // Membership (Invariants.swift)
    /// A node declared a peer dead while that peer's frames were still arriving.
    case falseDeath = "false-death"
    /// A node installed a view older than one it had.
    case epochOrder = "epoch-order"
    /// One view id with two memberships, or running nodes not in one view after a quiet period.
    case agreement
    case selfMember = "self-member"
    /// A member recorded as gone cleanly that never said goodbye.
    case cleanLeave = "clean-leave"
    case quorum
    // Authenticity (Adversary.swift)
    /// A forged, mutated or replayed frame was acted on.
    case authenticity
    // Fencing (FenceModel.swift)
    case fenceQuorum = "fence-quorum"
    case fencedButRunning = "fenced-but-running"
    case unfencedClean = "unfenced-clean"
    case fenceLiveness = "fence-liveness"
    // Resources (FenceModel.swift)
    /// A resource active on two nodes at once (split brain).
    case doubleActive = "double-active"
    /// A group member started where an earlier one does not run, or stopped where a later one does.
    case groupOrder = "group-order"
    /// A start or stop of a resource ordered on a node while another of its operations still ran
    /// there (Pacemaker never overlaps one resource's operations; nor may Vigil).
    case overlappingOps = "overlapping-ops"
    case resourceLiveness = "resource-liveness"
    // Node attributes (AttributeModel.swift)
    /// A write was confirmed to its client while a member of the writer's view did not hold it.
    case attributeConfirm = "attribute-confirm"
    /// After a quiet period, running nodes hold different maps, or a transient attribute of a
    /// node that is down.
    case attributeAgreement = "attribute-agreement"
    /// After a quiet period a resource is active on a node its location rules (or node health) forbid.
    case ruleForbidden = "rule-forbidden"
    // Ordering constraints (OrderModel.swift)
    /// A THEN started while its mandatory FIRST did not run, or a symmetrical FIRST stopped while
    /// its THEN still ran.
    case order
    // Clones (OrderModel.swift)
    /// More instances of a clone active than its `clone_max`.
    case cloneMax = "clone-max"
    // Promotable clones (PromotionModel.swift)
    /// More instances of a promotable clone promoted at once than its `promoted_max`, counting
    /// every node still alive (paused or cut off): a lost primary must be fenced first.
    case doublePromoted = "double-promoted"
    /// A notify clone's instance promoted or demoted by the owner before its agent ran the
    /// pre-notification of that operation.
    case notifyOrder = "notify-order"
    /// A resource placed with a promotable clone's promoted role started where that clone's
    /// instance is not promoted (or a promote-then-start order's THEN started with none promoted).
    case withPromoted = "with-promoted"
    // A live configuration (DefinitionModel.swift)
    /// A resource started where the node's policy does not contain it, or under one definition
    /// while another node runs it under another; after a quiet period, something runs that the
    /// current policy removed, or under a definition it replaced.
    case definition
    /// A node took an older copy of the replicated document than the one it ran, or after a quiet
    /// period the members of one view run different copies (DocumentModel.swift).
    case document
    // The external vote (ArbiterModel.swift)
    /// Two nodes quorate at the same moment in views that share no node (two partitions quorate).
    case splitQuorum = "split-quorum"

    public var description: String { rawValue }

    /// Liveness rules: something that should have happened after a quiet period did not.
    public var isLiveness: Bool { self == .fenceLiveness || self == .resourceLiveness }
}
