import FoundationEssentials
import Glibc
import VigilConfig
import VigilCore
import VigilStatus

/// `attrd_updater`: node attributes through the attribute manager (here: the local vigild).
/// Query output is Pacemaker's, which agents parse: `name="N" host="H" value="V"` per line.
func attrdUpdater(_ args: [String]) -> Never {
    let shim = Shim(tool: "attrd_updater")
    let specs = [
        OptionSpec("n", "name", .required), OptionSpec("U", "update", .required), OptionSpec("v", "value", .required),
        OptionSpec("B", "update-both", .required), OptionSpec("Y", "update-delay"), OptionSpec("Q", "query"),
        OptionSpec("D", "delete"), OptionSpec("R", "refresh"), OptionSpec("N", "node", .required),
        OptionSpec("d", "delay", .required), OptionSpec("p", "private"), OptionSpec("A", "all"),
        OptionSpec("l", "lifetime", .required), OptionSpec("q", "quiet"), OptionSpec("z", "utilization"),
        OptionSpec("W", "wait", .required), OptionSpec("P", "pattern", .required), OptionSpec("s", "set", .required),
        OptionSpec("V", "verbose"), OptionSpec("$", "version"),
    ]
    let o: ParsedOptions
    do { o = try ParsedOptions(args, specs) } catch { shim.fail(.usage, "\(error)") }
    if o.has("version") { print("Pacemaker 2.1.5 (attrd_updater of Vigil)"); exit(0) }
    if o.has("refresh") { exit(0) }  // every value is already where readers read it
    if o.has("utilization") { shim.fail(.unimplemented, "utilization attributes are not supported") }
    if o.has("pattern") { shim.fail(.unimplemented, "--pattern is not supported: name each attribute") }
    if o.has("update-delay") { shim.fail(.unimplemented, "-Y: Vigil keeps no delay per attribute; give -d with each update") }
    guard let name = o.value("name") else { shim.fail(.usage, "an attribute name (-n) is required") }
    let node = o.value("node")
    if o.has("query") {
        let s = shim.status()
        let nodes = o.has("all") ? s.nodes.map(\.name) : [node ?? s.node.name]
        let found = nodes.compactMap { n in shim.get(name, of: n).map { (n, $0) } }
        guard !found.isEmpty else { shim.fail(.noSuchThing, "Could not query value of \(name): attribute does not exist") }
        for (n, v) in found { print("name=\"\(name)\" host=\"\(n)\" value=\"\(v)\"") }
        exit(0)
    }
    let target = shim.node(node)
    if o.has("delete") { shim.write(.delete, name, of: target, what: "delete \(name)") }
    guard let value = o.value("update-both") ?? o.value("update") ?? o.value("value") else {
        shim.fail(.usage, "say what to do: -U VALUE, -B VALUE, -Q or -D")
    }
    var delayMs = 0
    if let d = o.value("delay") {
        guard let t = parseToolDuration(d) else { shim.fail(.invalidParam, "invalid delay '\(d)'") }
        delayMs = Int(t.nanoseconds / 1_000_000)
    }
    let l = lifetime(o.value("lifetime"), type: nil, default: .reboot, shim)
    shim.write(.set(value: value, lifetime: l, isPrivate: o.has("private"), delayMs: delayMs), name, of: target,
               what: "update \(name)=\(value)")
}

/// `crm_attribute` for node attributes (`--node`, `--lifetime`, `--type nodes|status`) and
/// promotion scores (`-p/--promotion[=RSC]`: attribute `master-RSC`). Cluster options (no node,
/// lifetime or type) are not node attributes: refused as not supported.
func crmAttribute(_ args: [String], tool: String = "crm_attribute", promotion forced: Bool = false) -> Never {
    let shim = Shim(tool: tool)
    let specs = [
        OptionSpec("n", "name", .required), OptionSpec("v", "update", .required), OptionSpec(nil, "attr-value", .required),
        OptionSpec("G", "query"), OptionSpec(nil, "get-value"), OptionSpec("D", "delete"), OptionSpec(nil, "delete-attr"),
        OptionSpec("N", "node", .required), OptionSpec("U", "uname", .required), OptionSpec("l", "lifetime", .required),
        OptionSpec("t", "type", .required), OptionSpec("q", "quiet"), OptionSpec("Q", "quiet-legacy"),
        OptionSpec("p", "promotion", .optional), OptionSpec("r", "resource", .required), OptionSpec("d", "default", .required),
        OptionSpec("i", "id", .required), OptionSpec("s", "set-name", .required), OptionSpec("z", "utilization"),
        OptionSpec("V", "verbose"), OptionSpec("$", "version"), OptionSpec("H", "help-legacy"),
    ]
    let o: ParsedOptions
    do { o = try ParsedOptions(args, specs) } catch { shim.fail(.usage, "\(error)") }
    if o.has("version") { print("Pacemaker 2.1.5 (\(tool) of Vigil)"); exit(0) }
    if o.has("utilization") { shim.fail(.unimplemented, "utilization attributes are not supported") }
    let env = ProcessInfo.processInfo.environment
    let promotion = forced || o.has("promotion")
    var name = o.value("name")
    if promotion {
        // The resource: --promotion=RSC, crm_master's -r, else the agent's own instance. An
        // anonymous clone's instance "db:2" scores as "db" (Pacemaker does the same).
        let given = o.value("promotion").flatMap { $0.isEmpty ? nil : $0 } ?? o.value("resource") ?? env["OCF_RESOURCE_INSTANCE"]
        guard let rsc = given?.split(separator: ":").first.map(String.init), !rsc.isEmpty else {
            shim.fail(.usage, "no resource: run from inside a resource agent (OCF_RESOURCE_INSTANCE) or give --promotion=RSC")
        }
        name = name ?? "master-\(rsc)"
    }
    guard let name else { shim.fail(.usage, "an attribute name (-n) is required") }
    let nodeGiven = o.value("node") ?? o.value("uname")
    let lifetimeGiven = o.value("lifetime"), type = o.value("type")
    if !promotion && nodeGiven == nil && lifetimeGiven == nil && type == nil {
        shim.fail(.unimplemented, "cluster options (crm_config) are not supported; a node attribute needs --node, --lifetime or --type")
    }
    // Pacemaker: a promotion score is transient by default, any other node attribute permanent.
    let l = lifetime(lifetimeGiven, type: type, default: promotion && !forced ? .reboot : .forever, shim)
    let target = shim.node(nodeGiven)
    let quiet = o.has("quiet") || o.has("quiet-legacy")
    if o.has("delete") || o.has("delete-attr") { shim.write(.delete, name, of: target, what: "delete \(name)") }
    if let value = o.value("update") ?? o.value("attr-value") {
        shim.write(.set(value: value, lifetime: l, isPrivate: false, delayMs: 0), name, of: target, what: "update \(name)=\(value)")
    }
    // Query (-G, also the default).
    guard let value = shim.get(name, of: target) ?? o.value("default") else {
        if !quiet { eprint("Error performing operation: No such device or address\n") }
        exit(PcmkExit.noSuchThing.rawValue)
    }
    print(quiet ? value : "scope=\(l == .reboot ? "status" : "nodes")  name=\(name) value=\(value)")
    exit(0)
}
