import VigilCore

/// One 64-bit hash (FNV-1a) of everything the nodes of a simulation did: every effect of every
/// node, in order, with the time and the node that emitted it. Two runs with the same digest made
/// the same frames (byte for byte), timers, fence and resource orders and notices. Its use: prove
/// that a reshaping of the core changed no behaviour (`vigil-sim --digest`, the fixture in
/// Tests/VigilSimTests/Fixtures/digests.txt).
///
/// Notices enter as their `String(describing:)` text, so renaming a type that appears inside a
/// notice changes the digest even though nothing behaves differently: keep those names stable
/// while the fixture is meant to hold, or rewrite it in a commit that says so.
public struct TraceDigest: Sendable, Equatable, CustomStringConvertible {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    public init() {}

    public var description: String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    mutating func add(_ bytes: [UInt8]) {
        for b in bytes { add(b) }
        add(UInt64(bytes.count))
    }

    mutating func add(_ v: UInt64) {
        var v = v
        for _ in 0..<8 {
            add(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    mutating func add(_ s: String) { add(Array(s.utf8)) }

    /// One effect of `node` at `now`.
    mutating func add(_ e: Effect, node: NodeID, at now: Instant) {
        add(UInt64(bitPattern: now.nanoseconds))
        add(UInt64(node.rawValue))
        switch e {
        case let .send(bytes, link):
            add(UInt8(1))
            add(UInt64(link.rawValue))
            add(bytes)
        case .wake(let at):
            add(UInt8(2))
            add(UInt64(bitPattern: at.nanoseconds))
        case .notice(let n):
            add(UInt8(3))
            add(String(describing: n))
        case .fence(let o):
            add(UInt8(4))
            add(String(describing: o))
        case .abortFence(let id):
            add(UInt8(5))
            add(id)
        case .resource(let o):
            add(UInt8(6))
            add(o.id)
            add(o.op.rawValue)
        case .persist(let a):
            add(UInt8(7))
            add(TraceDigest.canonical(a))
        case .watchdog(let w):
            add(UInt8(8))
            add(String(describing: w))
        case .persistAttributes(let list):
            add(UInt8(9))
            add(String(describing: list))
        case let .adoptDocument(s, bytes, _):
            add(UInt8(10))
            add(s.hash)
            add(bytes)
        case .arbiter(let r):
            add(UInt8(11))
            add(String(describing: r))
        case .ticket(let r):
            add(UInt8(12))
            add(String(describing: r))
        }
    }

    /// `AdminState` as Swift prints it, but with its counters in key order: a dictionary's order
    /// changes from one process to the next (Swift seeds its hashing per process), and the digest
    /// must not (seed 170, 5 nodes, --fencing: two cleanups in one copy).
    static func canonical(_ a: AdminState) -> String {
        func sorted(_ d: [String: UInt32]) -> String {
            d.isEmpty ? "[:]" : "[" + d.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "]"
        }
        var s = String(describing: a)
        for d in [a.cleanups, a.restarts] where d.count > 1 { s = s.replacing(String(describing: d), with: sorted(d)) }
        return s
    }
}
