import VigilConfig
import VigilCore

/// The copy of the replicated document this node runs, saved in its state directory
/// (`document.conf`): one header line (version, hash, and its own file's document part as it
/// last took it: that part's hash and the document it matched), then the document's text
/// exactly as replicated. Written by a
/// writer thread (`StateFile`), replaced whole; read back at start-up.
final class DocumentStore: @unchecked Sendable {
    struct Saved: Sendable, Equatable {
        var stamp: DocumentStamp
        var bytes: [UInt8]
        /// `ReplicatedDocument.hash` of the node's file's document part when it last took it, and
        /// the document the cluster ran then: a later change of the file is applied only while the
        /// cluster still runs that one (otherwise it would undo changes made since, unseen).
        var fileHash: UInt64
        var fileBase: DocumentStamp
    }

    private let file: StateFile<Saved>
    var path: String { file.path }
    /// What the file held at start-up.
    let restored: Saved?

    init(config: ClusterConfig, nodeName: String, log: Log) {
        let dir = config.stateDir.replacing("%n", with: nodeName)
        makeDirectories(dir)
        file = StateFile(path: dir + "/document.conf", what: "replicated document", log: log, encode: DocumentStore.encode)
        let data = readFile(file.path)
        restored = data.flatMap(DocumentStore.decode)
        if data != nil && restored == nil {
            log.log(.error, "\(file.path): not a saved document (bad header or hash); ignored: this node starts from its own file")
        }
    }

    func save(_ s: Saved) { file.save(s) }

    static let magic = "# vigil-document"

    static func encode(_ s: Saved) -> String {
        let v = s.stamp.version
        let b = s.fileBase
        return "\(magic) epoch=\(v.epoch) counter=\(v.counter) hash=\(String(s.stamp.hash, radix: 16)) file=\(String(s.fileHash, radix: 16))"
            + " base=\(b.version.epoch).\(b.version.counter).\(String(b.hash, radix: 16))\n" + String(decoding: s.bytes, as: UTF8.self)
    }

    static func decode(_ data: [UInt8]) -> Saved? {
        guard let nl = data.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let header = String(decoding: data[..<nl], as: UTF8.self)
        guard header.hasPrefix(magic) else { return nil }
        var f: [String: String] = [:]
        for w in header.dropFirst(magic.count).split(separator: " ") {
            let kv = w.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { f[String(kv[0])] = String(kv[1]) }
        }
        guard let e = f["epoch"].flatMap({ UInt32($0) }), let c = f["counter"].flatMap({ UInt32($0) }),
              let h = f["hash"].flatMap({ UInt64($0, radix: 16) }), let fh = f["file"].flatMap({ UInt64($0, radix: 16) }),
              let base = f["base"]?.split(separator: "."), base.count == 3, let be = UInt32(base[0]), let bc = UInt32(base[1]),
              let bh = UInt64(base[2], radix: 16) else { return nil }
        let bytes = Array(data[(nl + 1)...])
        let stamp = DocumentStamp(version: DocumentVersion(epoch: e, counter: c), bytes: bytes)
        guard stamp.hash == h else { return nil }
        return Saved(stamp: stamp, bytes: bytes, fileHash: fh,
                     fileBase: DocumentStamp(version: DocumentVersion(epoch: be, counter: bc), hash: bh))
    }

    /// The copy a node starts with, and why: the saved copy (what the cluster last agreed on), or
    /// with nothing saved its file's document part at version (epoch, 0), which any change made in
    /// the cluster outranks. A file whose document part changed while the node was down is not
    /// run at once: it is applied as a change once the node is in a quorate view
    /// (HeartbeatLoop+Document.swift), as a reload would.
    static func initial(saved: Saved?, fileText: String, fileEpoch: UInt32) -> (Saved, note: String) {
        let text = ReplicatedDocument.text(of: fileText)
        let b = Array(text.utf8), fh = ReplicatedDocument.hash(text)
        guard let s = saved else {
            let stamp = DocumentStamp(version: DocumentVersion(epoch: fileEpoch, counter: 0), bytes: b)
            return (Saved(stamp: stamp, bytes: b, fileHash: fh, fileBase: stamp), "document \(stamp.version) seeded from the config file")
        }
        if s.fileHash == fh { return (s, "document \(s.stamp.version) as saved") }
        if b == s.bytes { return (Saved(stamp: s.stamp, bytes: s.bytes, fileHash: fh, fileBase: s.stamp), "document \(s.stamp.version) as saved") }
        return (s, "document \(s.stamp.version) as saved; the config file's document part changed since this node last took it: "
                   + "applied as a change once this node is in a quorate view")
    }
}
