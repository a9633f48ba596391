import Glibc

/// The part of an OCF agent's environment that Pacemaker gives and agents rely on: who they run
/// on (`OCF_RESKEY_CRM_meta_on_node`, `_on_node_uuid`), which operation (`_name`), the feature set
/// (`OCF_RESKEY_crm_feature_set`: Pacemaker 2.1.5's, so `ocf_promotion_score` calls
/// `crm_attribute -p`), and where the Pacemaker tools are: `HA_SBIN_DIR` and first on `PATH`
/// (drbd and pgsql call some by bare name), answered by this node's vigild (`VIGIL_SOCKET`).
public struct AgentContext: Sendable {
    public var nodeName: String
    public var nodeID: Int
    public var controlSocket: String
    /// agents/pacemaker (the tool wrappers).
    public var toolsDir: String
    /// The vigil-pcmk the wrappers run.
    public var pcmk: String?

    /// The feature set of Pacemaker 2.1.5 (Debian 12), whose tools' behaviour the shims follow.
    public static let featureSet = "3.16.2"

    public init(nodeName: String, nodeID: Int, controlSocket: String, toolsDir: String, pcmk: String?) {
        self.nodeName = nodeName
        self.nodeID = nodeID
        self.controlSocket = controlSocket
        self.toolsDir = toolsDir
        self.pcmk = pcmk
    }

    func environment(action: String) -> [(String, String)] {
        var env = [
            ("PATH", "\(toolsDir):/usr/sbin:/usr/bin:/sbin:/bin"), ("HA_SBIN_DIR", toolsDir),
            ("VIGIL_SOCKET", controlSocket),
            ("OCF_RESKEY_crm_feature_set", AgentContext.featureSet),
            ("OCF_RESKEY_CRM_meta_on_node", nodeName), ("OCF_RESKEY_CRM_meta_on_node_uuid", String(nodeID)),
            ("OCF_RESKEY_CRM_meta_name", action),
        ]
        if let pcmk { env.append(("VIGIL_PCMK", pcmk)) }
        return env
    }

    /// vigil-pcmk in the directory vigild runs from, if it is there (a build tree, or /usr/lib/vigil).
    public static func pcmkNextToVigild() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let path = String(exe[..<(exe.lastIndex(of: "/") ?? exe.startIndex)]) + "/vigil-pcmk"
        return access(path, X_OK) == 0 ? path : nil
    }
}
