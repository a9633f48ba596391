/// The failure detector's peers by node id: one slot per possible id (1...64), so that finding a
/// peer is an index, not a hash. At 64 nodes the coordinator looks up every member's state on
/// every frame; hashing `NodeID`s was a fifth of a frame's cost (docs/frame-cost.md).
public struct PeerTable: Equatable, Sendable {
    private var slots = [PeerState?](repeating: nil, count: Int(NodeID.range.upperBound) + 1)
    /// The ids that have a peer, in increasing order (walked at every tick without looking at
    /// empty slots).
    public private(set) var ids = NodeSet.empty

    public init() {}

    public subscript(_ n: NodeID) -> PeerState? {
        get { n.isValid ? slots[Int(n.rawValue)] : nil }
        set {
            guard n.isValid else { return }
            slots[Int(n.rawValue)] = newValue
            if newValue == nil { ids.remove(n) } else { ids.insert(n) }
        }
        // In place: a peer's links are changed without copying them (no allocation per frame).
        _modify {
            if n.isValid {
                yield &slots[Int(n.rawValue)]
                if case .none = slots[Int(n.rawValue)] { ids.remove(n) } else { ids.insert(n) }
            } else {
                var none: PeerState?
                yield &none
            }
        }
    }

    /// The peers of `nodes` with their incarnations (those heard at least once), by id.
    func members(_ nodes: NodeSet) -> [Member] {
        nodes.compactMap { n in self[n]?.incarnation.map { Member(n, $0) } }
    }

    /// As a dictionary (status, the simulator).
    public var dictionary: [NodeID: PeerState] {
        Dictionary(uniqueKeysWithValues: ids.map { ($0, slots[Int($0.rawValue)]!) })
    }
}
