/// Input to a node's step function.
public enum Event: Sendable {
    /// The node starts (first event of an incarnation).
    case start
    /// The wake-up the node asked for came due (maybe late: the lateness is measured).
    case tick
    /// A datagram arrived on a link.
    case datagram([UInt8], link: LinkID)
    /// Leave the cluster gracefully (SIGTERM).
    case leave
    /// New timing at run time (SIGHUP), with its part of the file's digest (sent to the members at
    /// once). Resources change through `adoptResources`; the rest of the file needs a restart.
    case reconfigure(Timing, timingHash: UInt64)
    /// A new resource policy (the cluster's configuration changed, SIGHUP): what it adds starts,
    /// what it removes stops, what it redefines restarts (Resources/Supervisor+Adopt.swift). Its
    /// version, if not zero, is the file's resources digest (members compare it at once).
    case adoptResources(ResourcePolicy)
    /// The shell finished a `FenceOrder`.
    case fenceDone(order: UInt64, FenceResult)
    /// Operator: fence this node now.
    case fenceCommand(NodeID, FenceAction)
    /// Operator: this node is off, count it as fenced.
    case fenceConfirm(NodeID)
    /// The shell finished a resource operation on this node.
    case resourceDone(id: String, ResourceOp, ResourceOutcome)
    /// Operator: standby, move, ban, clear, cleanup, restart (see Admin.swift).
    case admin(AdminRequest)
    /// The operator's instructions as this node last saved them (read back at start-up): taken
    /// if newer than what the node has, without acting on its cleanup/restart counters.
    case restoreAdmin(AdminState)
    /// Set or delete a node attribute (Attributes/Attributes.swift).
    case attribute(AttributeRequest)
    /// The permanent attributes as this node last saved them (read back at start-up).
    case restoreAttributes([NodeAttribute])
    /// Operator: make these bytes (validated by the shell) the cluster's replicated document, with
    /// this operator epoch (Membership/DocumentSync.swift). Answered by `Effect.adoptDocument` or
    /// a `DocumentNotice.applyRefused`.
    case applyDocument([UInt8], epoch: UInt32)
    /// The shell runs this copy of the document now (after `Effect.adoptDocument`, or read back at
    /// start-up), with the digest of the configuration it makes up (`from`: where it came from).
    case documentRun(DocumentStamp, [UInt8], digest: ConfigDigest, from: NodeID?)
    /// The shell could not run this copy (`Effect.adoptDocument`): it is not fetched again.
    case documentRefused(DocumentStamp)
    /// The cluster's document changed its nodes, votes, quorum rules or fencing devices and levels
    /// (Membership/NodesChange.swift); resources change through `adoptResources`.
    case adoptCluster(nodes: NodeSet, quorum: QuorumPolicy, fencing: FencingPolicy)
    /// The shell's answer to `Effect.arbiter` request `id` (Membership/Arbiter.swift).
    case arbiterAnswer(id: UInt64, ArbiterAnswer)
    /// The shell's answer to `Effect.ticket` request `id`, and the operator's ticket commands (Tickets/).
    case ticketAnswer(id: UInt64, TicketAnswer)
    case ticketCommand(TicketCommand)
    /// The arbiter's heuristics command passed or failed (the node may take the vote only while it passes).
    case arbiterHeuristics(pass: Bool)
}

