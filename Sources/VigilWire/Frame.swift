/// The 32-byte clear header of every frame. It is authenticated (AEAD associated data) but not
/// encrypted, so network tools can read who sent what on which link without the key.
public struct FrameHeader: Equatable, Sendable {
    public static let size = 32
    public static let tagSize = 16
    public static let magic: [UInt8] = [0x56, 0x49, 0x47, 0x4C]  // "VIGL"
    public static let version: UInt8 = 1

    public var type: MessageType
    public var cluster: UInt32
    public var sender: NodeID
    public var link: LinkID
    public var incarnation: Incarnation
    public var sequence: UInt64

    public init(type: MessageType, cluster: UInt32, sender: NodeID, link: LinkID,
                incarnation: Incarnation, sequence: UInt64) {
        self.type = type
        self.cluster = cluster
        self.sender = sender
        self.link = link
        self.incarnation = incarnation
        self.sequence = sequence
    }

    var bytes: [UInt8] {
        var w = ByteWriter(capacity: FrameHeader.size)
        w.raw(FrameHeader.magic)
        w.u8(FrameHeader.version)
        w.u8(type.rawValue)
        w.u16(0)  // flags, reserved
        w.u32(cluster)
        w.u16(sender.rawValue)
        w.u8(link.rawValue)
        w.u8(0)  // reserved
        w.u64(incarnation)
        w.u64(sequence)
        return w.bytes
    }

    /// Parses the clear header only (no key needed). Used by the codec and by health tools.
    public static func parse(_ bytes: ArraySlice<UInt8>) -> Result<FrameHeader, Rejection> {
        guard bytes.count >= size + tagSize else { return .failure(.truncated) }
        guard bytes.prefix(4).elementsEqual(magic) else { return .failure(.badMagic) }
        var r = ByteReader(bytes.dropFirst(4))
        guard r.u8() == version else { return .failure(.badVersion) }
        guard let t = r.u8().flatMap(MessageType.init(rawValue:)) else { return .failure(.unknownType) }
        _ = r.u16()
        guard let cluster = r.u32(), let sender = r.u16(), let link = r.u8(), r.u8() != nil,
              let inc = r.u64(), let seq = r.u64()
        else { return .failure(.truncated) }
        return .success(FrameHeader(type: t, cluster: cluster, sender: NodeID(sender), link: LinkID(link),
                                    incarnation: inc, sequence: seq))
    }
}

/// An authenticated, decrypted frame.
public struct Frame: Equatable, Sendable {
    public var header: FrameHeader
    public var message: Message
    public init(header: FrameHeader, message: Message) {
        self.header = header
        self.message = message
    }
}

/// Why a datagram was dropped. Every rejection is counted by reason; none changes protocol state.
public enum Rejection: String, CaseIterable, Sendable, Hashable, Error {
    case truncated
    case badMagic = "bad_magic"
    case badVersion = "bad_version"
    case unknownType = "unknown_type"
    case wrongCluster = "wrong_cluster"
    case unknownNode = "unknown_node"
    case ownFrame = "own_frame"
    case badTag = "bad_tag"
    case wrongLink = "wrong_link"
    case malformed
    case replayed
    case stale
}
