/// A node's number in the cluster config, 1...64 (one bit of a `NodeSet` each).
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let range: ClosedRange<UInt16> = 1...64
    public let rawValue: UInt16
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public var isValid: Bool { rawValue >= 1 && rawValue <= 64 }
    @inlinable public static func < (a: NodeID, b: NodeID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "node\(rawValue)" }
}

/// One network (link) of the cluster, numbered from 0 in config order.
public struct LinkID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let maxLinks = 8
    public let rawValue: UInt8
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }
    public static func < (a: LinkID, b: LinkID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "link\(rawValue)" }
}

/// A node's life number: a restarted node comes back with a larger one.
public typealias Incarnation = UInt64

/// Identifies one life of one node: the unit of membership.
public struct Member: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let node: NodeID
    public let incarnation: Incarnation
    public init(_ node: NodeID, _ incarnation: Incarnation) {
        self.node = node
        self.incarnation = incarnation
    }
    public static func < (a: Member, b: Member) -> Bool {
        (a.node, a.incarnation) < (b.node, b.incarnation)
    }
    public var description: String { "\(node)#\(incarnation)" }
}

/// A set of node ids as a 64-bit mask: bit (id - 1).
public struct NodeSet: Hashable, Sendable, Sequence, CustomStringConvertible {
    public var bits: UInt64
    @inlinable public init(bits: UInt64 = 0) { self.bits = bits }
    @inlinable public init<S: Sequence>(_ nodes: S) where S.Element == NodeID {
        bits = 0
        for n in nodes { insert(n) }
    }
    public static let empty = NodeSet()
    @inlinable public var isEmpty: Bool { bits == 0 }
    @inlinable public var count: Int { bits.nonzeroBitCount }
    @inlinable public func contains(_ n: NodeID) -> Bool { n.isValid && bits & NodeSet.bit(n) != 0 }
    @inlinable public mutating func insert(_ n: NodeID) { if n.isValid { bits |= NodeSet.bit(n) } }
    @inlinable public mutating func remove(_ n: NodeID) { if n.isValid { bits &= ~NodeSet.bit(n) } }
    @inlinable public var min: NodeID? { bits == 0 ? nil : NodeID(UInt16(bits.trailingZeroBitCount + 1)) }
    @inlinable public func union(_ o: NodeSet) -> NodeSet { NodeSet(bits: bits | o.bits) }
    @inlinable public func intersection(_ o: NodeSet) -> NodeSet { NodeSet(bits: bits & o.bits) }
    @inlinable public func subtracting(_ o: NodeSet) -> NodeSet { NodeSet(bits: bits & ~o.bits) }
    @usableFromInline static func bit(_ n: NodeID) -> UInt64 { 1 << UInt64(n.rawValue - 1) }

    /// The ids in increasing order (a concrete iterator: no allocation, no closure).
    public struct Iterator: IteratorProtocol {
        @usableFromInline var rest: UInt64
        @inlinable init(_ bits: UInt64) { rest = bits }
        @inlinable public mutating func next() -> NodeID? {
            guard rest != 0 else { return nil }
            let i = rest.trailingZeroBitCount
            rest &= rest - 1
            return NodeID(UInt16(i + 1))
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(bits) }
    public var description: String { "{" + map { String($0.rawValue) }.joined(separator: ",") + "}" }
}