/// Output of a node's step function, to be carried out by the shell (or the simulator) in order.
/// These are all the shell's obligations: it never reads the node's properties to find out what
/// to do (it reads them only to show status).
public enum Effect: Sendable {
    /// Send to every peer on this link (multicast, or unicast to each configured peer).
    case send([UInt8], link: LinkID)
    /// Call back with `.tick` at (or after) this instant; replaces the previous wake-up.
    case wake(at: Instant)
    /// Something happened: for the log, the events stream, metrics and status.
    case notice(Notice)
    /// Run every device of this fencing level for the target, then report `Event.fenceDone`.
    case fence(FenceOrder)
    /// Stop a running order (kill its plugin's process group); no report is expected.
    case abortFence(UInt64)
    /// Run a resource agent operation on this node, then report `Event.resourceDone`; for
    /// `.monitor`, run it every `ResourceOrder.every` until a stop, start or `.unmonitor` of the
    /// same resource, and report only when it no longer finds the resource running.
    case resource(ResourceOrder)
    /// Save this copy of the operator's instructions to stable storage (each is newer than the
    /// last); read back at start-up as `Event.restoreAdmin`. Every member holds a copy, so the
    /// frames after it need not wait for the disk.
    case persist(AdminState)
    /// Save the permanent node attributes (all of them, each time one changes); read back at
    /// start-up as `Event.restoreAttributes`.
    case persistAttributes([NodeAttribute])
    /// The hardware watchdog (self-fencing): see `WatchdogCommand`.
    case watchdog(WatchdogCommand)
    /// Run this copy of the replicated document (fetched from `from`, or the operator's change when
    /// nil): parse it, apply it, save it, then report `Event.documentRun` (or `.documentRefused`).
    case adoptDocument(DocumentStamp, [UInt8], from: NodeID?)
    /// Make this request of the arbiter (etcd), off the heartbeat thread, then report
    /// `Event.arbiterAnswer` with its id.
    case arbiter(ArbiterRequest)
    /// Make this request of etcd for a site ticket, then report `Event.ticketAnswer` with its id.
    case ticket(TicketRequest)
}

/// What the shell does with the hardware watchdog. Between `arm` and `stopFeeding` it feeds the
/// device from the heartbeat loop, and only while that loop runs on time.
public enum WatchdogCommand: Sendable, Equatable {
    /// A quorate view armed self-fencing: open the device and feed it.
    case arm
    /// Stop feeding: the board resets this node within the watchdog's timeout.
    case stopFeeding
    /// Clean leave: disarm (magic close). Never sent after `stopFeeding`.
    case disarm
}

/// Frame counters, exported as metrics.
public struct Counters: Equatable, Sendable {
    public var sent = 0
    public var received = 0
    public var rejected: [Rejection: Int] = [:]
    public var pauses = 0
}

/// One cluster node's protocol state: a pure value. Feed it `(event, now)`; it returns effects.
/// It never reads a clock, sleeps, or touches a socket, so the simulator can run many side by side.
public struct Node: Sendable {
    public let id: NodeID
    public let incarnation: Incarnation
    public internal(set) var config: CoreConfig
    var codec: FrameCodec
    var detector: FailureDetector
    var sequences: [UInt64]

    /// Views, proposals, quorum (Membership/Membership.swift).
    var membership: Membership
    /// Fencing: who must be fenced, who was, the attempts this node runs (Fencing/Fencer.swift).
    var fencer: Fencer
    /// Resources: this node's, every member's reports, the owner's commands, the operator's
    /// instructions (Resources/Supervisor.swift).
    var supervisor: Supervisor
    /// Node attributes, replicated (Attributes/Attributes.swift).
    var attributes = Attributes()
    /// Whether the members' config files agree (Membership/ConfigAgreement.swift).
    var agreement = ConfigAgreement()
    /// The replicated document's copies and transfers (Membership/DocumentSync.swift).
    var documents = DocumentSync()
    /// Nodes the document removed that were still alive: peers until they have gone (NodesChange.swift).
    var removing = NodeSet()
    /// The external vote (Membership/Arbiter.swift), with `[arbiter]`; asked again at the next
    /// tick when the view changed.
    var arbiter: Arbiter?
    var arbiterSoon = false
    /// Site tickets (Tickets/Tickets.swift), with `[[ticket]]`; asked again when the view changed.
    var tickets: Tickets?
    var ticketsSoon = false
    /// A graceful leave waits for the vote's handover (Node+Arbiter.swift).
    var arbiterHandover = ArbiterHandover.none
    /// The time of the event being handled (for parts reached without it: the leave).
    var lastNow = Instant.zero
    var aliveChangedAt = Instant.zero
    var startedAt = Instant.zero
    var nextTick = Instant.zero
    var graceUntil = Instant.zero
    var nextProbe = Instant.zero
    public internal(set) var leaving = false
    /// Nothing under way that waits on a peer's message: the shell may leave datagrams queued for
    /// a while between reads (Membership/Steadiness.swift).
    public internal(set) var steady = false
    public internal(set) var counters = Counters()

