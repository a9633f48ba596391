import FoundationEssentials
import Glibc
import VigilStatus

/// `crm_mon -1`: the cluster's state once, as text or as the XML agents and exporters parse
/// (`--output-as=xml`, Pacemaker 2.1's schema; `--as-xml`/`-X`, the older one). pgsql greps
/// `<node name="N" .* online="true"` and `<resource id="R" .* role="...">` in it.
func crmMon(_ args: [String]) -> Never {
    let shim = Shim(tool: "crm_mon")
    let specs = [
        OptionSpec("1", "one-shot"), OptionSpec(nil, "output-as", .required), OptionSpec("X", "as-xml"),
        OptionSpec("r", "inactive"), OptionSpec("A", "show-node-attributes"), OptionSpec("n", "group-by-node"),
        OptionSpec("f", "failcounts"), OptionSpec("Q", "quiet"), OptionSpec("V", "verbose"), OptionSpec("$", "version"),
        OptionSpec(nil, "as-html", .required), OptionSpec("s", "simple-status"),
    ]
    let o: ParsedOptions
    do { o = try ParsedOptions(args, specs) } catch { shim.fail(.usage, "\(error)") }
    if o.has("version") { print("Pacemaker 2.1.5 (crm_mon of Vigil)"); exit(0) }
    if o.has("as-html") { shim.fail(.unimplemented, "HTML output is not supported (vigilctl status, or --output-as=xml)") }
    let format = o.value("output-as") ?? (o.has("as-xml") ? "legacy-xml" : "text")
    guard o.has("one-shot") || o.has("simple-status") || format != "text" else {
        shim.fail(.unimplemented, "interactive mode is not supported: use -1 (or vigilctl status, vigilctl events --follow)")
    }
    let s = shim.status()
    if o.has("simple-status") {
        print("CLUSTER " + (s.quorum.quorate ? "OK" : "WARN") + ": \(s.memberCount) nodes online, \(s.resources?.count ?? 0) resource instances configured")
        exit(s.quorum.quorate ? 0 : 1)
    }
    switch format {
    case "xml": print(CrmMonXML.render(s, legacy: false), terminator: "")
    case "legacy-xml": print(CrmMonXML.render(s, legacy: true), terminator: "")
    case "text": print(CrmMonXML.text(s, attributes: o.has("show-node-attributes")), terminator: "")
    default: shim.fail(.usage, "--output-as: text or xml")
    }
    exit(0)
}

enum CrmMonXML {
    static func esc(_ s: String) -> String { StatusPage.esc(s) }

    /// Pacemaker's role for what the node reports.
    static func role(_ r: StatusSnapshot.ResourceInfo) -> String {
        let states = Set(r.activeOn.compactMap { r.nodes[$0] })
        if states.contains("promoted") || states.contains("failed-promoted") { return "Promoted" }
        if states.contains("running") { return r.promotable == true ? "Unpromoted" : "Started" }
        if states.contains("promoting") { return "Promoting" }
        if states.contains("demoting") { return "Demoting" }
        if states.contains("starting") { return "Starting" }
        if states.contains("stopping") { return "Stopping" }
        return "Stopped"
    }

