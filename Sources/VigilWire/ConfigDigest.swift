/// A summary of the configuration a node runs, one hash per part, that members exchange (wire
/// type 18) so that copies that differ are seen and named, instead of two nodes running two
/// configurations under one cluster id without anyone knowing.
///
/// The parts follow the config file's sections: what the cluster decides together (nodes and
/// votes, quorum, fencing, resources with their clones, orders and rules, alerts) and what each
/// node reads locally but must still agree on (the link layout, the timing). A zero hash means
/// "not known" (the simulator's nodes carry no file).
public struct ConfigDigest: Equatable, Sendable {
    public enum Part: UInt8, Sendable, CaseIterable, CustomStringConvertible, Comparable {
        /// `[[node]]`: names, ids, votes, addresses, fence delays.
        case nodes = 0
        /// `[quorum]`.
        case quorum = 1
        /// `[fencing]`, `[[fence_device]]`, `[[fence_level]]`.
        case fencing = 2
        /// `[[resource]]`, `[[group]]`, `[[clone]]`, `[[order]]`, rules, node health.
        case resources = 3
        /// `[[alert]]`.
        case alerts = 4
        /// `[[link]]`: how many, their modes, groups and ports.
        case links = 5
        /// `[timing]`: interval and deadline.
        case timing = 6

        public var description: String {
            switch self {
            case .nodes: "nodes"
            case .quorum: "quorum"
            case .fencing: "fencing"
            case .resources: "resources"
            case .alerts: "alerts"
            case .links: "links"
            case .timing: "timing"
            }
        }

        public static func < (a: Part, b: Part) -> Bool { a.rawValue < b.rawValue }
    }

    /// One hash per part, in `Part` order.
    public var hashes: [UInt64]

    public init(hashes: [UInt64] = Array(repeating: 0, count: Part.allCases.count)) {
        self.hashes = hashes
    }

    public subscript(_ p: Part) -> UInt64 {
        get { hashes[Int(p.rawValue)] }
        set { hashes[Int(p.rawValue)] = newValue }
    }

    /// The parts whose hashes differ (a part either side does not know is not compared).
    public func differences(_ o: ConfigDigest) -> [Part] {
        Part.allCases.filter { self[$0] != 0 && o[$0] != 0 && self[$0] != o[$0] }
    }

    /// FNV-1a, 64 bits: stable across processes and machines (Swift's `Hasher` is not).
    public struct Hasher {
        public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
        public init() {}
        public mutating func add(_ s: String) {
            for b in s.utf8 { add(b) }
            add(0)
        }
        public mutating func add(_ b: UInt8) { value = (value ^ UInt64(b)) &* 0x100_0000_01b3 }
    }
}
