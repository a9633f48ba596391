import FoundationEssentials
import Glibc
import VigilDaemon
import VigilStatus

/// `crm_node`: this node's name (`-n`) and id (`-i`), the nodes (`-l`: "ID NAME member|lost"),
/// this partition's members (`-p`, one line) and whether it is quorate (`-q`: 1 or 0).
func crmNode(_ args: [String]) -> Never {
    let shim = Shim(tool: "crm_node")
    let specs = [
        OptionSpec("n", "name"), OptionSpec("i", "cluster-id"), OptionSpec("l", "list"), OptionSpec("p", "partition"),
        OptionSpec("q", "quorum"), OptionSpec("N", "name-for-id", .required), OptionSpec("R", "remove", .required),
        OptionSpec("V", "verbose"), OptionSpec("$", "version"),
    ]
    let o: ParsedOptions
    do { o = try ParsedOptions(args, specs) } catch { shim.fail(.usage, "\(error)") }
    if o.has("version") { print("Pacemaker 2.1.5 (crm_node of Vigil)"); exit(0) }
    if o.has("remove") { shim.fail(.unimplemented, "nodes are removed by editing the config (vigilctl validate, then restart)") }
    let s = shim.status()
    let members = Set(s.view?.members.map(\.name) ?? [s.node.name])
    if let id = o.value("name-for-id") {
        guard let n = s.nodes.first(where: { String($0.id) == id }) else { shim.fail(.noSuchThing, "no node with id \(id)") }
        print(n.name)
    } else if o.has("partition") {
        print(s.nodes.filter { members.contains($0.name) }.map(\.name).joined(separator: " "))
    } else if o.has("list") {
        for n in s.nodes { print("\(n.id) \(n.name) \(members.contains(n.name) ? "member" : "lost")") }
    } else if o.has("quorum") {
        print(s.quorum.quorate ? "1" : "0")
    } else if o.has("cluster-id") {
        print(s.node.id)
    } else {
        print(s.node.name)  // -n, and the default
    }
    exit(0)
}

/// `crm_resource`: where a resource runs (`--locate`), and the operator's ban and clear, which the
/// cluster carries out like `vigilctl resource ban|clear`.
func crmResource(_ args: [String]) -> Never {
    let shim = Shim(tool: "crm_resource")
    let specs = [
        OptionSpec("r", "resource", .required), OptionSpec("N", "node", .required), OptionSpec("W", "locate"),
        OptionSpec("B", "ban"), OptionSpec("U", "clear"), OptionSpec("Q", "quiet"), OptionSpec("V", "verbose"),
        OptionSpec("f", "force"), OptionSpec("$", "version"), OptionSpec("m", "meta"), OptionSpec("g", "get-parameter", .required),
    ]
    let o: ParsedOptions
    do { o = try ParsedOptions(args, specs) } catch { shim.fail(.usage, "\(error)") }
    if o.has("version") { print("Pacemaker 2.1.5 (crm_resource of Vigil)"); exit(0) }
    guard let rid = o.value("resource") else { shim.fail(.usage, "a resource (-r) is required") }
    if o.has("locate") {
        guard let r = shim.status().resources?.first(where: { $0.id == rid }) else { shim.fail(.noSuchThing, "resource \(rid) not found") }
        if r.activeOn.isEmpty { eprint("resource \(rid) is NOT running\n") }
        for n in r.activeOn { print(o.has("quiet") ? n : "resource \(rid) is running on: \(n)") }
        exit(0)
    }
    if let name = o.value("get-parameter") {
        // PAF's validation reads `--meta --get-parameter notify` and matches the bare value.
        guard o.has("meta") else { shim.fail(.unimplemented, "only --meta parameters are answered (instance parameters are in vigil.conf)") }
        guard let r = shim.status().resources?.first(where: { $0.id == rid }) else { shim.fail(.noSuchThing, "resource \(rid) not found") }
        guard let v = r.meta?[name] else { shim.fail(.noSuchThing, "resource \(rid) has no meta attribute \(name)") }
        print(v)
        exit(0)
    }
    let request: ControlRequest
    if o.has("ban") { request = .resource(.ban, id: rid, node: o.value("node")) }
    else if o.has("clear") { request = .resource(.clear, id: rid, node: nil) }
    else { shim.fail(.unimplemented, "supported: --locate, --ban, --clear (with -r RESOURCE [-N NODE]), --meta --get-parameter NAME") }
    let r = shim.reach {
        try ControlClient.send(shim.socket, request, awaiting: 10) { e -> Result<Void, ControlClient.AnswerRefused>? in
            switch e.type {
            case .resourceAdmin where e.resource == rid: return .success(())
            case .resourceAdminRefused: return .failure(ControlClient.AnswerRefused(reason: e.reason ?? "refused"))
            default: return nil
            }
        }
    }
    switch r {
    case .failure(let why), .success(.failure(let why)?): shim.fail(.error, why.reason)
    case .success(nil): shim.fail(.timeout, "no answer from the cluster within 10 s")
    case .success(.success?): exit(0)
    }
}

/// `pacemakerd -$`: the version line `ocf_local_nodename` reads (it then asks `crm_node -n`).
/// Vigil has no pacemakerd to start.
func pacemakerd(_ args: [String]) -> Never {
    guard args.contains("-$") || args.contains("--version") else {
        eprint("pacemakerd: this is Vigil's compatibility shim: the cluster runs as vigild (systemctl start vigild)\n")
        exit(PcmkExit.unimplemented.rawValue)
    }
    print("Pacemaker 2.1.5 (Vigil compatibility)")
    print("Written by Andrew Beekhof and the Pacemaker project contributors")
    exit(0)
}
