import CSodium
import Crypto

/// Seals and opens frames for one cluster: ChaCha20-Poly1305 over the payload, the clear header as
/// associated data. Opening never traps: every failure is a typed `Rejection`.
public struct FrameCodec: Sendable {
    public let cluster: UInt32
    public let local: NodeID
    /// Nodes in the config; frames from anyone else are rejected before any crypto.
    /// The nodes whose frames are accepted (the cluster's document may add or remove some).
    public var known: NodeSet
    private let key: ClusterKey
    private var subkeys: [Member: SealedKey] = [:]
    /// Each node's latest incarnation's key by node id: the lookup on every frame, without hashing.
    private var latest = [(incarnation: Incarnation, key: SealedKey)?](repeating: nil, count: Int(NodeID.range.upperBound) + 1)

    public init(cluster: UInt32, local: NodeID, known: NodeSet, key: ClusterKey) {
        self.cluster = cluster
        self.local = local
        self.known = known
        self.key = key
        _ = sodium_init()  // picks the CPU's fastest implementation; idempotent and thread-safe
    }

    /// Encrypts `message` into a datagram sent by this node.
    public mutating func seal(_ message: Message, link: LinkID, incarnation: Incarnation,
                              sequence: UInt64) -> [UInt8] {
        let header = FrameHeader(type: message.type, cluster: cluster, sender: local, link: link,
                                 incarnation: incarnation, sequence: sequence)
        var body = ByteWriter()
        message.encodePayload(into: &body)
        let aad = header.bytes
        let k = cachedSubkey(Member(local, incarnation))
        proven(Member(local, incarnation), k)
        let n = body.bytes.count, tag = FrameHeader.tagSize
        var out = [UInt8](repeating: 0, count: aad.count + n + tag)
        // Nonce uniqueness: per subkey, (link, sequence) is never reused by a sender.
        let rc = FrameCodec.withNonce(header) { nonce in
            out.withUnsafeMutableBufferPointer { o in
                let base = o.baseAddress!
                for i in 0..<aad.count { base[i] = aad[i] }
                return body.bytes.withUnsafeBufferPointer { m in
                    k.raw.withUnsafeBufferPointer { key in
                        crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                            base + aad.count, base + aad.count + n, nil, m.baseAddress, UInt64(n),
                            base, UInt64(aad.count), nil, nonce, key.baseAddress!)
                    }
                }
            }
        }
        precondition(rc == 0, "ChaCha20-Poly1305 with a 32-byte key and 12-byte nonce cannot fail")
        return out
    }

    /// Authenticates and decrypts a datagram. Replay checks are the caller's (see `ReplayWindow`).
    /// One allocation (the plaintext); the datagram is read in place.
    public mutating func open(_ bytes: [UInt8]) -> Result<Frame, Rejection> {
        let header: FrameHeader
        switch FrameHeader.parse(bytes[...]) {
        case .failure(let r): return .failure(r)
        case .success(let h): header = h
        }
        guard header.cluster == cluster else { return .failure(.wrongCluster) }
        guard known.contains(header.sender) else { return .failure(.unknownNode) }
        guard header.sender != local else { return .failure(.ownFrame) }
        let tagStart = bytes.count - FrameHeader.tagSize, size = FrameHeader.size
        let k = cachedSubkey(Member(header.sender, header.incarnation))
        var plain = [UInt8](repeating: 0, count: max(1, tagStart - size))
        let rc = FrameCodec.withNonce(header) { nonce in
            bytes.withUnsafeBufferPointer { b in
                plain.withUnsafeMutableBufferPointer { p in
                    k.raw.withUnsafeBufferPointer { key in
                        crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                            p.baseAddress, nil, b.baseAddress! + size, UInt64(tagStart - size), b.baseAddress! + tagStart,
                            b.baseAddress, UInt64(size), nonce, key.baseAddress!)
                    }
                }
            }
        }
        guard rc == 0 else { return .failure(.badTag) }
        proven(Member(header.sender, header.incarnation), k)
        var r = ByteReader(plain[0..<(tagStart - size)])
        guard let m = Message.decodePayload(type: header.type, &r) else { return .failure(.malformed) }
        return .success(Frame(header: header, message: m))
    }

    private mutating func cachedSubkey(_ m: Member) -> SealedKey {
        if let l = latest[Int(m.node.rawValue)], l.incarnation == m.incarnation { return l.key }
        if let k = subkeys[m] { return k }
        // Bounded: forged incarnations must not grow memory without limit.
        if subkeys.count >= 512 { subkeys.removeAll(keepingCapacity: true) }
        let k = key.subkey(cluster: cluster, sender: m.node, incarnation: m.incarnation)
        subkeys[m] = k
        return k
    }

    /// A key that opened a genuine frame (or sealed one of ours) becomes its node's latest: forged
    /// frames with made-up incarnations never displace it.
    private mutating func proven(_ m: Member, _ k: SealedKey) {
        if latest[Int(m.node.rawValue)]?.incarnation != m.incarnation { latest[Int(m.node.rawValue)] = (m.incarnation, k) }
    }

    /// The 12-byte nonce (link, three zero bytes, sequence big-endian), on the stack.
    private static func withNonce<R>(_ h: FrameHeader, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 12) { n in
            n.initialize(repeating: 0)
            n[0] = h.link.rawValue
            for i in 0..<8 { n[4 + i] = UInt8(truncatingIfNeeded: h.sequence >> (56 - 8 * UInt64(i))) }
            return body(UnsafePointer(n.baseAddress!))
        }
    }
}
