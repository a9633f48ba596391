import VigilCore

/// A broken invariant, with enough context to read the replay.
public struct Violation: Sendable, CustomStringConvertible {
    public var time: Instant
    public var node: NodeID?
    public var rule: Rule
    public var detail: String
    public var description: String { "t=\(time) \(node.map { "\($0) " } ?? "")[\(rule)] \(detail)" }
}

/// One step a scenario can take, at a time of its choosing.
public enum Step: Sendable {
    case start(NodeID)
    case crash(NodeID)
    case restart(NodeID)
    case pause(NodeID)
    case resume(NodeID)
    case leave(NodeID)
    /// Split the nodes into groups on every link.
    case partition([[NodeID]])
    /// Pull (or plug back) one node's cable on one link.
    case cut(NodeID, link: Int, Bool)
    case heal
    case setLink(Int, LinkModel)
    case attack(NodeID, Attack)
    /// Every running node must now be in one view made of exactly the running nodes.
    case checkAgreement
    /// Operator: `vigilctl fence confirm` typed on the first node, for `target`.
    case fenceConfirm(on: NodeID, target: NodeID)
    /// Operator: `vigilctl resource ...` / `vigilctl node ...` typed on a node.
    case admin(on: NodeID, AdminRequest)
    /// The resource dies on that node (its process exits); its next monitor there finds it stopped.
    case failResource(on: NodeID, String)
    /// The resource dies wherever it runs.
    case failResourceEverywhere(String)
    /// A promoted instance breaks but keeps its role: its monitor finds it failed promoted (OCF 9).
    case failPromoted(on: NodeID, String)
    /// `vigilctl attr set|delete` (or an agent's shim) on a node.
    case attribute(on: NodeID, AttributeRequest)
    /// SIGHUP on a node whose file now has this timing (and this hash of it).
    case reconfigure(NodeID, Timing, timingHash: UInt64)
    /// The cluster's configuration changed: this node takes the new resource policy (a paused
    /// node once it resumes; a node started later starts with the newest).
    case adoptResources(on: NodeID, ResourcePolicy)
    /// `vigilctl config apply` on a node: a new document naming this policy (and these nodes, if
    /// given; `filler` bytes long besides), with this operator epoch (DocumentModel.swift).
    case applyDocument(on: NodeID, ResourcePolicy, filler: Int, epoch: UInt32, nodes: NodeSet? = nil)
    /// Cut (or restore) the link between a node and the arbiter's server; pause or resume the
    /// server; `vigilctl ticket ...` on a node (ArbiterModel.swift, TicketModel.swift).
    case arbiterCut(NodeID, Bool), arbiterPause(Bool), ticket(on: NodeID, TicketCommand)
}

enum SimEvent {
    case wake(NodeID, Incarnation, Instant)
    case deliver(to: NodeID, link: LinkID, bytes: [UInt8], from: Member, duplicate: Bool)
    case step(Step)
    case fenceStep(executor: Member, order: FenceOrder, device: Int)
    case fenceReport(executor: Member, order: FenceOrder, result: FenceResult)
    case powerCut(NodeID, action: FenceAction, then: (Member, FenceOrder, Int))
    case watchdogExpire(Member, fedAt: Instant)
    case resourceOp(Member, ResourceOrder)
    /// A recurring monitor comes due (`generation` tells a current one from one since ended).
    case monitorDue(Member, String, generation: UInt64)
    case arbiter(ArbiterSimEvent)
}