    /// `seed` feeds the random fence delay (default: from the id and incarnation).
    public init(id: NodeID, incarnation: Incarnation, config: CoreConfig, key: ClusterKey, seed: UInt64? = nil) {
        self.id = id
        self.incarnation = incarnation
        self.config = config
        codec = FrameCodec(cluster: config.cluster, local: id, known: config.nodes, key: key)
        detector = FailureDetector(local: id, config: config)
        sequences = Array(repeating: 0, count: config.links.count)
        membership = Membership(quorum: config.quorum)
        supervisor = Supervisor(policy: config.resources)
        fencer = Fencer(policy: config.fencing, seed: seed ?? (UInt64(id.rawValue) &* 0x9E37_79B9_7F4A_7C15 ^ incarnation))
        arbiter = config.arbiter.map(Arbiter.init)
        if !config.tickets.isEmpty {
            tickets = Tickets(site: config.cluster, lease: config.ticketLease ?? ArbiterPolicy(ttl: .seconds(10)), tickets: config.tickets)
        }
    }

    public var me: Member { Member(id, incarnation) }
    /// The membership view this node is in.
    public var view: View { membership.view }

    /// The one node that fences and places resources: the lowest member of a quorate view that is
    /// not itself pending fencing (a pending node that rejoined never judges its own case).
    /// Nil in an inquorate view.
    public var owner: NodeID? { view.quorate ? view.nodes.subtracting(NodeSet(pendingFences.keys)).min : nil }
    public var peers: [NodeID: PeerState] { detector.peers.dictionary }
    /// One peer's state (without building `peers`).
    public func peer(_ n: NodeID) -> PeerState? { detector.peers[n] }

    /// The step function.
    public mutating func handle(_ event: Event, at now: Instant) -> [Effect] {
        var out: [Effect] = []
        lastNow = now
        switch event {
        case .start:
            startedAt = now
            aliveChangedAt = now
            nextTick = now
            tick(now, &out)
        case .tick:
            tick(now, &out)
        case let .datagram(bytes, link):
            receive(bytes, link: link, now, &out)
        case .leave:
            handleLeave(&out)
        case let .reconfigure(t, timingHash):
            config.timing = t
            detector.deadline = t.deadline
            if config.digest != ConfigDigest(), timingHash != config.digest[.timing] {
                config.digest[.timing] = timingHash
                for n in agreement.rebase(mine: config.digest) { out.append(.notice(.config(n))) }
            }
        case .adoptResources(let p):
            config.resources = p
            supervising(&out) { s, c, box in s.adopt(p, c, now, &box) }
            // The shell's policy version is its file's resources digest: the members hear it at once.
            if config.digest != ConfigDigest(), p.version != 0, p.version != config.digest[.resources] {
                config.digest[.resources] = p.version
                for n in agreement.rebase(mine: config.digest) { out.append(.notice(.config(n))) }
            }
        case let .fenceDone(order, result):
            fencing(&out) { f, c, box in f.done(order, result, c, now, &box) }
        case let .fenceCommand(n, action):
            fencing(&out) { f, c, box in f.command(n, action, c, now, &box) }
        case .fenceConfirm(let n):
            fencing(&out) { f, c, box in f.confirm(n, c, now, &box) }
        case let .resourceDone(rid, op, outcome):
            supervising(&out) { s, c, box in s.done(rid, op, outcome, c, now, &box) }
        case .admin(let r):
            supervising(&out) { s, c, box in s.adminRequest(r, c, now, &box) }
        case .restoreAdmin(let a):
            supervising(&out) { s, c, box in if a.isNewer(than: s.admin) { s.adoptAdmin(a, c, now, &box) } }
        case .attribute(let r):
            attributing(&out) { a, c, box in a.request(r, c, now, &box) }
        case .restoreAttributes(let list):
            attributing(&out) { a, _, box in a.restore(list, &box) }
        case let .applyDocument(b, epoch):
            applyDocument(b, epoch: epoch, &out)
        case let .documentRun(s, b, digest, from):
            documentRun(s, b, digest: digest, from: from, &out)
        case .documentRefused(let s):
            documentRefused(s, &out)
        case let .adoptCluster(nodes, quorum, fencing):
            adoptCluster(nodes: nodes, quorum: quorum, fencing: fencing, now, &out)
        case let .arbiterAnswer(rid, answer):
            arbiterAnswered(rid, answer, now, &out)
        case .arbiterHeuristics(let pass):
            arbiterHeuristics(pass, &out)
        case let .ticketAnswer(rid, answer):
            ticketAnswered(rid, answer, now, &out)
        case .ticketCommand(let c):
            ticketCommand(c, now, &out)
        }
        switch event {
        case .tick, .datagram: break
        default: steady = false
        }
        return out
    }

