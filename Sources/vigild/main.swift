import ArgumentParser
import VigilStatus
import VigilConfig
import VigilDaemon

struct Vigild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigild",
        abstract: "Vigil heartbeat daemon: membership, quorum and link health for one cluster node. Runs as root.",
        version: VigilVersion.string)

    @Option(help: "Cluster config file.") var config = "/etc/vigil/vigil.conf"
    @Option(help: "This node's name in the config (default: the node whose address this host has).") var node: String?
    @Option(help: "Control socket path.") var control = "/run/vigil/vigild.sock"
    @Option(help: "Group that may use the control socket (mode 0660).") var controlGroup: String?
    @Option(help: "Where to serve Prometheus metrics (/metrics) and the read-only status page (/): address:port, or 'off'.") var metrics = "127.0.0.1:9465"
    @Option(help: "SCHED_FIFO priority of the heartbeat thread (0: normal scheduling).") var realtimePriority: Int32 = 10
    @Option(help: "The Pacemaker tools agents call (crm_attribute, attrd_updater, ...): first on their PATH and their HA_SBIN_DIR.")
    var pacemakerTools = "/usr/lib/vigil/pacemaker"
    @Flag(help: "Do not lock memory.") var noLockMemory = false
    @Flag(help: "Check the config, print what it implies, and exit.") var checkConfig = false
    @Flag(help: "Debug logging.") var verbose = false

    func run() throws {
        if checkConfig {
            let status = Files.checkConfig(config)
            if status != 0 { throw ExitCode(status) }
            return
        }
        var o = DaemonOptions()
        o.configPath = config
        o.nodeName = node
        o.controlPath = control
        o.controlGroup = controlGroup
        if metrics == "off" {
            o.metrics = nil
        } else {
            guard let colon = metrics.lastIndex(of: ":"), let port = UInt16(metrics[metrics.index(after: colon)...]),
                  let addr = IPAddress(String(metrics[..<colon].filter { $0 != "[" && $0 != "]" }))
            else { throw ValidationError("--metrics: expected ADDRESS:PORT or off") }
            o.metrics = (addr, port)
        }
        o.realtimePriority = realtimePriority
        o.lockMemory = !noLockMemory
        o.verbose = verbose
        o.pacemakerTools = pacemakerTools
        throw ExitCode(Daemon.run(o))
    }
}

Vigild.main()