/// Many real core nodes on a virtual clock and a seeded network. Same seed, same run.
public final class Simulation {
    public internal(set) var config: CoreConfig
    let key: ClusterKey
    var rng: SeededRandom
    public private(set) var now = Instant.zero
    var queue = EventQueue<SimEvent>()
    var net: NetworkModel
    var slots: [Slot]
    var invariants: Invariants
    /// Sees every notice of every node (experiments, traces).
    public var observer: ((Instant, NodeID, Notice) -> Void)?
    /// Sees every event fed to a node, before it is handled (the core microbenchmark's capture).
    public var eventObserver: ((Instant, NodeID, Event) -> Void)?
    /// Sees every effect of every node but frames and wake-ups (golden traces).
    public var effectObserver: ((Instant, NodeID, Effect) -> Void)?
    /// The hash of every effect so far, when `recordsDigest` (off by default: it costs time).
    public var recordsDigest = false
    public private(set) var digest = TraceDigest()
    public var violations: [Violation] { invariants.violations }
    public private(set) var eventsProcessed = 0
    /// Fence devices by name (unknown names behave as working devices).
    public var devices: [String: FenceDeviceModel] = [:]
    /// A node rebooted by a fence (or reset by its watchdog) starts again this much later.
    public var rebootDelay = TimeSpan.ms(500)
    public internal(set) var fenceStats = FenceStats()
    var abortedOrders: Set<OrderKey> = []
    /// Starts ("rid@node") the owner commanded while no order forbade them (OrderModel.swift).
    var startsCommandedInOrder: [String: Instant] = [:]
    var monitorGeneration: UInt64 = 0
    var offUpTo: [NodeID: Incarnation] = [:]
    var confirmed: Set<NodeID> = []
    /// Ground truth: where each resource is really active.
    public internal(set) var resourceActive: [String: Set<NodeID>] = [:]
    /// The definition each node last started each resource under (DefinitionModel.swift).
    public internal(set) var startedDefinition: [String: [NodeID: UInt64]] = [:]
    /// Starts ordered per resource (how often each was started or restarted).
    public internal(set) var startsOrdered: [String: Int] = [:]
    /// Ground truth: where each promotable clone's instance holds the promoted role.
    public internal(set) var resourcePromoted: [String: Set<NodeID>] = [:]
    /// Promoted instances broken in place (`Step.failPromoted`) until demoted or stopped.
    var brokenPromoted: [String: Set<NodeID>] = [:]
    /// The last clone notification each node's agent ran, per resource.
    var lastNotify: [String: [NodeID: NotifyInfo]] = [:]
    /// Resources that died behind the cluster's back and that no agent run there has seen yet:
    /// until then the cluster cannot know, and the group order rule excuses them.
    var diedUnnoticed: [String: Set<NodeID>] = [:]
    /// When an agent last found a resource dead that had died unnoticed (its report is in flight).
    var foundDeadAt: [String: Instant] = [:]
    /// Nodes where a resource's agent is not installed: its probe, start and monitor there end
    /// "unavailable" (a hard error), its stop "stopped".
    public var agentMissing: [String: Set<NodeID>] = [:]
    /// How long a stop of the resource takes (default 5-30 ms, as every operation): PAF's stop of a primary.
    public var stopTakes: [String: TimeSpan] = [:]
    /// A node whose config file differs from the others' (read at its next start).
    public var digests: [NodeID: ConfigDigest] = [:]
    /// Changes go through the replicated document (DocumentModel.swift), not to every node.
    var documentModel: DocumentModel?
    /// The arbiter's server, each node's clock rate offset (ppm), who is quorate now (ArbiterModel.swift);
    /// nodes of another cluster (a second site: TicketModel.swift) and their config.
    public var arbiterServer = ArbiterServerModel(), clockPPM: [NodeID: Int64] = [:], siteConfigs: [NodeID: CoreConfig] = [:]
    var quorateViews: [NodeID: NodeSet] = [:]

    public init(config: CoreConfig, links: [LinkModel], seed: UInt64) {
        self.config = config
        rng = SeededRandom(seed: seed)
        var keyBytes = [UInt8](repeating: 0, count: ClusterKey.size)
        for i in keyBytes.indices { keyBytes[i] = UInt8.random(in: 0...255, using: &rng) }
        guard let k = try? ClusterKey(bytes: keyBytes) else { preconditionFailure("32 bytes") }
        key = k
        let n = Int(config.nodes.map(\.rawValue).max() ?? 0)
        net = NetworkModel(nodes: n, links: links)
        slots = Array(repeating: Slot(), count: n + 1)
        invariants = Invariants(config: config)
    }

    public func schedule(_ step: Step, at t: Instant) { queue.push(.step(step), at: t) }

