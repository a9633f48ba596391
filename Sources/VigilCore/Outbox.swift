/// What a sub-machine (fencing) hands back to its node, in order: messages for every peer (the
/// node seals them, one frame per link) and effects. One ordered list keeps frames, their
/// sequence numbers and effects in exactly the order the sub-machine meant.
struct Outbox {
    enum Item {
        case broadcast(Message)
        case effect(Effect)
    }

    private(set) var items: [Item] = []
    /// A fence succeeded or was learned: the owner's placement inputs changed.
    var placementChanged = false

    mutating func broadcast(_ m: Message) { items.append(.broadcast(m)) }
    mutating func append(_ e: Effect) { items.append(.effect(e)) }
}
