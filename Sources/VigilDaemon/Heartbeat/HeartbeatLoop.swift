import CNet
import Glibc
import VigilConfig
import VigilCore
import VigilStatus

/// The heartbeat path: one thread that owns the core `Node` and the link sockets. It waits in
/// poll() for datagrams or its next wake-up, feeds the core, and carries out the effects. It never
/// waits on anything that can block: logging, events and status go out through `Shared` and `Log`.
final class HeartbeatLoop {
    private(set) var node: Node
    var config: ClusterConfig
    let sockets: [LinkSocket]
    let shared: Shared
    let log: Log
    private let systemd: Systemd
    private let wake: WakePipe
    private var wakeAt = Instant.zero
    /// Datagrams stay queued until then while the core is steady (the receive hold, below).
    private var holdUntil = Instant.zero
    private var arrivals = ArrivalClock()
    /// Datagrams read from one socket in one round above which the loop stops holding.
    static let holdLimit = 128
    /// At most this many datagrams from one socket per round of the loop; a flood is read in
    /// slices between ticks. Above what a 64-node cluster queues in a hold, so healthy traffic is
    /// always read whole before a tick.
    static let roundLimit = 256
    private var ready = false
    /// Between `Effect.watchdog(.arm)` and `.stopFeeding` / `.disarm`.
    private var watchdogArmed = false
    private var lastWatchdog = Instant.zero
    private var lastPublish = Instant.zero
    private var statusLine = ""
    private var lateness = LatenessHistogram()
    private var eventSeq: UInt64 = 0
    private var rejectedLogged: [Rejection: Instant] = [:]
    private var done = false
    let fencing: FenceRunner?
    private let history: FenceHistory?
    private let hardwareWatchdog: HardwareWatchdog?
    let resources: ResourceRunner?
    private let adminStore: AdminStore?
    private let attributeStore: AttributeStore?
    let alerts: AlertRunner?
    /// The external vote's etcd client (Arbiter/ArbiterRunner.swift), with `[arbiter]`.
    var arbiter: ArbiterRunner?
    /// Plugin detail of this node's latest attempt per target, for the history record.
    private var fenceDetail: [NodeID: String] = [:]
    private var fenceResults: [String: Int] = [:]
    /// The replicated document: this node's file, the saved copy, an operator's change in flight.
    var doc: DocumentShell

    init(node: Node, config: ClusterConfig, doc: DocumentShell, sockets: [LinkSocket], shared: Shared, log: Log, systemd: Systemd,
         wake: WakePipe,
         fencing: FenceRunner? = nil, history: FenceHistory? = nil, hardwareWatchdog: HardwareWatchdog? = nil,
         resources: ResourceRunner? = nil, adminStore: AdminStore? = nil, attributeStore: AttributeStore? = nil,
         alerts: AlertRunner? = nil) {
        self.alerts = alerts
        self.doc = doc
        self.resources = resources
        self.adminStore = adminStore
        self.attributeStore = attributeStore
        self.fencing = fencing
        self.history = history
        self.hardwareWatchdog = hardwareWatchdog
        self.node = node
        self.config = config
        self.sockets = sockets
        self.shared = shared
        self.log = log
        self.systemd = systemd
        self.wake = wake
    }