    /// Runs every event due up to and including `end`.
    public func run(until end: Instant) {
        while let t = queue.nextTime, t <= end, let (time, ev) = queue.pop() {
            now = time
            eventsProcessed += 1
            process(ev)
        }
        now = max(now, end)
    }

    public func node(_ id: NodeID) -> Node? { slots[Int(id.rawValue)].node }
    public func isRunning(_ id: NodeID) -> Bool { slots[Int(id.rawValue)].state == .running }

    private func process(_ ev: SimEvent) {
        switch ev {
        case let .wake(id, inc, at):
            let i = Int(id.rawValue)
            guard slots[i].node?.incarnation == inc, slots[i].wakeAt == at else { return }
            if case .paused = slots[i].state { return slots[i].held.append(ev) }
            apply(.tick, to: id)
        case let .deliver(to, link, bytes, from, dup):
            let i = Int(to.rawValue)
            guard slots[i].node != nil else { return }
            if !dup { invariants.arrived(from: from, to: to, at: now) }
            if case .paused = slots[i].state { return slots[i].held.append(ev) }
            consume(bytes, link: link, at: to)
        case .step(let s):
            perform(s)
        case let .fenceStep(executor, order, k):
            fenceStep(executor: executor, order: order, device: k)
        case let .fenceReport(executor, order, result):
            report(executor, order, result)
        case let .powerCut(target, action, next):
            powerCut(target, action: action, then: next)
        case let .watchdogExpire(m, fedAt):
            watchdogExpire(m, fedAt: fedAt)
        case let .resourceOp(m, order):
            resourceOp(order, on: m)
        case let .monitorDue(m, rid, generation):
            monitorDue(rid, generation, on: m)
        case .arbiter(let e):
            arbiterEvent(e)
        }
    }

    private func consume(_ bytes: [UInt8], link: LinkID, at id: NodeID) {
        let i = Int(id.rawValue)
        if apply(.datagram(bytes, link: link), to: id) {
            slots[i].delivered.append((bytes, link))
            if slots[i].delivered.count > 32 { slots[i].delivered.removeFirst(16) }
        }
    }

    /// Feeds one event to a node and carries out its effects. Returns whether a datagram was accepted.
    @discardableResult
    func apply(_ event: Event, to id: NodeID) -> Bool {
        let i = Int(id.rawValue)
        guard slots[i].node != nil else { return false }
        eventObserver?(now, id, event)
        let pendingBefore = slots[i].node!.pendingFences
        // Handled in place (the slot holds the only reference: nothing of the node is copied); the
        // node is copied only for a notice's checks below (a whole `Node` copied per event was most
        // of the simulator's time at 64 nodes).
        let effects = slots[i].node!.handle(event, at: local(now, id))
        let me = slots[i].node!.me
        for case .watchdog(let w) in effects {
            switch w {
            case .arm: slots[i].watchdog = .armed
            case .stopFeeding: slots[i].watchdog = .stopped
            case .disarm: slots[i].watchdog = .off
            }
        }
        if config.fencing.enabled {
            if pendingBefore != slots[i].node!.pendingFences {
                checkPendingCleared(before: pendingBefore, after: slots[i].node!.pendingFences, node: id)
            }
            if case .tick = event { feedWatchdog(id) }
        }
        var accepted = true
        if recordsDigest { for e in effects { digest.add(e, node: id, at: now) } }
        if let effectObserver {
            for e in effects {
                switch e {
                case .send, .wake, .notice: continue
                default: effectObserver(now, id, e)
                }
            }
        }
        // The node as it handled the event, copied before the first effect that reads it or may
        // change its slot (sends and wakes do neither).
        var copy: Node?
        for e in effects {
            switch e {
            case .send, .wake: break
            default: if copy == nil { copy = slots[i].node }
            }
            switch e {
            case let .send(bytes, link):
                send(bytes, link: link, from: me)
            case let .wake(at):
                slots[i].wakeAt = at
                queue.push(.wake(id, me.incarnation, at), at: real(at, id))
            case let .fence(order):
                runFence(order, by: me)
            case let .abortFence(order):
                abortedOrders.insert(OrderKey(executor: me, id: order))
            case let .resource(order):
                runResource(order, on: me)
            case .persist, .watchdog:
                break  // the admin state lives in the node; the watchdog was read above
            case .persistAttributes(let list):
                slots[i].savedAttributes = list  // read back when the node starts again
            case let .adoptDocument(s, b, from):
                adoptDocument(s, b, from: from, on: id)
            case .arbiter, .ticket:
                sendToArbiter(e, from: me)
            case let .notice(n):
                if case .rejected = n { accepted = false }
                let node = copy!
                if case .fence(let f) = n { checkFence(f, node: node) }
                if case let .attribute(.confirmed(k, v)) = n { checkConfirmed(k, version: v, by: node) }
                if case let .resource(.command(rid, target, .start)) = n { noteStartCommand(rid, on: target, by: node) }
                if case let .document(.running(s, previous, _)) = n { checkDocumentTaken(s, previous: previous, by: id) }
                if case let .resource(.command(rid, target, a)) = n, a == .promote || a == .demote { checkNotified(rid, a, on: target, by: node) }
                invariants.observe(n, node: node, at: now, pauses: slots[i].pauses)
                observer?(now, id, n)
            }
        }
        if config.arbiter != nil { checkSplitQuorum(id) }
        if slots[i].leavingSince != nil && (copy ?? slots[i].node)?.leaving == true {
            stopSlot(id)  // said goodbye: the daemon exits
        } else if let t = slots[i].leavingSince, now - t >= Simulation.stopTimeout {
            stopSlot(id)  // still stopping its resources: killed, as systemd does (peers see a death)
        }
        return accepted
    }

