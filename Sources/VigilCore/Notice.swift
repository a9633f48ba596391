/// Observable happenings: for logs, events, metrics, and the simulator's invariant checks.
public enum Notice: Equatable, Sendable {
    case linkUp(peer: NodeID, link: LinkID)
    case linkDown(peer: NodeID, link: LinkID)
    case peerAlive(Member)
    case peerDead(Member, reason: DeathReason)
    case viewInstalled(View, ViewChange)
    case quorumChanged(quorate: Bool)
    /// This node's own tick came late: it was stalled (and, by the self-pause rule, excused peers).
    case paused(lateness: TimeSpan)
    case rejected(Rejection, link: LinkID)
    case leaving
    case fence(FenceNotice)
    case resource(ResourceNotice)
    case attribute(AttributeNotice)
    /// A member's configuration differs from this node's, or agrees again (Membership/ConfigAgreement.swift).
    case config(ConfigNotice)
    /// The replicated document: a copy taken, a conflict, a change refused (Membership/DocumentSync.swift).
    case document(DocumentNotice)
    /// The document added or removed nodes (Membership/NodesChange.swift).
    case nodesChanged(added: NodeSet, removed: NodeSet)
    /// The external vote (Membership/Arbiter.swift).
    case arbiter(ArbiterNotice)
    /// Site tickets (Tickets/Tickets.swift).
    case ticket(TicketNotice)
}

/// Site tickets' happenings.
public enum TicketNotice: Equatable, Sendable {
    /// The ticket's key now says this (nil: no site holds it).
    case holder(String, TicketHolder?)
    /// This site may (or may no longer) run the ticket's resources.
    case usable(String, Bool)
    /// The operator's command was taken, or refused.
    case command(TicketCommand)
    case refused(String, reason: String)
}

/// The arbiter's happenings.
public enum ArbiterNotice: Equatable, Sendable {
    /// The vote key now names this member (nil: no one holds it).
    case holder(Member?)
    /// The heuristics command's result changed.
    case heuristics(pass: Bool)
}

/// Fencing progress (Fencing/Fencer.swift).
public enum FenceNotice: Equatable, Sendable {
    /// A member must be fenced before its resources are recovered.
    case pending(Member)
    /// This node (the executor) will start at the first attempt after this delay.
    case scheduled(Member, delay: TimeSpan)
    case started(Member, executor: NodeID, level: Int, devices: [String])
    case finished(Member, executor: NodeID, result: FenceResult, level: Int, took: TimeSpan)
    /// No device is configured for the node and no watchdog: only the operator can clear it.
    case noDevice(Member)
    /// This node stops feeding its hardware watchdog (inquorate for the bound, or the cluster wants
    /// it fenced and only the watchdog can).
    case selfFence(reason: SelfFenceReason)
    /// An operator request was refused (no quorum, unknown node, itself).
    case refused(NodeID, reason: FenceRefusal)
    /// An operator's fence failed at every level; it is not retried (unclean losses are).
    case gaveUp(Member)
}

/// The resource supervisor's happenings (Resources/).
public enum ResourceNotice: Equatable, Sendable {
    /// This node's state of a resource changed.
    case state(id: String, ResourceState, failCount: Int)
    /// The owner asked `node` to start or stop `id`.
    case command(id: String, node: NodeID, action: ResourceAction)
    /// A stop failed on `node`: it will be fenced before the resource runs anywhere else.
    case escalate(id: String, node: NodeID)
    /// The operator's change was taken.
    case admin(AdminRequest, version: UInt64)
    case adminRefused(AdminRefusal)
    /// This node forgot the failures of `id` (its failure timeout passed).
    case failuresExpired(id: String)
    /// This node lost quorum and stops `id` (no_quorum_policy = "stop").
    case stopWithoutQuorum(id: String)
    /// The owner's start of `id` arrived after `missing`, earlier in its group, stopped running
    /// here: not started (the owner decides again from this node's report).
    case startRefused(id: String, missing: String)
    /// This node took resource policy `version`: what it added, removed and redefined (each
    /// restarted, or drained if a clone) (Supervisor+Adopt.swift).
    case policyAdopted(version: UInt64, added: [String], removed: [String], redefined: [String])
    /// A clone notification of `id` ran here (`ok`: the agent succeeded; a failure is only logged).
    case notified(id: String, NotifyInfo, ok: Bool)
}
