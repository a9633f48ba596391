import VigilConfig
import VigilCore

extension StatusSnapshot {
    /// One node attribute as status shows it (private ones are left out).
    public struct AttributeRow: Codable, Sendable, Equatable {
        /// The node it belongs to.
        public var node: String
        public var name: String
        public var value: String
        /// "reboot" (transient) or "forever" (permanent).
        public var lifetime: String
        public init(node: String, name: String, value: String, lifetime: String) {
            self.node = node
            self.name = name
            self.value = value
            self.lifetime = lifetime
        }
    }

    public struct Attributes: Codable, Sendable, Equatable {
        /// Sorted by node id, then name.
        public var entries: [AttributeRow]
        /// Private attributes held (readable by name only).
        public var privateCount: Int
        /// Values changed on this node since it started.
        public var changes: Int
        /// This node's writes not yet held by every member of its view.
        public var unconfirmed: Int
    }

    static func attributes(_ node: Node, _ name: (NodeID) -> String) -> Attributes {
        let all = node.attributeValues.values.sorted { $0.key < $1.key }
        let rows = all.filter { !$0.isPrivate }.map {
            AttributeRow(node: name($0.key.node), name: $0.key.name, value: $0.value ?? "", lifetime: $0.lifetime.description)
        }
        return Attributes(entries: rows, privateCount: all.count - rows.count, changes: node.attributeChanges,
                          unconfirmed: node.attributesUnconfirmed)
    }

    /// The `vigilctl status` lines for node attributes (none when there are none).
    var attributeLines: [String] {
        guard let a = attributes, !a.entries.isEmpty || a.privateCount > 0 else { return [] }
        var rows = [["NODE", "ATTRIBUTE", "VALUE", "LIFETIME"]]
        for e in a.entries { rows.append([e.node, e.name, e.value, e.lifetime]) }
        var out = [""] + table(rows)
        if a.privateCount > 0 { out.append("and \(a.privateCount) private attribute(s) (vigilctl attr get NAME --node N reads one)") }
        return out
    }

    var attributeAndAlertMetrics: [(name: String, type: String, help: String, samples: [(String, Double)])] {
        guard let a = attributes else { return [] }
        let alertRuns = (alerts ?? []).flatMap { s in [("alert=\"\(s.name)\",result=\"ok\"", Double(s.ok)), ("alert=\"\(s.name)\",result=\"failed\"", Double(s.failed))] }
        return (alerts == nil ? [] : [("alert_runs_total", "counter", "Alert agent runs, by alert and result (failed: exit code, signal, timeout).", alertRuns)]) + [
            ("attributes", "gauge", "Node attributes this node holds (private ones included).",
             [("", Double(a.entries.count + a.privateCount))]),
            ("attribute_changes_total", "counter", "Attribute values changed on this node (writes, peers' writes, clears).",
             [("", Double(a.changes))]),
            ("attribute_writes_unconfirmed", "gauge", "This node's attribute writes not yet held by every member.",
             [("", Double(a.unconfirmed))]),
        ]
    }
}

extension StatusSnapshot {
    /// One `[[alert]]` program: runs that succeeded and that failed since start.
    public struct AlertStat: Codable, Sendable, Equatable {
        public var name: String
        public var ok: Int
        public var failed: Int
        public init(name: String, ok: Int, failed: Int) {
            self.name = name
            self.ok = ok
            self.failed = failed
        }
    }
}
