/// Node attributes on the wire (message types 14 and 15): a replicated map from (node, name) to
/// a value, as Pacemaker's attrd keeps one. Every entry carries the version of its last write and
/// the node that wrote it; the copy with the highest (version, origin) wins everywhere. A delete
/// is a write of no value, so it wins over older copies too.

/// Whose attribute and which one.
public struct AttributeKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var node: NodeID
    public var name: String
    public init(node: NodeID, name: String) {
        self.node = node
        self.name = name
    }
    public static func < (a: AttributeKey, b: AttributeKey) -> Bool { (a.node.rawValue, a.name) < (b.node.rawValue, b.name) }
    public var description: String { "\(name)@\(node.rawValue)" }
}

/// How long an attribute lives (Pacemaker's `--lifetime`).
public enum AttributeLifetime: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Transient: cleared when its node leaves the view (or is fenced), never saved.
    case reboot = 1
    /// Permanent: saved by every node and kept across restarts of the whole cluster.
    case forever = 2
    public var description: String { self == .reboot ? "reboot" : "forever" }
}

/// One node attribute as replicated: its value (nil once deleted) and who wrote it when.
public struct NodeAttribute: Equatable, Sendable {
    public var key: AttributeKey
    public var value: String?
    public var lifetime: AttributeLifetime
    /// Not shown in status or lists; readable by name (attrd_updater --private).
    public var isPrivate: Bool
    public var version: UInt64
    public var origin: NodeID

    public init(key: AttributeKey, value: String?, lifetime: AttributeLifetime, isPrivate: Bool = false,
                version: UInt64, origin: NodeID) {
        self.key = key
        self.value = value
        self.lifetime = lifetime
        self.isPrivate = isPrivate
        self.version = version
        self.origin = origin
    }

    public func isNewer(than o: NodeAttribute) -> Bool { (version, origin.rawValue) > (o.version, o.origin.rawValue) }

    /// Longest name and value a write may carry (one length byte each on the wire).
    public static let maxName = 128
    public static let maxValue = 255

    /// Encoded size, to cut a batch into frames that stay well under the path MTU.
    public var wireSize: Int { 2 + 1 + key.name.utf8.count + 1 + (value.map { 1 + $0.utf8.count } ?? 0) + 8 + 2 }

    func put(_ w: inout ByteWriter) {
        w.u16(key.node.rawValue)
        w.string(key.name)
        w.u8((value == nil ? 0 : 1) | (isPrivate ? 2 : 0) | lifetime.rawValue << 2)
        if let value { w.string(value) }
        w.u64(version)
        w.u16(origin.rawValue)
    }

    static func read(_ r: inout ByteReader) -> NodeAttribute? {
        guard let n = r.u16(), NodeID(n).isValid, let name = r.string(), !name.isEmpty, let flags = r.u8(), flags < 16,
              let lifetime = AttributeLifetime(rawValue: flags >> 2) else { return nil }
        var value: String?
        if flags & 1 == 1 {
            guard let v = r.string() else { return nil }
            value = v
        }
        guard let version = r.u64(), let o = r.u16(), NodeID(o).isValid else { return nil }
        return NodeAttribute(key: AttributeKey(node: NodeID(n), name: name), value: value, lifetime: lifetime,
                             isPrivate: flags & 2 == 2, version: version, origin: NodeID(o))
    }
}

/// That a receiver holds this key at this version or newer (the answer to a write that asked for it).
public struct AttributeAck: Equatable, Sendable {
    public var key: AttributeKey
    public var version: UInt64
    public init(key: AttributeKey, version: UInt64) {
        self.key = key
        self.version = version
    }

    public var wireSize: Int { 2 + 1 + key.name.utf8.count + 8 }

    func put(_ w: inout ByteWriter) {
        w.u16(key.node.rawValue)
        w.string(key.name)
        w.u64(version)
    }

    static func read(_ r: inout ByteReader) -> AttributeAck? {
        guard let n = r.u16(), NodeID(n).isValid, let name = r.string(), let v = r.u64() else { return nil }
        return AttributeAck(key: AttributeKey(node: NodeID(n), name: name), version: v)
    }
}

extension NodeAttribute {
    /// A summary of a whole map (FNV-1a over key, version and writer, in key order): two nodes
    /// with the same digest hold the same map.
    public static func digest(_ sorted: [NodeAttribute]) -> (count: UInt32, hash: UInt64) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        func add64(_ v: UInt64) { for i in 0..<8 { add(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        for e in sorted {
            add64(UInt64(e.key.node.rawValue))
            for b in e.key.name.utf8 { add(b) }
            add(0)
            add64(e.version)
            add64(UInt64(e.origin.rawValue))
        }
        return (UInt32(min(sorted.count, Int(UInt32.max))), h)
    }
}

extension Message {
    /// Most bytes of entries one attribute frame carries (a frame stays under 1,280 bytes, the
    /// IPv6 minimum MTU, with header and tag).
    public static let attributeBudget = 1_100

    /// Cuts items into batches of at most `attributeBudget` encoded bytes (and 255 items).
    public static func batches<T>(_ items: [T], size: (T) -> Int) -> [[T]] {
        var out: [[T]] = []
        var cur: [T] = []
        var bytes = 0
        for i in items {
            if !cur.isEmpty && (bytes + size(i) > attributeBudget || cur.count == 255) {
                out.append(cur)
                (cur, bytes) = ([], 0)
            }
            cur.append(i)
            bytes += size(i)
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    static func putAttributes(_ entries: [NodeAttribute], confirm: Bool, _ w: inout ByteWriter) {
        w.u8(confirm ? 1 : 0)
        w.u8(UInt8(min(entries.count, 255)))
        for e in entries.prefix(255) { e.put(&w) }
    }

    static func readAttributes(_ r: inout ByteReader) -> Message? {
        guard let c = r.u8(), c <= 1, let n = r.u8() else { return nil }
        var entries: [NodeAttribute] = []
        for _ in 0..<n {
            guard let e = NodeAttribute.read(&r) else { return nil }
            entries.append(e)
        }
        return .attributes(entries, confirm: c == 1)
    }

    static func putAttributeAck(_ to: NodeID, _ acks: [AttributeAck], _ w: inout ByteWriter) {
        w.u16(to.rawValue)
        w.u8(UInt8(min(acks.count, 255)))
        for a in acks.prefix(255) { a.put(&w) }
    }

    static func readAttributeAck(_ r: inout ByteReader) -> Message? {
        guard let to = r.u16(), NodeID(to).isValid, let n = r.u8() else { return nil }
        var acks: [AttributeAck] = []
        for _ in 0..<n {
            guard let a = AttributeAck.read(&r) else { return nil }
            acks.append(a)
        }
        return .attributeAck(to: NodeID(to), acks)
    }
}