    static func render(_ s: StatusSnapshot, legacy: Bool) -> String {
        let members = Set(s.view?.members.map(\.name) ?? [])
        let standby = Set(s.admin?.standby ?? []), maintenance = Set(s.admin?.maintenance ?? [])
        let owner = s.view.flatMap { v in s.nodes.first { $0.id == v.coordinator }?.name }
        var x = ["<?xml version=\"1.0\"?>"]
        x.append(legacy ? "<crm_mon version=\"2.1.5\">" : "<pacemaker-result api-version=\"2.25\" request=\"crm_mon -1 --output-as=xml\">")
        x.append("  <summary>")
        x.append("    <stack type=\"vigil\"/>")
        x.append("    <current_dc present=\"\(owner != nil)\" version=\"2.1.5\" name=\"\(esc(owner ?? ""))\" id=\"\(s.view?.coordinator ?? 0)\" with_quorum=\"\(s.quorum.quorate)\"/>")
        x.append("    <nodes_configured number=\"\(s.nodes.count)\"/>")
        x.append("    <resources_configured number=\"\(s.resources?.count ?? 0)\" disabled=\"0\" blocked=\"0\"/>")
        x.append("    <cluster_options stonith-enabled=\"\(s.fencing != nil)\" symmetric-cluster=\"true\" maintenance-mode=\"false\"/>")
        x.append("  </summary>")
        x.append("  <nodes>")
        for n in s.nodes {
            let on = members.contains(n.name)
            let running = (s.resources ?? []).filter { $0.activeOn.contains(n.name) }.count
            let unclean = s.needsFencing.contains { $0.name == n.name }
            x.append("    <node name=\"\(esc(n.name))\" id=\"\(n.id)\" online=\"\(on)\" standby=\"\(standby.contains(n.name))\" "
                     + "standby_onfail=\"false\" maintenance=\"\(maintenance.contains(n.name))\" pending=\"false\" unclean=\"\(unclean)\" "
                     + "health=\"green\" feature_set=\"3.16.2\" shutdown=\"false\" expected_up=\"\(on)\" is_dc=\"\(n.name == owner)\" "
                     + "resources_running=\"\(running)\" type=\"member\"/>")
        }
        x.append("  </nodes>")
        x.append("  <resources>")
        var groups: [String: [StatusSnapshot.ResourceInfo]] = [:], order: [String] = []
        for r in s.resources ?? [] {
            let key = r.clone.map { "c:" + $0 } ?? r.group.map { "g:" + $0 } ?? "r:" + r.id
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        func resource(_ r: StatusSnapshot.ResourceInfo, _ indent: String) {
            let failed = r.activeOn.contains { r.nodes[$0] == "failed" || r.nodes[$0] == "stop-failed" }
            let head = "\(indent)<resource id=\"\(esc(r.id))\" resource_agent=\"\(esc(r.agent ?? ""))\" role=\"\(role(r))\" "
                + "active=\"\(!r.activeOn.isEmpty)\" orphaned=\"false\" blocked=\"false\" maintenance=\"false\" managed=\"true\" "
                + "failed=\"\(failed)\" failure_ignored=\"false\" nodes_running_on=\"\(r.activeOn.count)\""
            if r.activeOn.isEmpty { return x.append(head + "/>") }
            x.append(head + ">")
            for n in r.activeOn { x.append("\(indent)  <node name=\"\(esc(n))\" id=\"\(s.nodes.first { $0.name == n }?.id ?? 0)\" cached=\"true\"/>") }
            x.append("\(indent)</resource>")
        }
        func group(_ id: String, _ rs: [StatusSnapshot.ResourceInfo], _ indent: String) {
            x.append("\(indent)<group id=\"\(esc(id))\" number_resources=\"\(rs.count)\" maintenance=\"false\" managed=\"true\" disabled=\"false\">")
            for r in rs { resource(r, indent + "  ") }
            x.append("\(indent)</group>")
        }
        for key in order {
            let rs = groups[key]!
            if key.hasPrefix("c:") {
                // As Pacemaker shows an anonymous clone: one entry per instance (its group, if any), one node each.
                let failed = rs.contains { r in r.activeOn.contains { r.nodes[$0] == "failed" || r.nodes[$0] == "stop-failed" } }
                x.append("    <clone id=\"\(esc(String(key.dropFirst(2))))\" multi_state=\"\(rs[0].promotable == true)\" unique=\"false\" maintenance=\"false\" "
                         + "managed=\"true\" disabled=\"false\" failed=\"\(failed)\" failure_ignored=\"false\">")
                let nodes = Array(Set(rs.flatMap(\.activeOn))).sorted()
                for (i, n) in (nodes.isEmpty ? [nil] : nodes.map(Optional.some)).enumerated() {
                    let instance = rs.map { r in
                        var one = r
                        one.activeOn = r.activeOn.filter { $0 == n }
                        return one
                    }
                    if let g = rs[0].group { group("\(g):\(i)", instance, "      ") } else { resource(instance[0], "      ") }
                }
                x.append("    </clone>")
            } else if key.hasPrefix("g:") {
                group(String(key.dropFirst(2)), rs, "    ")
            } else {
                resource(rs[0], "    ")
            }
        }
        x.append("  </resources>")
        let attrs = s.attributes?.entries ?? []
        if !attrs.isEmpty {
            x.append("  <node_attributes>")
            for n in s.nodes {
                let mine = attrs.filter { $0.node == n.name }
                guard !mine.isEmpty else { continue }
                x.append("    <node name=\"\(esc(n.name))\">")
                for a in mine { x.append("      <attribute name=\"\(esc(a.name))\" value=\"\(esc(a.value))\"/>") }
                x.append("    </node>")
            }
            x.append("  </node_attributes>")
        }
        if !legacy { x.append("  <status code=\"0\" message=\"OK\"/>") }
        x.append(legacy ? "</crm_mon>" : "</pacemaker-result>")
        return x.joined(separator: "\n") + "\n"
    }

    static func text(_ s: StatusSnapshot, attributes: Bool) -> String {
        let members = s.view?.members.map(\.name) ?? []
        let owner = s.view.flatMap { v in s.nodes.first { $0.id == v.coordinator }?.name }
        var t = ["Cluster Summary:", "  * Stack: vigil",
                 "  * Current DC: \(owner ?? "NONE") - partition \(s.quorum.quorate ? "with" : "WITHOUT") quorum",
                 "  * \(s.nodes.count) nodes configured", "  * \(s.resources?.count ?? 0) resource instances configured", "",
                 "Node List:"]
        let online = s.nodes.map(\.name).filter(members.contains), offline = s.nodes.map(\.name).filter { !members.contains($0) }
        if !online.isEmpty { t.append("  * Online: [ \(online.joined(separator: " ")) ]") }
        if !offline.isEmpty { t.append("  * OFFLINE: [ \(offline.joined(separator: " ")) ]") }
        t += ["", "Full List of Resources:"]
        var cloneShown: Set<String> = []
        for r in s.resources ?? [] {
            if let c = r.clone {
                // As Pacemaker prints a clone: its set, then the nodes where instances run and do not.
                guard cloneShown.insert(c).inserted else { continue }
                let running = r.activeOn.filter { r.nodes[$0] == "running" }
                if r.promotable == true {
                    // Pacemaker 2.1's form of a promotable clone.
                    t.append("  * Clone Set: \(c) [\(r.id)] (promotable):")
                    let promoted = r.activeOn.filter { r.nodes[$0] == "promoted" }
                    if !promoted.isEmpty { t.append("    * Promoted: [ \(promoted.joined(separator: " ")) ]") }
                    if !running.isEmpty { t.append("    * Unpromoted: [ \(running.joined(separator: " ")) ]") }
                } else {
                    t.append("  * Clone Set: \(c) [\(r.group ?? r.id)]:")
                    if !running.isEmpty { t.append("    * Started: [ \(running.joined(separator: " ")) ]") }
                }
                let stopped = s.nodes.map(\.name).filter { !r.activeOn.contains($0) }
                if !stopped.isEmpty { t.append("    * Stopped: [ \(stopped.joined(separator: " ")) ]") }
                continue
            }
            let where_ = r.activeOn.isEmpty ? "" : " \(r.activeOn.joined(separator: " "))"
            t.append("  * \(r.id)\t(\(r.agent ?? "?")):\t \(role(r))\(where_)")
        }
        if attributes, let a = s.attributes, !a.entries.isEmpty {
            t += ["", "Node Attributes:"]
            for n in s.nodes {
                let mine = a.entries.filter { $0.node == n.name }
                guard !mine.isEmpty else { continue }
                t.append("  * Node: \(n.name):")
                for e in mine { t.append("    * \(e.name)\t: \(e.value)") }
            }
        }
        return t.joined(separator: "\n") + "\n"
    }
}