    private mutating func tick(_ now: Instant, _ out: inout [Effect]) {
        guard !leaving else { return }
        guard now >= nextTick else {
            out.append(.wake(at: nextTick))
            return
        }
        let lateness = now - nextTick
        let timing = config.timing
        if lateness > timing.pauseThreshold {
            counters.pauses += 1
            out.append(.notice(.paused(lateness: lateness)))
            if config.selfPauseRule {
                // Our own stall is not our peers' silence: excuse it, and give the datagrams that
                // queued up meanwhile one interval to be read before judging anyone.
                detector.excuse(lateness, at: now)
                graceUntil = now + timing.interval
            }
        }
        var alive = detector.aliveSet
        alive.insert(id)
        broadcast(.heartbeat(view: view.id, alive: alive), &out)
        if now >= nextProbe {
            nextProbe = now + Node.probeEvery
            broadcast(.probe(stamp: UInt64(now.nanoseconds)), &out)
        }
        nextTick = lateness > timing.interval ? now + timing.interval : nextTick + timing.interval
        if now >= graceUntil { noted(detector.expire(at: now), now, &out) }
        evaluateMembership(now, &out)
        if arbiter != nil { arbiterStep(now, &out) }
        if tickets != nil { ticketStep(now, &out) }
        fencing(&out) { f, c, box in f.step(c, now, &box) }
        supervising(&out) { s, c, box in s.step(c, now, &box) }
        if attributes.busy { attributing(&out) { a, c, box in a.step(c, now, &box) } }
        if !removing.isEmpty { forgetRemoved() }
        announceConfig(now, &out)
        syncDocument(now, &out)
        judgeSteady(now)
        out.append(.wake(at: nextTick))
    }

    private mutating func receive(_ bytes: [UInt8], link: LinkID, _ now: Instant, _ out: inout [Effect]) {
        guard !leaving else { return }
        let before = out.count
        // A replayed or stale capture of a peer's frame is dropped before any decryption (the
        // codec's own header checks first: other clusters' frames are counted as such).
        if case .success(let h) = FrameHeader.parse(bytes[...]), h.cluster == codec.cluster, h.link == link,
           let li = config.links.firstIndex(of: link), let r = detector.precheck(h, linkIndex: li) {
            return reject(r, link, &out)
        }
        let frame: Frame
        switch codec.open(bytes) {
        case .failure(let r): return reject(r, link, &out)
        case .success(let f): frame = f
        }
        defer { if steady { steady = frame.message.isRoutine && stillSteady(after: before, out) } }
        let h = frame.header
        guard h.link == link, let li = config.links.firstIndex(of: link) else { return reject(.wrongLink, link, &out) }
        if let r = detector.admit(h, linkIndex: li) { return reject(r, link, &out) }
        counters.received += 1
        noted(detector.heard(h.sender, incarnation: h.incarnation, linkIndex: li, at: now), now, &out)
        if detector.peers[h.sender]?.leftIncarnation == h.incarnation { return }
        switch frame.message {
        case .probe(let stamp):
            send(.probeReply(to: h.sender, stamp: stamp), linkIndex: li, &out)
        case let .probeReply(to, stamp) where to == id && stamp <= UInt64(now.nanoseconds):
            detector.peers[h.sender]?.links[li].rtt = now - Instant(nanoseconds: Int64(stamp))
        default:
            dispatch(frame.message, from: Member(h.sender, h.incarnation), now, &out)
        }
        evaluateMembership(now, &out)
    }

