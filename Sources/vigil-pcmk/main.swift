import Glibc

// vigil-pcmk: the Pacemaker command-line tools resource agents call, answered by the local vigild
// (agents/pacemaker/ holds one wrapper per tool name; docs/pacemaker-tools.md). The tool is the
// first argument, or this program's name when it is called through a link of that name.
let argv = CommandLine.arguments
let called = argv[0].split(separator: "/").last.map(String.init) ?? ""
let tools: [String: ([String]) -> Never] = [
    "attrd_updater": attrdUpdater,
    "crm_attribute": { crmAttribute($0) },
    "crm_master": { crmAttribute($0, tool: "crm_master", promotion: true) },
    "crm_node": crmNode,
    "crm_mon": crmMon,
    "crm_resource": crmResource,
    "pacemakerd": pacemakerd,
]
if let tool = tools[called] { tool(Array(argv.dropFirst())) }
guard argv.count > 1, let tool = tools[argv[1]] else {
    eprint("usage: vigil-pcmk \(tools.keys.sorted().joined(separator: "|")) ARGS...\n")
    exit(64)
}
tool(Array(argv.dropFirst(2)))
