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

    public init(cluster: UInt32, local: NodeID, known: NodeSet, key: ClusterKey) {
        self.cluster = cluster
        self.local = local
        self.known = known
        self.key = key
    }

    /// Encrypts `message` into a datagram sent by this node.
    public mutating func seal(_ message: Message, link: LinkID, incarnation: Incarnation,
                              sequence: UInt64) -> [UInt8] {
        let header = FrameHeader(type: message.type, cluster: cluster, sender: local, link: link,
                                 incarnation: incarnation, sequence: sequence)
        var body = ByteWriter()
        message.encodePayload(into: &body)
        let aad = header.bytes
        let k = subkey(for: Member(local, incarnation))
        // Nonce uniqueness: per subkey, (link, sequence) is never reused by a sender.
        guard let nonce = try? ChaChaPoly.Nonce(data: FrameCodec.nonce(header)),
              let box = try? ChaChaPoly.seal(body.bytes, using: k, nonce: nonce,
                                             authenticating: aad)
        else { preconditionFailure("ChaChaPoly.seal with a 32-byte key and 12-byte nonce cannot fail") }
        var out = aad
        out.reserveCapacity(aad.count + body.bytes.count + FrameHeader.tagSize)
        out.append(contentsOf: box.ciphertext)
        out.append(contentsOf: box.tag)
        return out
    }

    /// Authenticates and decrypts a datagram. Replay checks are the caller's (see `ReplayWindow`).
    public mutating func open(_ bytes: [UInt8]) -> Result<Frame, Rejection> {
        let header: FrameHeader
        switch FrameHeader.parse(bytes[...]) {
        case .failure(let r): return .failure(r)
        case .success(let h): header = h
        }
        guard header.cluster == cluster else { return .failure(.wrongCluster) }
        guard known.contains(header.sender) else { return .failure(.unknownNode) }
        guard header.sender != local else { return .failure(.ownFrame) }
        let tagStart = bytes.count - FrameHeader.tagSize
        let k = subkey(for: Member(header.sender, header.incarnation))
        guard let nonce = try? ChaChaPoly.Nonce(data: FrameCodec.nonce(header)),
              let box = try? ChaChaPoly.SealedBox(nonce: nonce,
                                                  ciphertext: bytes[FrameHeader.size..<tagStart],
                                                  tag: bytes[tagStart...]),
              let plain = try? ChaChaPoly.open(box, using: k, authenticating: bytes[0..<FrameHeader.size])
        else { return .failure(.badTag) }
        var r = ByteReader(Array(plain)[...])
        guard let m = Message.decodePayload(type: header.type, &r) else { return .failure(.malformed) }
        return .success(Frame(header: header, message: m))
    }

    private mutating func subkey(for m: Member) -> SymmetricKey {
        cachedSubkey(m).key
    }

    private mutating func cachedSubkey(_ m: Member) -> SealedKey {
        if let k = subkeys[m] { return k }
        // Bounded: forged incarnations must not grow memory without limit.
        if subkeys.count >= 512 { subkeys.removeAll(keepingCapacity: true) }
        let k = key.subkey(cluster: cluster, sender: m.node, incarnation: m.incarnation)
        subkeys[m] = k
        return k
    }

    private static func nonce(_ h: FrameHeader) -> [UInt8] {
        var w = ByteWriter(capacity: 12)
        w.u8(h.link.rawValue)
        w.u8(0); w.u8(0); w.u8(0)
        w.u64(h.sequence)
        return w.bytes
    }
}
