import Crypto

/// The shared 256-bit cluster secret. Each (sender, incarnation) gets its own subkey derived with
/// HKDF-SHA256, so that the deterministic nonce (link, sequence) never repeats under one key, even
/// when a restarted node counts its sequences from 1 again.
public struct ClusterKey: Sendable {
    public static let size = 32
    let key: SealedKey

    public enum Error: Swift.Error, CustomStringConvertible {
        case wrongSize(Int)
        public var description: String {
            switch self {
            case .wrongSize(let n): "cluster key must be \(ClusterKey.size) bytes, found \(n)"
            }
        }
    }

    public init(bytes: [UInt8]) throws(Error) {
        guard bytes.count == ClusterKey.size else { throw .wrongSize(bytes.count) }
        key = SealedKey(SymmetricKey(data: bytes))
    }

    func subkey(cluster: UInt32, sender: NodeID, incarnation: Incarnation) -> SealedKey {
        var info = ByteWriter(capacity: 14)
        info.u32(cluster)
        info.u16(sender.rawValue)
        info.u64(incarnation)
        return SealedKey(HKDF<SHA256>.deriveKey(inputKeyMaterial: key.key, salt: Array("vigil-frame-v1".utf8),
                                                info: info.bytes, outputByteCount: 32))
    }
}

/// `SymmetricKey` is immutable once made but not marked `Sendable` by swift-crypto 3.
struct SealedKey: @unchecked Sendable {
    let key: SymmetricKey
    /// The key's 32 bytes, for libsodium's AEAD (FrameCodec).
    let raw: [UInt8]
    init(_ key: SymmetricKey) {
        self.key = key
        raw = key.withUnsafeBytes { Array($0) }
    }
}
