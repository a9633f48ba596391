import VigilCore

extension ConfigDocument {
    /// The file's part each section belongs to (nil: compared by other means, or local only:
    /// `[cluster]` id and key shape the frames themselves, its name and state_dir are local).
    static func part(of section: String) -> ConfigDigest.Part? {
        switch section {
        case "node": .nodes
        case "quorum", "arbiter": .quorum
        case "ticket": .resources
        case "link": .links
        case "timing": .timing
        case _ where ConfigValidator.fencingSections[section] != nil: .fencing
        case _ where ConfigValidator.alertSections[section] != nil: .alerts
        case _ where ConfigValidator.resourceSections[section] != nil || ConfigValidator.cloneSections[section] != nil
            || ConfigValidator.orderSections[section] != nil: .resources
        default: nil
        }
    }

    /// One hash per part over what the file says, not how it is written: comments, blank lines,
    /// spacing and the order of keys inside a section do not count; the order of sections does
    /// (it is the order of resources in a group, of devices in a level). `[cluster]`'s
    /// node-health keys belong to the resources.
    public var digest: ConfigDigest {
        var hashers = Array(repeating: ConfigDigest.Hasher(), count: ConfigDigest.Part.allCases.count)
        for s in sections {
            let entries: [ConfigEntry]
            let part: ConfigDigest.Part
            if s.name == "cluster" {
                (part, entries) = (.resources, s.entries.filter { $0.key.hasPrefix("node_health") })
                if entries.isEmpty { continue }
            } else if let p = ConfigDocument.part(of: s.name) {
                (part, entries) = (p, s.entries)
            } else { continue }
            var h = hashers[Int(part.rawValue)]
            h.add((s.isArrayItem ? "[[" : "[") + s.name)
            for e in entries.sorted(by: { $0.key < $1.key }) { h.add(e.key + "=" + e.value.canonical) }
            hashers[Int(part.rawValue)] = h
        }
        // A part with no section still hashes (to the empty value): "none" agrees with "none".
        return ConfigDigest(hashes: hashers.map(\.value))
    }
}

extension ConfigValue {
    /// One spelling per value: `1_000` and `1000` are the same integer.
    var canonical: String {
        switch self {
        case .string(let s): "\"" + s + "\""
        case .integer(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        case .array(let a): "[" + a.map(\.canonical).joined(separator: ",") + "]"
        }
    }
}