    /// Killed while still stopping to leave (units/vigild.service allows 10 minutes; the
    /// simulator's resources stop in milliseconds, so 5 s only ends a leave stuck for good).
    static let stopTimeout = TimeSpan.seconds(5)

    private func send(_ bytes: [UInt8], link: LinkID, from: Member) {
        let l = Int(link.rawValue), a = Int(from.node.rawValue)
        for peer in config.nodes where peer != from.node {
            for (k, d) in net.deliveries(a, Int(peer.rawValue), link: l, rng: &rng).enumerated() {
                queue.push(.deliver(to: peer, link: link, bytes: bytes, from: from, duplicate: k > 0), at: now + d)
            }
        }
        Adversary.record(bytes, link: link, in: &recentFrames)
    }
    var recentFrames: [([UInt8], LinkID)] = []

    private func perform(_ s: Step) {
        switch s {
        case .start(let id), .restart(let id):
            let i = Int(id.rawValue)
            if slots[i].leavingSince != nil { stopSlot(id) }  // still stopping to leave: killed
            guard slots[i].node == nil else { return }
            slots[i].incarnation += 1
            var c = siteConfigs[id] ?? config
            if let d = digests[id] { c.digest = d }
            if let p = startingPolicy(id) { c.resources = p }
            if let n = startingNodes(id) { (c.nodes, c.quorum) = (n, Simulation.quorum(n)) }
            slots[i].node = Node(id: id, incarnation: slots[i].incarnation, config: c, key: key, seed: rng.next())
            slots[i].state = .running
            slots[i].pauses = []
            slots[i].delivered = []
            invariants.started(Member(id, slots[i].incarnation))
            startDocument(id)
            apply(.start, to: id)
            if !slots[i].savedAttributes.isEmpty { apply(.restoreAttributes(slots[i].savedAttributes), to: id) }
        case .crash(let id):
            stopSlot(id)
        case .leave(let id):
            guard isRunning(id), let m = node(id)?.me else { return }
            invariants.leftGracefully(m)
            slots[Int(id.rawValue)].leavingSince = now
            apply(.leave, to: id)  // the node leaves at once, or once its resources are stopped
        case .pause(let id):
            let i = Int(id.rawValue)
            if slots[i].state == .running { (slots[i].state, quorateViews[id]) = (.paused(since: now), nil) }
        case .resume(let id):
            resume(id)
        case .partition(let groups):
            for l in net.groups.indices {
                for (g, members) in groups.enumerated() { for m in members { net.groups[l][Int(m.rawValue)] = g } }
            }
        case let .cut(id, l, down):
            net.cut[Int(id.rawValue)][l] = down
        case .heal:
            net.heal()
        case let .setLink(l, model):
            net.links[l] = model
        case .arbiterCut, .arbiterPause, .ticket: arbiterStep(s)
        case let .attack(id, kind):
            attack(id, kind)
        case .checkAgreement:
            let running = slots.compactMap { $0.state == .running ? $0.node : nil }
            invariants.checkAgreement(running, at: now)
            checkDocuments(running)
            checkResourcesRun(running)
            checkAttributesAgree(running)
        case let .fenceConfirm(on, target):
            confirmed.insert(target)
            apply(.fenceConfirm(target), to: on)
        case let .admin(on, r):
            _ = apply(.admin(r), to: on)
        case let .attribute(on, r):
            if isRunning(on) { _ = apply(.attribute(r), to: on) }
        case let .reconfigure(on, t, h):
            if isRunning(on) { _ = apply(.reconfigure(t, timingHash: h), to: on) }
        case let .applyDocument(on, p, filler, epoch, nodes):
            applyDocument(on: on, p, nodes: nodes, filler: filler, epoch: epoch)
        case let .adoptResources(on, p):
            if p.version > config.resources.version { config.resources = p }
            let i = Int(on.rawValue)
            if case .paused = slots[i].state { slots[i].pendingPolicy = p }
            if isRunning(on) { _ = apply(.adoptResources(p), to: on) }
        case let .failResource(on, rid):
            if resourceActive[rid]?.remove(on) != nil { diedUnnoticed[rid, default: []].insert(on) }
            resourcePromoted[rid]?.remove(on)
            brokenPromoted[rid]?.remove(on)
        case let .failPromoted(on, rid):
            if resourcePromoted[rid]?.contains(on) == true { brokenPromoted[rid, default: []].insert(on) }
        case .failResourceEverywhere(let rid):
            diedUnnoticed[rid, default: []].formUnion(resourceActive[rid] ?? [])
            resourceActive[rid] = []
            resourcePromoted[rid] = []
            brokenPromoted[rid] = []
        }
    }

