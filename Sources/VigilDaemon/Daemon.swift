import Glibc
import VigilConfig
import VigilCore

/// Local settings of one daemon (the cluster-wide ones are in the config file).
public struct DaemonOptions: Sendable {
    public var configPath = "/etc/vigil/vigil.conf"
    public var nodeName: String?
    public var controlPath = "/run/vigil/vigild.sock"
    public var controlGroup: String?
    public var metrics: (IPAddress, UInt16)? = (IPAddress("127.0.0.1")!, 9465)
    public var realtimePriority: Int32 = 10
    public var lockMemory = true
    public var verbose = false
    /// agents/pacemaker as installed: the tool wrappers agents find first on PATH and in HA_SBIN_DIR.
    public var pacemakerTools = "/usr/lib/vigil/pacemaker"
    public init() {}
}

nonisolated(unsafe) private var signalWakeFD: Int32 = -1

/// Wiring: config, key, sockets, threads, signals. The heartbeat loop runs on the main thread,
/// which is switched to real-time priority after the helper threads have started (so they do not
/// inherit it).
public enum Daemon {
    public static func run(_ o: DaemonOptions) -> Int32 {
        let file: ClusterConfig
        let text: String
        switch Files.loadConfigText(o.configPath) {
        case .failure(let d):
            eprint("vigild: \(d)")
            return 1
        case .success(let (c, t)): (file, text) = (c, t)
        }
        var config = file
        guard let me = identify(config, o.nodeName) else {
            eprint("vigild: \(o.configPath): no [[node]] matches this host's addresses\(o.nodeName.map { " or the name '\($0)'" } ?? ""); pass --node NAME")
            return 1
        }
        let key: ClusterKey
        do { key = try Files.loadKey(config.keyFile) } catch {
            eprint("vigild: \(error)")
            return 1
        }
        let log = Log(maxLevel: o.verbose ? .debug : .info, journal: Systemd.journalIsStderr)
        log.node = me.name
        // The replicated document this node starts with (saved, or seeded from its file), merged
        // with the file's local part: that is the configuration it runs.
        let store = DocumentStore(config: file, nodeName: me.name, log: log)
        var (initial, note) = DocumentStore.initial(saved: store.restored, fileText: text, fileEpoch: file.documentEpoch)
        func merged(_ s: DocumentStore.Saved) -> Result<ClusterConfig, Diagnostic> {
            ReplicatedDocument.merge(local: text, localFile: o.configPath, document: String(decoding: s.bytes, as: UTF8.self),
                                     documentName: store.path)
        }
        // A node the cluster removed, started again: its saved copy no longer names it. It starts
        // from its file (at E.0); if the cluster's newer document names it again, it takes that.
        if case .success(let c) = merged(initial), c.node(me.id)?.name != me.name {
            (initial, note) = DocumentStore.initial(saved: nil, fileText: text, fileEpoch: file.documentEpoch)
            note = "the saved document \(store.restored?.stamp.version.description ?? "?") does not name this node (it was removed): "
                + note
        }
        switch merged(initial) {
        case .failure(let d):
            eprint("vigild: the replicated document \(initial.stamp.version) does not fit \(o.configPath): \(d) "
                   + "(fix the file, or move \(store.path) away to start from the file's own sections)")
            return 1
        case .success(let c): config = c
        }
        log.log(.notice, note)
        for w in config.warnings { log.log(.warning, w.description) }
        var doc = DocumentShell(store: store, localPath: o.configPath, localText: text, localEpoch: file.documentEpoch, initial: initial,
                                fileHash: initial.fileHash, fileBase: initial.fileBase)
        doc.filePending = initial.fileHash != ReplicatedDocument.hash(ReplicatedDocument.text(of: text))
        do {
            return try start(o, config: config, doc: doc, me: me, key: key, log: log)
        } catch {
            log.log(.error, "cannot start: \(error)")
            log.flush()
            return 1
        }
    }

