/// An installed membership view.
public struct View: Equatable, Sendable, CustomStringConvertible {
    public var id: ViewID
    /// Sorted by node id.
    public var members: [Member]
    public var quorate: Bool
    public var installedAt: Instant

    public init(id: ViewID, members: [Member], quorate: Bool, installedAt: Instant) {
        self.id = id
        self.members = members
        self.quorate = quorate
        self.installedAt = installedAt
    }

    public static let none = View(id: .none, members: [], quorate: false, installedAt: .zero)

    public var nodes: NodeSet {
        var s = NodeSet.empty
        for m in members { s.insert(m.node) }
        return s
    }
    public var description: String {
        "view \(id): [" + members.map(\.description).joined(separator: " ") + "]" + (quorate ? " quorate" : " inquorate")
    }
}

/// What a new view changed relative to the node's previous one.
public struct ViewChange: Equatable, Sendable {
    public var joined: [Member] = []
    /// Left with a goodbye: nothing to fence.
    public var leftCleanly: [Member] = []
    /// Vanished (silent, crashed or restarted without a goodbye): must be fenced before its
    /// resources are recovered.
    public var lostUncleanly: [Member] = []

    static func between(_ old: [Member], _ new: [Member], isClean: (Member) -> Bool) -> ViewChange {
        let newSet = Set(new), oldSet = Set(old)
        var c = ViewChange()
        c.joined = new.filter { !oldSet.contains($0) }
        for m in old where !newSet.contains(m) {
            if isClean(m) { c.leftCleanly.append(m) } else { c.lostUncleanly.append(m) }
        }
        return c
    }
}

