import FoundationEssentials
import Glibc
import VigilConfig
import VigilCore

/// The operator's resource instructions (standby, maintenance, move/ban constraints) saved in
/// the node's state directory, so that they survive a restart of the whole cluster: each node
/// saves every newer copy it takes, reads its file back at start-up, and the cluster keeps the
/// highest (version, origin) of what its members bring. Writes go through a writer thread
/// (never the heartbeat path; `StateFile`); the file is replaced whole.
final class AdminStore: @unchecked Sendable {
    private let file: StateFile<AdminState>
    /// What the file held at start-up (unknown nodes and resources dropped), if anything.
    let restored: AdminState?
    private var saved: (UInt64, NodeID)

    /// The file's form: readable, and independent of the wire encoding.
    struct Saved: Codable {
        struct Constraint: Codable { var resource: String; var node: UInt16; var kind: String }
        var version: UInt64
        var origin: UInt16
        var standby: [UInt16]
        var maintenance: [UInt16]
        var constraints: [Constraint]
        var cleanups: [String: UInt32]
        var restarts: [String: UInt32]
    }

    init(config: ClusterConfig, nodeName: String, log: Log) {
        let dir = config.stateDir.replacing("%n", with: nodeName)
        makeDirectories(dir)
        file = StateFile(path: dir + "/admin-state.json", what: "admin state", log: log, encode: AdminStore.encode)
        restored = AdminStore.read(file.path, config: config, log: log)
        saved = (restored?.version ?? 0, restored?.origin ?? NodeID(0))
    }

    /// Called on the heartbeat thread after each step: hands a newer copy to the writer.
    func note(_ a: AdminState) {
        guard (a.version, a.origin) != saved, a.version > 0 else { return }
        saved = (a.version, a.origin)
        file.save(a)
    }

    static func read(_ path: String, config: ClusterConfig, log: Log) -> AdminState? {
        guard let data = readFile(path) else { return nil }
        guard let s = try? JSONDecoder().decode(Saved.self, from: Data(data)) else {
            log.log(.error, "\(path): not a saved admin state; ignored (the cluster's copy is taken when a peer is heard)")
            return nil
        }
        let nodes = NodeSet(config.nodes.map(\.id))
        let ids = Set(config.resources.map(\.id))
        var a = AdminState()
        (a.version, a.origin) = (s.version, NodeID(s.origin))
        a.standby = NodeSet(s.standby.map(NodeID.init).filter(nodes.contains))
        a.maintenance = NodeSet(s.maintenance.map(NodeID.init).filter(nodes.contains))
        a.constraints = s.constraints.compactMap { c in
            guard ids.contains(c.resource), nodes.contains(NodeID(c.node)),
                  let k: AdminState.Kind = ["ban": .ban, "prefer": .prefer, "prefer-promoted": .preferPromoted][c.kind] else { return nil }
            return .init(resource: c.resource, node: NodeID(c.node), kind: k)
        }
        a.cleanups = s.cleanups.filter { ids.contains($0.key) }
        a.restarts = s.restarts.filter { ids.contains($0.key) }
        log.log(.info, "admin state version \(a.version) from \(path): standby \(a.standby.count), maintenance \(a.maintenance.count), "
                + "\(a.constraints.count) constraint(s)")
        return a
    }

    static func encode(_ a: AdminState) -> String {
        let s = Saved(version: a.version, origin: a.origin.rawValue, standby: a.standby.map(\.rawValue),
                      maintenance: a.maintenance.map(\.rawValue),
                      constraints: a.constraints.map { .init(resource: $0.resource, node: $0.node.rawValue, kind: [.ban: "ban", .prefer: "prefer", .preferPromoted: "prefer-promoted"][$0.kind]!) },
                      cleanups: a.cleanups, restarts: a.restarts)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? e.encode(s)).map { String(decoding: $0, as: UTF8.self) + "\n" } ?? ""
    }
}