    /// Routes a peer's message to the part of the node that owns it.
    private mutating func dispatch(_ m: Message, from sender: Member, _ now: Instant, _ out: inout [Effect]) {
        switch m {
        case .heartbeat, .propose, .ack, .install, .leave:
            if case let .heartbeat(v, alive) = m { detector.noteReport(from: sender.node, view: v, alive: alive, at: now) }
            membershipCall(&out) { ms, c, box in ms.receive(m, from: sender, c, now, &box) }
            if case .leave = m { noted(detector.left(sender.node, incarnation: sender.incarnation), now, &out) }
        case .fenceState, .fenceStarted, .fenceOutcome:
            fencing(&out) { f, _, box in f.receive(m, from: sender, now, &box) }
        case .resourceReport, .resourceCommand, .resourceNotify, .adminState:
            supervising(&out) { s, c, box in s.receive(m, from: sender, c, now, &box) }
        case .attributes, .attributeAck, .attributeDigest:
            attributing(&out) { a, c, box in a.receive(m, from: sender, c, now, &box) }
        case let .configDigest(d, document):
            heardConfig(d, document: document, from: sender.node, now, &out)
        case .configRequest, .configChunk:
            documentTransfer(m, now, &out)
        case .probe, .probeReply:
            break  // answered in `receive` (round-trip times)
        }
    }

    private mutating func reject(_ r: Rejection, _ link: LinkID, _ out: inout [Effect]) {
        counters.rejected[r, default: 0] += 1
        out.append(.notice(.rejected(r, link: link)))
    }

    /// SIGTERM: stop local resources first (if any), then leave.
    mutating func handleLeave(_ out: inout [Effect]) {
        guard !leaving else { return }
        var stopping = false
        supervising(&out) { s, c, box in stopping = s.stopAllBeforeLeaving(c, &box) }
        if stopping { return }
        leave(&out)
    }

    mutating func leave(_ out: inout [Effect]) {
        guard !leaving else { return }
        // The arbiter's vote goes to a member first (its answer calls `leave` again).
        if arbiterHandsOver(&out) { return }
        // Twice per link: a goodbye lost on every link turns a clean leave into a fence.
        broadcast(.leave, &out)
        broadcast(.leave, &out)
        leaving = true
        if feedsWatchdog { out.append(.watchdog(.disarm)) }
        out.append(.notice(.leaving))
    }

    /// Forwards detector notices and notes when the alive set changed.
    mutating func noted(_ notices: [Notice], _ now: Instant, _ out: inout [Effect]) {
        for n in notices {
            switch n {
            case .peerAlive, .peerDead: aliveChangedAt = now
            default: break
            }
            out.append(.notice(n))
        }
    }

    /// Round-trip probes go out this often on every link.
    public static let probeEvery = TimeSpan.seconds(1)

    mutating func broadcast(_ m: Message, _ out: inout [Effect]) {
        for i in config.links.indices { send(m, linkIndex: i, &out) }
    }

    mutating func send(_ m: Message, linkIndex i: Int, _ out: inout [Effect]) {
        let link = config.links[i]
        sequences[i] += 1
        out.append(.send(codec.seal(m, link: link, incarnation: incarnation, sequence: sequences[i]), link: link))
        counters.sent += 1
    }
}

extension Node {
    /// True when everything that protocol decisions depend on is the same (counters and key caches
    /// aside). The simulator uses it to prove that rejected frames change nothing.
    public func sameProtocolState(as o: Node) -> Bool {
        membership == o.membership
            && detector == o.detector && aliveChangedAt == o.aliveChangedAt && nextTick == o.nextTick
            && graceUntil == o.graceUntil && leaving == o.leaving && sequences == o.sequences && fencer == o.fencer && supervisor == o.supervisor
            && attributes == o.attributes && agreement == o.agreement && documents == o.documents && removing == o.removing
            && arbiter == o.arbiter && tickets == o.tickets
    }
}
