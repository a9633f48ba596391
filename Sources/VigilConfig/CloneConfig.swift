import VigilCore

/// `[[clone]]`: a resource or a group run as an anonymous clone (one instance per node).
///
///     [[clone]]
///     id = "ping-clone"     # the clone's own id (orders and colocations may name it)
///     of = "ping"           # a resource id or a group name
///     clone_max = 2         # default: every node
///     interleave = true     # ordered after another clone: wait only for its instance on this node
///     promotable = true     # instances start unpromoted; promoted_max of them are promoted
///     promoted_max = 1      # (by the promotion scores, node attributes master-<resource>)
extension ConfigValidator {
    static let cloneSections: [String: (array: Bool, keys: Set<String>)] = [
        "clone": (true, ["id", "of", "clone_max", "clone_node_max", "interleave", "notify", "globally_unique",
                            "promotable", "promoted_max", "promoted_node_max"]),
    ]

    /// Clone id -> what it clones, as written (read before the resources: constraints may name a clone).
    func cloneNames() throws(Diagnostic) -> [String: String] {
        var out: [String: String] = [:]
        for sec in doc.sections where sec.name == "clone" {
            let s = SectionReader(section: sec, file: doc.file)
            let id = try s.string("id", required: true)!
            guard out[id] == nil else { throw diag(s.line("id"), .error, "clone '\(id)' is defined twice", "give each clone its own id") }
            out[id] = try s.string("of", required: true)!
        }
        return out
    }

    /// The clones, keyed by the leading resource of the unit each clones.
    func readClones(_ resources: [ResourceSpec], nodes: [NodeSpec]) throws(Diagnostic) -> [String: CloneSpec] {
        var out: [String: CloneSpec] = [:]
        let names = try cloneNames()
        for sec in doc.sections where sec.name == "clone" {
            let s = SectionReader(section: sec, file: doc.file)
            let id = try s.string("id", required: true)!, of = try s.string("of", required: true)!
            guard !id.isEmpty, id.utf8.count <= 64, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                throw diag(s.line("id"), .error, "clone id '\(id)' must be 1-64 letters, digits, _ - .", "e.g. id = \"ping-clone\"")
            }
            if resources.contains(where: { $0.id == id || $0.group == id }) {
                throw diag(s.line("id"), .error, "clone id '\(id)' is also a resource or group", "e.g. id = \"\(id)-clone\"")
            }
            if names[of] != nil {
                throw diag(s.line("of"), .error, "clone '\(id)' is a clone of the clone '\(of)'", "clone the resource or group itself, once")
            }
            let members = resources.filter { $0.id == of && $0.group == nil || $0.group == of }
            guard let lead = members.first else {
                if let r = resources.first(where: { $0.id == of }), let g = r.group {
                    throw diag(s.line("of"), .error, "'\(of)' is a member of group '\(g)'", "clone the whole group: of = \"\(g)\"")
                }
                throw diag(s.line("of"), .error, "clone of '\(of)': no such resource or group",
                           "resources: " + resources.map(\.id).joined(separator: ", "))
            }
            guard out[lead.id] == nil else {
                throw diag(s.line("of"), .error, "'\(of)' is cloned twice", "one [[clone]] per resource or group")
            }
            for r in members {
                let placed = [("with", r.with != nil), ("spread", r.spread != nil), ("apart_from", !r.apartFrom.isEmpty),
                              ("colocation", !r.near.isEmpty)]
                if let (key, _) = placed.first(where: { $0.1 }) {
                    throw diag(r.line, .error, "'\(key)' on '\(r.id)', which clone '\(id)' runs on every node it can",
                               "a clone is placed by clone_max, location and rules; colocate other resources with it instead")
                }
            }
            if try s.integer("clone_node_max", in: 1...64) ?? 1 != 1 {
                throw diag(s.line("clone_node_max"), .error, "clone_node_max above 1: Vigil's clones are anonymous, one instance per node",
                           "leave clone_node_max out (or 1)")
            }
            if try s.bool("globally_unique") == true {
                throw diag(s.line("globally_unique"), .error, "globally unique clones are not supported", "leave globally_unique out (false)")
            }
            let max = try s.integer("clone_max", in: 1...Int64(nodes.count)).map(Int.init)
            var spec = CloneSpec(id: id, max: max, interleave: try s.bool("interleave") ?? false, notify: try s.bool("notify") ?? false)
            if spec.notify && members.count > 1 {
                throw diag(s.line("notify"), .error, "notify on clone '\(id)' of the group '\(of)'",
                           "notifications go to the instances of one resource: clone that resource with notify")
            }
            spec.promotable = try s.bool("promotable") ?? false
            if spec.promotable {
                if members.count > 1 {
                    throw diag(s.line("promotable"), .error, "promotable clone '\(id)' of the group '\(of)'",
                               "a promotable clone wraps one resource: clone the replicated resource, and colocate the rest with its promoted role")
                }
                spec.promotedMax = Int(try s.integer("promoted_max", in: 1...Int64(max ?? nodes.count)) ?? 1)
            } else if let k = ["promoted_max", "promoted_node_max"].first(where: { s.has($0) }) {
                throw diag(s.line(k), .error, "'\(k)' on clone '\(id)', which is not promotable", "add promotable = true, or remove '\(k)'")
            }
            if try s.integer("promoted_node_max", in: 1...64) ?? 1 != 1 {
                throw diag(s.line("promoted_node_max"), .error, "promoted_node_max above 1: Vigil's clones run one instance per node",
                           "leave promoted_node_max out (or 1)")
            }
            out[lead.id] = spec
        }
        for r in resources where r.withPromoted && out[r.with ?? ""]?.promotable != true {
            throw diag(r.line, .error, "'\(r.id)' is placed with the promoted role of '\(r.with ?? "")', which is not a promotable clone",
                       "point 'with' at a [[clone]] with promotable = true, or remove with_role")
        }
        return out
    }
}
