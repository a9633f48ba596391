import FoundationEssentials
import VigilConfig
import VigilCore

/// The permanent node attributes (`--lifetime forever`) saved in the node's state directory, so
/// they survive a restart of the whole cluster: the core hands the whole list after every change
/// (`Effect.persistAttributes`), the daemon reads it back at start-up (`Event.restoreAttributes`),
/// and the cluster keeps the highest (version, writer) of each that its members bring.
final class AttributeStore: @unchecked Sendable {
    private let file: StateFile<[NodeAttribute]>
    /// What the file held at start-up (attributes of unknown nodes dropped).
    let restored: [NodeAttribute]

    /// The file's form: readable, and independent of the wire encoding. A deletion is kept (no
    /// value) so that an older copy a peer still has does not come back.
    struct Saved: Codable {
        var node: UInt16
        var name: String
        var value: String?
        var `private`: Bool?
        var version: UInt64
        var origin: UInt16
    }

    init(config: ClusterConfig, nodeName: String, log: Log) {
        let dir = config.stateDir.replacing("%n", with: nodeName)
        makeDirectories(dir)
        file = StateFile(path: dir + "/attributes.json", what: "node attributes", log: log, encode: AttributeStore.encode)
        restored = AttributeStore.read(file.path, config: config, log: log)
    }

    /// Called on the heartbeat thread: hands the list to the writer (it encodes and writes).
    func note(_ list: [NodeAttribute]) { file.save(list) }

    static func read(_ path: String, config: ClusterConfig, log: Log) -> [NodeAttribute] {
        guard let data = readFile(path) else { return [] }
        guard let saved = try? JSONDecoder().decode([Saved].self, from: Data(data)) else {
            log.log(.error, "\(path): not a saved attribute list; ignored (the cluster's copies are taken when a peer is heard)")
            return []
        }
        let nodes = NodeSet(config.nodes.map(\.id))
        let list = saved.compactMap { s -> NodeAttribute? in
            guard nodes.contains(NodeID(s.node)), NodeID(s.origin).isValid, !s.name.isEmpty else { return nil }
            return NodeAttribute(key: AttributeKey(node: NodeID(s.node), name: s.name), value: s.value, lifetime: .forever,
                                 isPrivate: s.private ?? false, version: s.version, origin: NodeID(s.origin))
        }
        log.log(.info, "\(list.filter { $0.value != nil }.count) permanent node attribute(s) from \(path)")
        return list
    }

    static func encode(_ list: [NodeAttribute]) -> String {
        let saved = list.map {
            Saved(node: $0.key.node.rawValue, name: $0.key.name, value: $0.value, private: $0.isPrivate ? true : nil,
                  version: $0.version, origin: $0.origin.rawValue)
        }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? e.encode(saved)).map { String(decoding: $0, as: UTF8.self) + "\n" } ?? ""
    }
}
