/// What a sub-machine (membership, fencing, the supervisor) hands back to its node, in order: messages for
/// every peer (the node seals them, one frame per link), effects, and requests to the node's other
/// parts. One ordered list keeps frames, their sequence numbers and effects in exactly the order
/// the sub-machine meant.
struct Outbox {
    enum Item {
        case broadcast(Message)
        case effect(Effect)
        /// Supervisor: this member must be fenced before anything of its moves (its stop failed).
        case requireFencing(NodeID, at: Instant)
        /// Supervisor: everything here is stopped, the graceful leave can go on.
        case leave
        /// Membership: a new view is installed (fencing records its unclean losses, the
        /// supervisor reports in it at once).
        case viewInstalled(ViewChange, at: Instant)
        /// Membership: quorum is back, and these members of the last quorate view went missing
        /// meanwhile (fencing records them as lost uncleanly).
        case lostWhileInquorate([Member], at: Instant)
    }

    private(set) var items: [Item] = []
    /// A fence succeeded or was learned: the owner's placement inputs changed.
    var placementChanged = false

    mutating func broadcast(_ m: Message) { items.append(.broadcast(m)) }
    mutating func append(_ e: Effect) { items.append(.effect(e)) }
    mutating func requireFencing(_ n: NodeID, at now: Instant) { items.append(.requireFencing(n, at: now)) }
    mutating func leave() { items.append(.leave) }
    mutating func viewInstalled(_ change: ViewChange, at now: Instant) { items.append(.viewInstalled(change, at: now)) }
    mutating func lostWhileInquorate(_ lost: [Member], at now: Instant) { items.append(.lostWhileInquorate(lost, at: now)) }
}
