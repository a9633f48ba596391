import VigilCore

/// `[[order]]`: FIRST before THEN (resources, groups or clones), mandatory or optional, symmetrical or not.
///
///     [[order]]
///     first = "exports"        # a resource id, a group name or a clone id
///     then = "nfs"
///     kind = "mandatory"       # or "optional"; default mandatory
///     symmetrical = true       # stops in reverse (default true)
///     first_action = "promote" # a promotable clone's promote (or "demote"); default "start"
///     then_action = "start"    # or "stop" (after first_action = "demote"); default "start"
extension ConfigValidator {
    static let orderSections: [String: (array: Bool, keys: Set<String>)] = [
        "order": (true, ["first", "then", "kind", "symmetrical", "first_action", "then_action"]),
    ]

    func readOrders(_ resources: [ResourceSpec]) throws(Diagnostic) -> [OrderConstraint] {
        var out: [OrderConstraint] = []
        // A name is a resource or a group; either stands for its unit's leading resource.
        let clones = try cloneNames()
        func unit(_ written: String, _ s: SectionReader, _ key: String) throws(Diagnostic) -> String {
            let name = clones[written] ?? written  // a clone stands for what it clones
            guard let r = resources.first(where: { $0.id == name || $0.group == name }) else {
                throw diag(s.line(key), .error, "order \(key) '\(written)' is no resource, group or clone",
                           "resources: " + resources.map(\.id).joined(separator: ", "))
            }
            guard let g = r.group else { return r.id }
            return resources.first { $0.group == g }!.id
        }
        for sec in doc.sections where sec.name == "order" {
            let s = SectionReader(section: sec, file: doc.file)
            let firstName = try s.string("first", required: true)!
            let first = try unit(firstName, s, "first")
            let then = try unit(try s.string("then", required: true)!, s, "then")
            guard first != then else {
                throw diag(sec.line, .error, "order of '\(first)' after itself", "first and then must be different resources or groups")
            }
            let kind = try s.string("kind") ?? "mandatory"
            guard kind == "mandatory" || kind == "optional" else {
                throw diag(s.line("kind"), .error, "order kind '\(kind)' is unknown", "use \"mandatory\" or \"optional\"")
            }
            var o = OrderConstraint(first: first, then: then, mandatory: kind == "mandatory", symmetrical: try s.bool("symmetrical") ?? true)
            let fa = try s.string("first_action") ?? "start", ta = try s.string("then_action") ?? "start"
            switch (fa, ta) {
            case ("start", "start"): break
            case ("promote", "start"): o.firstAction = .promote
            case ("demote", "stop") where !o.symmetrical: (o.firstAction, o.thenAction) = (.demote, .stop)
            case ("demote", "stop"):
                throw diag(s.line("first_action"), .error, "order demote then stop must be symmetrical = false",
                           "its reverse is promote then start: write that order too (as PAF's reference setup does)")
            default:
                throw diag(s.line(s.has("then_action") ? "then_action" : "first_action"), .error,
                           "order \(fa) then \(ta) is not supported", "use start/start, promote/start or demote/stop")
            }
            if o.firstAction != .start && clones[firstName] == nil {
                throw diag(s.line("first"), .error, "order first_action = \"\(fa)\" on '\(first)', which is not a clone",
                           "promote and demote are a promotable clone's: name the clone in 'first'")
            }
            out.append(o)
            if let cycle = ConfigValidator.cycle(out) {
                throw diag(sec.line, .error, "order cycle: " + cycle.joined(separator: " -> "), "remove one of these [[order]] sections")
            }
        }
        return out
    }

    /// A cycle among the orders (FIRST -> THEN edges), as the names along it, if there is one.
    static func cycle(_ orders: [OrderConstraint]) -> [String]? {
        let next = Dictionary(grouping: orders, by: \.first).mapValues { $0.map(\.then) }
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var path: [String] = []
        func visit(_ n: String) -> [String]? {
            if state[n] == 2 { return nil }
            if state[n] == 1 { return Array(path[path.firstIndex(of: n)!...]) + [n] }
            state[n] = 1
            path.append(n)
            for m in next[n] ?? [] { if let c = visit(m) { return c } }
            path.removeLast()
            state[n] = 2
            return nil
        }
        for o in orders { if let c = visit(o.first) { return c } }
        return nil
    }
}