    /// Runs until the node has left the cluster.
    func run(reload: () -> (ClusterConfig, String)?) {
        startDocument()
        apply(.start)
        if let a = adminStore?.restored { apply(.restoreAdmin(a)) }
        if let list = attributeStore?.restored, !list.isEmpty { apply(.restoreAttributes(list)) }
        var fds = sockets.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        fds.append(pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0))
        while !done {
            // The receive hold: while the core is steady (Node.steady: no protocol exchange under
            // way or due), datagrams wait in the socket until the next tick (an interval, 10 ms at
            // most) and are then read in batches with their kernel receive times, before the tick
            // judges anyone. Otherwise each is read as it comes. A steady node thus wakes once per
            // interval, however many peers it hears.
            let holding = node.steady && Clock.monotonic() < holdUntil
            for i in sockets.indices { fds[i].events = holding ? 0 : Int16(POLLIN) }
            var wait = timespec(nanoseconds: ((holding ? min(wakeAt, holdUntil) : wakeAt) - Clock.monotonic()).nanoseconds)
            _ = vigil_ppoll(&fds, nfds_t(fds.count), &wait)
            // Datagrams first: after a stall, what queued up is read before any deadline is judged
            // (up to `roundLimit` per link: a flooded link is read in slices between ticks).
            let round = arrivals.begin()
            let readAll = holding && (round >= holdUntil || round >= wakeAt)
            var read = 0, most = 0
            for (i, s) in sockets.enumerated() where readAll || fds[i].revents != 0 {
                let n = s.receive(limit: HeartbeatLoop.roundLimit) { apply(.datagram($0, link: s.link.id), at: arrivals.arrival($1, now: round)) }
                (read, most) = (read + n, max(most, n))
            }
            // Twice what a healthy 64-node cluster queues on one link in a hold (a flood): no hold.
            let hold = read > 0 && most <= HeartbeatLoop.holdLimit && node.steady
            if read > 0 || readAll { holdUntil = hold ? round + min(config.timing.interval, .ms(10)) : .zero }
            if fds[sockets.count].revents != 0 { handleWake(reload: reload) }
            let now = Clock.monotonic()
            if now >= wakeAt {
                let late = now - wakeAt
                lateness.record(late.seconds)
                apply(.tick)
                if doc.filePending { applyFilePartWhenKnown() }
                feedWatchdog(late, now)
                feedHardwareWatchdog(late, now)
                // Status readers see at most 50 ms old ages; notices publish at once.
                if now - lastPublish >= .ms(50) { publish(now) }
            }
        }
        publish(Clock.monotonic())
    }

    private func handleWake(reload: () -> (ClusterConfig, String)?) {
        let bytes = wake.drain()
        for o in fencing?.takeOutcomes() ?? [] {
            fenceDetail[o.target] = o.detail
            apply(.fenceDone(order: o.order, o.result))
        }
        for d in resources?.take() ?? [] { apply(.resourceDone(id: d.id, d.op, d.outcome)) }
        if let (answers, tickets, heuristics) = arbiter?.take() {
            for (id, a) in answers { apply(.arbiterAnswer(id: id, a)) }
            for (id, a) in tickets { apply(.ticketAnswer(id: id, a)) }
            if let pass = heuristics { apply(.arbiterHeuristics(pass: pass)) }
        }
        var requests = shared.takeRequests()
        if bytes.contains(UInt8(SIGTERM)) || bytes.contains(UInt8(SIGINT)) { requests.append(.leave) }
        if bytes.contains(UInt8(SIGHUP)) { requests.append(.reload) }
        for r in requests {
            switch r {
            case .leave:
                systemd.notify("STOPPING=1\nSTATUS=leaving the cluster")
                log.log(.notice, "leaving the cluster gracefully" + (node.localResources.isEmpty ? "" : " (stopping local resources first)"))
                apply(.leave)
            case .reload:
                systemd.notify("RELOADING=1")
                if let (c, text) = reload() { applyReload(c, text: text) }
                systemd.notify("READY=1\nSTATUS=\(statusLine)")
            case let .fence(n, action):
                log.log(.warning, "operator asks to fence \(config.node(n)?.name ?? "?") (\(action.rawValue))")
                apply(.fenceCommand(n, action))
            case .confirm(let n):
                log.log(.error, "OPERATOR CONFIRMS \(config.node(n)?.name ?? "?") IS OFF: counted as fenced without a device; "
                        + "if it is in fact running, its resources may now run twice")
                apply(.fenceConfirm(n))
            case .admin(let r):
                apply(.admin(r))
            case .attribute(let r):
                apply(.attribute(r))
            case let .applyDocument(b, epoch, reply):
                applyDocument(b, epoch: epoch, reply: reply)
            case let .previewPlacement(p, reply):
                reply.answer(ControlAnswer(ok: true, value: placementChanges(p)))
            case .ticket(let c):
                log.log(.notice, "operator: ticket \(c)")
                apply(.ticketCommand(c))
            }
        }
    }

    /// What can change at run time: timing from the file's local part; the file's document part
    /// (if it changed since this node last read it) is applied as a change to the cluster's
    /// document, through the same path as `vigilctl config apply` (HeartbeatLoop+Document.swift).
    /// Links and the cluster id or key need a restart, and we say so.
    private func applyReload(_ file: ClusterConfig, text: String) {
        var cannot = config.digest.differences(file.digest).filter { $0 == .links }.map(\.description)
        if file.clusterID != config.clusterID || file.keyFile != config.keyFile { cannot.append("cluster id/key") }
        (doc.localText, doc.localEpoch) = (text, file.documentEpoch)
        if file.timing != config.timing {
            config.timing = file.timing
            config.digest[.timing] = file.digest[.timing]
            apply(.reconfigure(file.timing, timingHash: file.digest[.timing]))
            log.log(.notice, "reload: timing now interval \(file.timing.interval), deadline \(file.timing.deadline)")
        } else {
            log.log(.notice, "reload: timing unchanged")
        }
        if !cannot.isEmpty {
            log.log(.warning, "reload: changes to \(cannot.joined(separator: ", ")) need a restart of vigild; not applied")
        }
        applyFilePart("reload")
    }

    /// A document's resources, clones, orders and rules, taken live: the runner learns the new
    /// definitions first (what runs keeps the one it started with), then the core adopts the
    /// policy. Until every member runs the same, the owner holds its decisions.
    func applyResources(_ c: ClusterConfig) {
        (config.resources, config.clones, config.orders, config.health) = (c.resources, c.clones, c.orders, c.health)
        config.digest[.resources] = c.digest[.resources]
        resources?.update(config)
        shared.setResourceNames(config.resources.map { ($0.id, $0.group) })
        let p = config.resourcePolicy
        log.log(.notice, "resources now \(p.ids.count) (policy \(String(p.version, radix: 16)))")
        apply(.adoptResources(p))
    }

    /// Hands the core an event: at `time` (a datagram's arrival) or now.
    func apply(_ e: Event, at time: Instant? = nil) {
        for effect in node.handle(e, at: time ?? arrivals.now()) {
            switch effect {
            case let .send(bytes, link):
                sockets[Int(link.rawValue)].send(bytes)
            case .wake(let at):
                wakeAt = at
            case .notice(let n):
                observe(n)
            case .fence(let order):
                if let fencing { fencing.submit(order) } else {
                    log.log(.error, "no fence runner: cannot carry out order \(order.id)")
                }
            case .abortFence(let id):
                fencing?.abort(id)
            case .resource(let order):
                if let resources { resources.submit(order) } else { log.log(.error, "no resource runner for \(order.id)") }
            case .persist(let a):
                adminStore?.note(a)
            case .persistAttributes(let list):
                attributeStore?.note(list)
            case .watchdog(let w):
                watchdog(w)
            case let .adoptDocument(s, bytes, from):
                runDocument(s, bytes, from: from)
            case .arbiter(let r):
                if let arbiter { arbiter.submit(r) } else { log.log(.error, "no arbiter client: cannot carry out request \(r.id)") }
            case .ticket(let r):
                if let arbiter { arbiter.submit(r) } else { log.log(.error, "no arbiter client: cannot carry out ticket request \(r.id)") }
            }
        }
    }

    /// The hardware watchdog as the core commands it; fed from `run` while armed.
    private func watchdog(_ w: WatchdogCommand) {
        guard let hw = hardwareWatchdog else { return }
        switch w {
        case .arm: watchdogArmed = true
        case .stopFeeding:
            watchdogArmed = false
            hw.stopFeeding(log: log)
        case .disarm:
            watchdogArmed = false
            hw.disarm()
        }
    }

    private func observe(_ n: Notice) {
        if case .rejected(let r, let link) = n {
            // Counted always (metrics); logged at most once a second per reason.
            let now = Clock.monotonic()
            if now - (rejectedLogged[r] ?? .zero) > .seconds(1) {
                rejectedLogged[r] = now
                log.log(.warning, "dropped a frame on \(link): \(r.rawValue) (counted in vigil_frames_rejected_total)")
            }
            return
        }
        eventSeq += 1
        guard let ev = ClusterEvent(n, seq: eventSeq, time: Clock.wallISO(), config: doc.naming(config), local: node.id) else { return }
        if case let .fence(.finished(_, _, result, _, _)) = n { fenceResults[result.description, default: 0] += 1 }
        // Status first, then the event: a client that acts on the event reads status that has it.
        publish(Clock.monotonic())
        shared.append(ev)
        alerts?.submit(ev)
        if case let .fence(.finished(m, executor, _, _, _)) = n {
            var record = ev
            if executor == node.id { record.detail = fenceDetail.removeValue(forKey: m.node) }
            history?.append(record)
        }
        let level: Log.Level = switch n {
        case .fence(.finished(_, _, let r, _, _)): r.isSuccess ? .notice : .error
        case .fence(.selfFence), .fence(.noDevice), .config(.differs): .error
        case .fence: .warning
        case .peerDead, .quorumChanged(false), .paused: .warning
        case .viewInstalled, .quorumChanged, .leaving: .notice
        case .document(.conflict), .document(.badCopy), .document(.refused): .error
        case .document: .notice
        default: .info
        }
        log.log(level, ev.logLine, peer: ev.peer, link: ev.link, epoch: ev.epoch)
        if case .leaving = n { done = true }
        if case .document(.applyRefused(let why)) = n { documentRefused(why) }

        if case .viewInstalled = n, !ready {
            ready = true
            systemd.notify("READY=1")
            publish(Clock.monotonic())
        }
    }

    private func publish(_ now: Instant) {
        lastPublish = now
        var s = StatusSnapshot(node: node, config: config, now: now, ready: ready)
        s.alerts = alerts?.stats()
        if let (ok, failed) = arbiter?.counts {
            s.arbiter?.answered = ok
            s.arbiter?.failed = failed
        }
        if s.fencing != nil {
            s.fencing?.devices = fencing?.deviceStates() ?? []
            s.fencing?.attempts = fenceResults
        }
        shared.publish(s, attributes: node.attributeValues, lateness: lateness, sendErrors: sockets.reduce(0) { $0 + $1.sendErrors })
        let line = s.summaryLine
        if line != statusLine {
            statusLine = line
            systemd.notify("STATUS=\(line)")
        }
    }

    /// The hardware watchdog (self-fencing): opened at the first feed after the core armed it, fed
    /// from this loop only while the core allows it (`Effect.watchdog`) and ticks run on schedule.
    private func feedHardwareWatchdog(_ late: TimeSpan, _ now: Instant) {
        guard let hw = hardwareWatchdog, watchdogArmed, late < config.timing.interval else { return }
        hw.feed(now, log: log)
    }

    /// WATCHDOG=1 only from here, and only while ticks run on schedule (late by less than an interval).
    private func feedWatchdog(_ late: TimeSpan, _ now: Instant) {
        guard let every = systemd.watchdogEvery, late < config.timing.interval, now - lastWatchdog >= every / 2 else { return }
        lastWatchdog = now
        systemd.notify("WATCHDOG=1")
    }
}