    private static func start(_ o: DaemonOptions, config: ClusterConfig, doc: DocumentShell, me: NodeSpec, key: ClusterKey,
                              log: Log) throws -> Int32 {
        let sockets = try config.links.map { l in
            try LinkSocket(link: l, local: me.addresses[Int(l.id.rawValue)],
                           peers: config.nodes.filter { $0.id != me.id }.map { $0.addresses[Int(l.id.rawValue)] })
        }
        let shared = Shared()
        let wake = try WakePipe()
        try installSignals(wake)
        makeDirectories(String(o.controlPath[..<(o.controlPath.lastIndex(of: "/") ?? o.controlPath.startIndex)]))
        var runner: FenceRunner?
        var history: FenceHistory?
        var hardwareWatchdog: HardwareWatchdog?
        if config.fencing.policy.enabled {
            runner = FenceRunner(config: config, log: log, wake: wake)
            runner?.start()
            // "%n" in the path is this node's name (one config file serves every node of a lab).
            history = FenceHistory(path: config.fencing.historyFile.replacing("%n", with: me.name), log: log)
            if let wd = config.fencing.policy.watchdog {
                hardwareWatchdog = HardwareWatchdog(path: config.fencing.watchdogDevice.replacing("%n", with: me.name), timeout: wd.timeout)
            }
            log.log(.info, "fencing: \(config.fencing.devices.count) device(s), action \(config.fencing.policy.action.rawValue)"
                    + (config.fencing.policy.watchdog.map { ", self-fencing by \(config.fencing.watchdogDevice) (timeout \($0.timeout), quorum-loss bound \($0.quorumLossBound))" } ?? ""))
        }
        let arbiter = config.arbiter.map { ArbiterRunner(config: $0, log: log, wake: wake) }
        if let a = config.arbiter {
            arbiter?.start()
            log.log(.info, "arbiter: etcd \(a.endpoints.joined(separator: ", ")), key \(a.voteKey), lease \(a.policy.ttl), renewed every \(a.policy.renewEvery)")
        }
        // Also without resources: a reload may add some.
        let context = AgentContext(nodeName: me.name, nodeID: Int(me.id.rawValue), controlSocket: o.controlPath,
                                   toolsDir: o.pacemakerTools, pcmk: AgentContext.pcmkNextToVigild())
        let resources = ResourceRunner(config: config, nodeName: me.name, log: log, wake: wake, context: context)
        resources.start()
        let adminStore = AdminStore(config: config, nodeName: me.name, log: log)
        let alerts = AlertRunner(config: config, nodeName: me.name, log: log)
        alerts.start()
        let control = try ControlServer(path: o.controlPath, group: o.controlGroup, shared: shared, wake: wake, log: log, me: me.name,
                                        nodes: Dictionary(config.nodes.map { ($0.name, $0.id) }) { a, _ in a }, history: history,
                                        resources: config.resources.map { ($0.id, $0.group) })
        control.configPath = o.configPath
        control.start()
        if let (addr, port) = o.metrics {
            try MetricsServer(address: addr, port: port, shared: shared, history: history).start()
        }
        let systemd = Systemd()
        let incarnation = Clock.wallMicroseconds()
        log.log(.notice, "starting: node \(me.name) (id \(me.id.rawValue), incarnation \(incarnation)), cluster \(config.name), "
                + "\(config.links.count) link(s), interval \(config.timing.interval), deadline \(config.timing.deadline)"
                + (systemd.watchdogEvery.map { ", watchdog fed every \($0)" } ?? ""))
        Realtime.apply(priority: o.realtimePriority, lockMemory: o.lockMemory, log: log)
        let loop = HeartbeatLoop(node: Node(id: me.id, incarnation: incarnation, config: config.core, key: key),
                                 config: config, doc: doc, sockets: sockets, shared: shared, log: log, systemd: systemd, wake: wake,
                                 fencing: runner, history: history, hardwareWatchdog: hardwareWatchdog, resources: resources,
                                 adminStore: adminStore, attributeStore: AttributeStore(config: config, nodeName: me.name, log: log),
                                 alerts: alerts)
        loop.arbiter = arbiter
        loop.run(reload: {
            switch Files.loadConfigText(o.configPath) {
            case .success(let ct): return ct
            case .failure(let d):
                log.log(.error, "reload refused: \(d)")
                return nil
            }
        })
        log.log(.notice, "left the cluster; exiting")
        control.remove()
        log.flush()
        return 0
    }

    static func identify(_ c: ClusterConfig, _ name: String?) -> NodeSpec? {
        if let name { return c.node(named: name) }
        let local = Interface.localAddresses()
        return c.nodes.first { n in n.addresses.contains { local.contains($0) } }
    }

    private static func installSignals(_ wake: WakePipe) throws {
        signalWakeFD = wake.write
        signal(SIGPIPE, SIG_IGN)
        for s in [SIGTERM, SIGINT, SIGHUP] {
            var sa = sigaction()
            sa.__sigaction_handler.sa_handler = { sig in
                var b = UInt8(truncatingIfNeeded: sig)
                _ = write(signalWakeFD, &b, 1)
            }
            sa.sa_flags = SA_RESTART
            try check(sigaction(s, &sa, nil), "sigaction")
        }
    }
}

/// Real-time scheduling and memory locking for the heartbeat thread, where the system allows.
enum Realtime {
    static func apply(priority: Int32, lockMemory: Bool, log: Log) {
        if priority > 0 {
            var p = sched_param(sched_priority: priority)
            if sched_setscheduler(0, SCHED_FIFO, &p) == 0 {
                log.log(.info, "heartbeat thread runs SCHED_FIFO priority \(priority)")
            } else {
                log.log(.warning, "cannot use SCHED_FIFO (\(String(cString: strerror(errno)))): heartbeats run at normal priority and may be late on a busy machine")
            }
        }
        guard lockMemory else { return }
        // MCL_ONFAULT (4): lock pages as they are touched, instead of faulting in every mapped page
        // of every library (which would cost tens of MB of RSS for nothing).
        if mlockall(MCL_CURRENT | MCL_FUTURE | 4) == 0 {
            log.log(.info, "memory locked (pages in use, current and future)")
        } else {
            var lim = rlimit()
            getrlimit(__rlimit_resource_t(8) /* RLIMIT_MEMLOCK */, &lim)
            let limit = lim.rlim_cur == rlim_t.max ? "unlimited" : "\(lim.rlim_cur / 1024) KiB"
            log.log(.warning, "cannot lock memory (\(String(cString: strerror(errno))); RLIMIT_MEMLOCK \(limit)): heartbeat pages may be swapped out under memory pressure; give the daemon CAP_IPC_LOCK or LimitMEMLOCK=infinity")
        }
    }
}

/// Writes a line to standard error (before the logger exists).
/// `mkdir -p`.
func makeDirectories(_ path: String) {
    var p = ""
    for part in path.split(separator: "/") {
        p += "/" + part
        mkdir(p, 0o755)
    }
}

public func eprint(_ s: String) {
    let line = s + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
