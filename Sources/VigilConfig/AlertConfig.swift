import VigilCore

/// One `[[alert]]`: an external program run for cluster events with Pacemaker's `CRM_alert_*`
/// environment (its sample agents, `alert_file.sh.sample` and friends, run unchanged).
public struct AlertSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case node, fencing, resource, attribute }
    public var path: String
    /// Run once per recipient (`CRM_alert_recipient`); none: once, with an empty recipient.
    public var recipients: [String]
    public var timeout: TimeSpan
    /// Which events; Pacemaker's default: all but attributes.
    public var kinds: Set<Kind>
    /// With `attribute`: only these names (empty: every attribute).
    public var attributeNames: [String]
    /// `CRM_alert_timestamp`'s format (strftime, plus %N, %3N, %6N, %06N for fractions).
    public var timestampFormat: String
    public var line: Int
    /// For logs and metrics: the program's file name.
    public var name: String { String(path.split(separator: "/").last ?? Substring(path)) }
}

extension ConfigValidator {
    static let alertSections: [String: (array: Bool, keys: Set<String>)] = [
        "alert": (true, ["path", "recipients", "timeout", "kinds", "attribute_names", "timestamp_format"]),
    ]

    func readAlerts() throws(Diagnostic) -> [AlertSpec] {
        var out: [AlertSpec] = []
        for sec in doc.sections where sec.name == "alert" {
            let s = SectionReader(section: sec, file: doc.file)
            let path = try s.string("path", required: true)!
            guard path.hasPrefix("/") else {
                throw diag(s.line("path"), .error, "alert path '\(path)' is not absolute", "e.g. \"/usr/share/pacemaker/alerts/alert_file.sh\"")
            }
            var kinds: Set<AlertSpec.Kind> = [.node, .fencing, .resource]
            if let names = try s.strings("kinds") {
                kinds = []
                for n in names {
                    guard let k = AlertSpec.Kind(rawValue: n) else {
                        throw diag(s.line("kinds"), .error, "alert kind '\(n)' is unknown",
                                   "use " + AlertSpec.Kind.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    kinds.insert(k)
                }
            }
            out.append(AlertSpec(path: path, recipients: try s.strings("recipients") ?? [],
                                 timeout: try s.duration("timeout") ?? .seconds(30), kinds: kinds,
                                 attributeNames: try s.strings("attribute_names") ?? [],
                                 timestampFormat: try s.string("timestamp_format") ?? "%H:%M:%S.%06N", line: sec.line))
        }
        return out
    }
}
