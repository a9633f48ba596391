/// A membership view's identity. Ordered by epoch, then by the coordinator that made it, so two
/// partitions that both reach epoch 7 still have distinct, totally ordered views (like corosync's ring id).
public struct ViewID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var epoch: UInt64
    public var coordinator: NodeID
    public init(epoch: UInt64, coordinator: NodeID) {
        self.epoch = epoch
        self.coordinator = coordinator
    }
    public static let none = ViewID(epoch: 0, coordinator: NodeID(0))
    public static func < (a: ViewID, b: ViewID) -> Bool {
        (a.epoch, a.coordinator.rawValue) < (b.epoch, b.coordinator.rawValue)
    }
    public var description: String { "\(epoch).\(coordinator.rawValue)" }
}

/// Message type byte in the clear header (health tools may read it without the key).
public enum MessageType: UInt8, Sendable, CaseIterable {
    case heartbeat = 1
    case propose = 2
    case ack = 3
    case install = 4
    case leave = 5
    case probe = 6
    case probeReply = 7
}

/// The decrypted body of a frame.
public enum Message: Equatable, Sendable {
    /// Sent every interval on every link: what the sender's view is and whom it hears.
    case heartbeat(view: ViewID, alive: NodeSet)
    /// Coordinator asks the listed members to form `view`.
    case propose(view: ViewID, members: [Member])
    /// A member agrees to `view`; `cleanLeft` are members it saw leave gracefully.
    case ack(view: ViewID, cleanLeft: [Member])
    /// Coordinator commits `view`.
    case install(view: ViewID, members: [Member], cleanLeft: [Member])
    /// The sender leaves the cluster gracefully.
    case leave
    /// Round-trip probe: `stamp` is the sender's own clock, echoed back unchanged.
    case probe(stamp: UInt64)
    /// Answer to `to`'s probe, on the link it came in on.
    case probeReply(to: NodeID, stamp: UInt64)

    public var type: MessageType {
        switch self {
        case .heartbeat: .heartbeat
        case .propose: .propose
        case .ack: .ack
        case .install: .install
        case .leave: .leave
        case .probe: .probe
        case .probeReply: .probeReply
        }
    }

    func encodePayload(into w: inout ByteWriter) {
        switch self {
        case let .heartbeat(view, alive):
            Message.put(view, &w)
            w.u64(alive.bits)
        case let .propose(view, members):
            Message.put(view, &w)
            Message.put(members, &w)
        case let .ack(view, cleanLeft):
            Message.put(view, &w)
            Message.put(cleanLeft, &w)
        case let .install(view, members, cleanLeft):
            Message.put(view, &w)
            Message.put(members, &w)
            Message.put(cleanLeft, &w)
        case .leave:
            break
        case .probe(let stamp):
            w.u64(stamp)
        case let .probeReply(to, stamp):
            w.u16(to.rawValue)
            w.u64(stamp)
        }
    }

    /// Parses a payload; nil when malformed (wrong length, bad counts, trailing bytes).
    static func decodePayload(type: MessageType, _ r: inout ByteReader) -> Message? {
        let m: Message?
        switch type {
        case .heartbeat:
            guard let v = view(&r), let a = r.u64() else { return nil }
            m = .heartbeat(view: v, alive: NodeSet(bits: a))
        case .propose:
            guard let v = view(&r), let ms = members(&r) else { return nil }
            m = .propose(view: v, members: ms)
        case .ack:
            guard let v = view(&r), let c = members(&r) else { return nil }
            m = .ack(view: v, cleanLeft: c)
        case .install:
            guard let v = view(&r), let ms = members(&r), let c = members(&r) else { return nil }
            m = .install(view: v, members: ms, cleanLeft: c)
        case .leave:
            m = .leave
        case .probe:
            guard let s = r.u64() else { return nil }
            m = .probe(stamp: s)
        case .probeReply:
            guard let to = r.u16(), let s = r.u64() else { return nil }
            m = .probeReply(to: NodeID(to), stamp: s)
        }
        return r.remaining == 0 ? m : nil
    }

    private static func put(_ v: ViewID, _ w: inout ByteWriter) {
        w.u64(v.epoch)
        w.u16(v.coordinator.rawValue)
    }
    private static func put(_ ms: [Member], _ w: inout ByteWriter) {
        w.u8(UInt8(min(ms.count, 64)))
        for m in ms.prefix(64) {
            w.u16(m.node.rawValue)
            w.u64(m.incarnation)
        }
    }
    private static func view(_ r: inout ByteReader) -> ViewID? {
        guard let e = r.u64(), let c = r.u16() else { return nil }
        return ViewID(epoch: e, coordinator: NodeID(c))
    }
    private static func members(_ r: inout ByteReader) -> [Member]? {
        guard let n = r.u8(), n <= 64 else { return nil }
        var out: [Member] = []
        out.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let id = r.u16(), let inc = r.u64(), NodeID(id).isValid else { return nil }
            out.append(Member(NodeID(id), inc))
        }
        return out
    }
}
