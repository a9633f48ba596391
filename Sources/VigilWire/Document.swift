/// The replicated configuration document's identity on the wire: its version and a hash of its
/// bytes. What the cluster decides together (nodes and votes, quorum, fencing, resources, alerts)
/// is one document; the members of a view agree on one copy (VigilCore's DocumentSync.swift).

/// An operator epoch that only people raise (`epoch` in the document's `[document]` section),
/// then a counter the cluster raises on every change. Newer is larger.
public struct DocumentVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var epoch: UInt32
    public var counter: UInt32
    public init(epoch: UInt32, counter: UInt32) {
        self.epoch = epoch
        self.counter = counter
    }
    public static func < (a: DocumentVersion, b: DocumentVersion) -> Bool { (a.epoch, a.counter) < (b.epoch, b.counter) }
    public var description: String { "\(epoch).\(counter)" }
}

/// Which copy of the document: its version and the FNV-1a hash of its bytes. Totally ordered:
/// by version, then by hash. Two copies with one version and two hashes are a conflict (two
/// changes made apart); the rule that settles it is this order: the larger hash wins, on every
/// node alike, whoever is in the view. All zero means "no document" (the simulator's plain nodes).
public struct DocumentStamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var version: DocumentVersion
    public var hash: UInt64
    public init(version: DocumentVersion, hash: UInt64) {
        self.version = version
        self.hash = hash
    }
    public static let none = DocumentStamp(version: DocumentVersion(epoch: 0, counter: 0), hash: 0)
    public var isNone: Bool { self == .none }
    public static func < (a: DocumentStamp, b: DocumentStamp) -> Bool { (a.version, a.hash) < (b.version, b.hash) }
    public var description: String { "\(version) (\(String(hash, radix: 16)))" }

    /// The stamp of these bytes at this version.
    public init(version: DocumentVersion, bytes: [UInt8]) {
        var h = ConfigDigest.Hasher()
        for b in bytes { h.add(b) }
        self.init(version: version, hash: h.value)
    }
}

/// A document travels in chunks of at most this many bytes (one frame each), at most
/// `maxChunks` of them: 64,000 bytes in all.
public enum DocumentChunking {
    public static let chunkSize = 1000
    public static let maxChunks = 64
    public static let maxBytes = chunkSize * maxChunks
}

extension Message {
    static func put(_ s: DocumentStamp, _ w: inout ByteWriter) {
        w.u32(s.version.epoch)
        w.u32(s.version.counter)
        w.u64(s.hash)
    }

    static func stamp(_ r: inout ByteReader) -> DocumentStamp? {
        guard let e = r.u32(), let c = r.u32(), let h = r.u64() else { return nil }
        return DocumentStamp(version: DocumentVersion(epoch: e, counter: c), hash: h)
    }

    /// A stamp at the end of a message that may carry none (older senders, the simulator's plain
    /// nodes): absent reads as `.none`, so frames without a document are unchanged on the wire.
    static func putTrailing(_ s: DocumentStamp, _ w: inout ByteWriter) {
        if !s.isNone { put(s, &w) }
    }

    static func trailingStamp(_ r: inout ByteReader) -> DocumentStamp? {
        r.remaining == 0 ? DocumentStamp.none : stamp(&r)
    }
}

extension Message {
    func encodeDocumentTransfer(into w: inout ByteWriter) {
        switch self {
        case let .configRequest(to, stamp, have):
            w.u16(to.rawValue)
            Message.put(stamp, &w)
            w.u64(have)
        case let .configChunk(stamp, index, count, bytes):
            Message.put(stamp, &w)
            w.u8(index)
            w.u8(count)
            w.u16(UInt16(min(bytes.count, DocumentChunking.chunkSize)))
            w.raw(bytes.prefix(DocumentChunking.chunkSize))
        default:
            break
        }
    }

    static func readDocumentTransfer(_ type: MessageType, _ r: inout ByteReader) -> Message? {
        switch type {
        case .configRequest:
            guard let to = r.u16(), NodeID(to).isValid, let s = stamp(&r), let have = r.u64() else { return nil }
            return .configRequest(to: NodeID(to), stamp: s, have: have)
        case .configChunk:
            guard let s = stamp(&r), let i = r.u8(), let n = r.u8(), i < n, Int(n) <= DocumentChunking.maxChunks,
                  let len = r.u16(), Int(len) <= DocumentChunking.chunkSize, let bytes = r.raw(Int(len)) else { return nil }
            return .configChunk(stamp: s, index: i, count: n, bytes: bytes)
        default:
            return nil
        }
    }
}
