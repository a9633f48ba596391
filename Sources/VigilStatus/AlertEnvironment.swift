import VigilConfig
import VigilCore

/// Cluster events as Pacemaker alerts: the kind and the `CRM_alert_*` variables that go with it
/// (the runner adds the common ones: recipient, node sequence, timestamps, version). Pacemaker's
/// alert agents read these (Pacemaker Explained, "Alert agents"). Events of this node only: every
/// node runs its own alerts for what it sees.
extension ClusterEvent {
    public func alert(_ config: ClusterConfig) -> (kind: AlertSpec.Kind, env: [String: String])? {
        func id(_ name: String?) -> String { config.node(named: name ?? "").map { String($0.id.rawValue) } ?? "0" }
        switch type {
        case .peerAlive, .peerDead:
            return (.node, ["CRM_alert_node": peer ?? "", "CRM_alert_nodeid": id(peer),
                            "CRM_alert_desc": type == .peerAlive ? "member" : "lost"])
        case .fenceResult:
            let ok = result.map { $0 == "success" || $0 == "confirmed-by-operator" || $0 == "watchdog-safe-wait" } ?? false
            let task = config.fencing.policy.action.rawValue
            let desc = "Operation \(task) of \(peer ?? "?") by \(executor ?? "?") for vigild@\(node): " + (ok ? "OK" : "Error (\(result ?? "?"))")
            return (.fencing, ["CRM_alert_node": peer ?? "", "CRM_alert_task": task, "CRM_alert_rc": ok ? "0" : "1",
                               "CRM_alert_desc": desc])
        case .resourceState:
            // What the state says ran: a start or a stop ended, or a monitor found it gone.
            let op: (task: String, rc: Int, desc: String)
            switch state {
            case "running": op = ("start", 0, "ok")
            case "stopped": op = ("stop", 0, "ok")
            case "failed": op = ("monitor", 7, "not running")
            case "stop-failed": op = ("stop", 1, "error")
            default: return nil
            }
            let interval = op.task == "monitor"
                ? (config.resources.first { $0.id == resource }?.monitorInterval.nanoseconds ?? 0) / 1_000_000 : 0
            return (.resource, ["CRM_alert_node": node, "CRM_alert_rsc": resource ?? "", "CRM_alert_task": op.task,
                                "CRM_alert_interval": String(interval), "CRM_alert_rc": String(op.rc), "CRM_alert_target_rc": "0",
                                "CRM_alert_status": "0", "CRM_alert_exec_time": "0", "CRM_alert_desc": op.desc])
        case .attribute, .attributeCleared:
            guard detail != "private" else { return nil }
            return (.attribute, ["CRM_alert_node": peer ?? "", "CRM_alert_attribute_name": attribute ?? "",
                                 "CRM_alert_attribute_value": value ?? ""])
        default:
            return nil
        }
    }
}