    func stopSlot(_ id: NodeID) {
        let i = Int(id.rawValue)
        for r in resourceActive.keys { resourceActive[r]?.remove(id) }  // the node is down: so is all it ran
        for r in resourcePromoted.keys { resourcePromoted[r]?.remove(id) }
        for r in brokenPromoted.keys { brokenPromoted[r]?.remove(id) }
        for r in lastNotify.keys { lastNotify[r]?[id] = nil }
        for r in diedUnnoticed.keys { diedUnnoticed[r]?.remove(id) }
        slots[i].fedAt = nil
        slots[i].watchdog = .off
        slots[i].monitors = [:]
        slots[i].running = [:]
        slots[i].node = nil
        quorateViews[id] = nil
        slots[i].state = .down
        slots[i].held = []
        slots[i].wakeAt = nil
        slots[i].leavingSince = nil
        slots[i].pendingPolicy = nil
    }

    /// Resumes a paused node. Worst order on purpose: its overdue timer first, then the datagrams
    /// that queued up while it was stopped (a real loop may well see the timer first too).
    private func resume(_ id: NodeID) {
        let i = Int(id.rawValue)
        guard case .paused(let since) = slots[i].state else { return }
        slots[i].state = .running
        slots[i].pauses.append((since, now))
        let held = slots[i].held
        slots[i].held = []
        if let p = slots[i].pendingPolicy {
            slots[i].pendingPolicy = nil
            apply(.adoptResources(p), to: id)
        }
        for case let .wake(_, inc, at) in held where inc == slots[i].node?.incarnation && slots[i].wakeAt == at {
            apply(.tick, to: id)
        }
        for case let .deliver(_, link, bytes, _, _) in held where slots[i].node != nil {
            consume(bytes, link: link, at: id)
        }
        for case .arbiter(let e) in held { arbiterEvent(e) }
    }
}
