import VigilCore

/// A simulated fence device: how it behaves and how long it takes. Power is cut at the end of the
/// latency; a device that fails or hangs leaves the target running.
public struct FenceDeviceModel: Sendable {
    public enum Behaviour: Sendable { case works, fails, hangs }
    public var behaviour = Behaviour.works
    /// Time to act, drawn per operation (milliseconds).
    public var latencyMs: ClosedRange<Int64> = 20...200
    /// What the shell's timeout would be: a hanging device reports `.timeout` after this.
    public var timeout = TimeSpan.seconds(2)
    public init(_ behaviour: Behaviour = .works, latencyMs: ClosedRange<Int64> = 20...200) {
        self.behaviour = behaviour
        self.latencyMs = latencyMs
    }
}

/// Ground truth about fencing in one run, and the statistics a sweep reports.
public struct FenceStats: Sendable {
    /// Power cuts by a device (or watchdog resets) per target node.
    public var powerCuts: [NodeID: Int] = [:]
    /// Successes reported by executors, by result.
    public var successes = 0
    public var watchdogResets = 0
    public var failedAttempts = 0
    /// A member incarnation cut more than once (e.g. a device acted twice for one loss).
    public var duplicateCuts = 0
    var cutIncarnations: Set<Member> = []

    mutating func add(_ o: FenceStats) {
        for (k, v) in o.powerCuts { powerCuts[k, default: 0] += v }
        successes += o.successes
        watchdogResets += o.watchdogResets
        failedAttempts += o.failedAttempts
        duplicateCuts += o.duplicateCuts
    }
    public var totalCuts: Int { powerCuts.values.reduce(0, +) }
}

extension Simulation {
    /// Carries out `.fence(order)` from `executor`: the level's devices one after another.
    func runFence(_ order: FenceOrder, by executor: Member) {
        queue.push(.fenceStep(executor: executor, order: order, device: 0), at: now)
    }

    func fenceStep(executor: Member, order: FenceOrder, device k: Int) {
        if abortedOrders.contains(OrderKey(executor: executor, id: order.id)) { return }
        guard k < order.devices.count else { return report(executor, order, .success) }
        let model = devices[order.devices[k]] ?? FenceDeviceModel()
        let latency = TimeSpan.ms(Int64.random(in: model.latencyMs, using: &rng))
        switch model.behaviour {
        case .fails:
            queue.push(.fenceReport(executor: executor, order: order, result: .failed), at: now + latency)
        case .hangs:
            queue.push(.fenceReport(executor: executor, order: order, result: .timeout), at: now + model.timeout)
        case .works:
            queue.push(.powerCut(order.target.node, action: order.action, then: (executor, order, k + 1)), at: now + latency)
        }
    }

    /// The device acts: whatever runs on the target goes down (rebooted nodes come back later).
    /// The power is cut even if the executor died meanwhile: a command already sent is not recalled.
    func powerCut(_ target: NodeID, action: FenceAction, then next: (Member, FenceOrder, Int)) {
        cutPower(target, reboot: action == .reboot)
        queue.push(.fenceStep(executor: next.0, order: next.1, device: next.2), at: now)
    }

    func cutPower(_ target: NodeID, reboot: Bool) {
        let i = Int(target.rawValue)
        let inc = slots[i].incarnation
        let m = Member(target, inc)
        if slots[i].node != nil {
            if fenceStats.cutIncarnations.contains(m) { fenceStats.duplicateCuts += 1 }
            fenceStats.cutIncarnations.insert(m)
        }
        fenceStats.powerCuts[target, default: 0] += 1
        offUpTo[target] = max(offUpTo[target] ?? 0, inc)
        if slots[i].node != nil {
            stopSlot(target)
            if reboot { schedule(.restart(target), at: now + rebootDelay) }
        }
    }

    func report(_ executor: Member, _ order: FenceOrder, _ result: FenceResult) {
        guard slots[Int(executor.node.rawValue)].node?.incarnation == executor.incarnation else { return }
        if abortedOrders.contains(OrderKey(executor: executor, id: order.id)) { return }
        apply(.fenceDone(order: order.id, result), to: executor.node)
    }

    /// The simulated hardware watchdog: fed on every tick while the core allows it; not fed for its
    /// timeout (the node stopped feeding, or is frozen), the board resets.
    func feedWatchdog(_ id: NodeID) {
        let i = Int(id.rawValue)
        guard let wd = config.fencing.watchdog, let node = slots[i].node, slots[i].watchdog != .off else { return }
        if slots[i].watchdog == .armed && slots[i].state == .running {
            slots[i].fedAt = now
            queue.push(.watchdogExpire(Member(id, node.incarnation), fedAt: now), at: now + wd.timeout)
        } else if slots[i].fedAt == nil {
            slots[i].fedAt = now
            queue.push(.watchdogExpire(Member(id, node.incarnation), fedAt: now), at: now + wd.timeout)
        }
    }

    func watchdogExpire(_ m: Member, fedAt: Instant) {
        let i = Int(m.node.rawValue)
        guard slots[i].node?.incarnation == m.incarnation, slots[i].fedAt == fedAt else { return }
        fenceStats.watchdogResets += 1
        cutPower(m.node, reboot: true)
    }

    /// Safety rules on fence notices (checked where the simulator sees who really runs).
    func checkFence(_ n: FenceNotice, node: Node) {
        switch n {
        case let .started(target, _, _, _):
            if !node.view.quorate {
                invariants.fail(.fenceQuorum, node.id, "started fencing \(target) from \(node.view)", at: now)
            }
        case let .finished(target, executor, result, _, _) where executor == node.id:
            if result.isSuccess {
                fenceStats.successes += 1
                let slot = slots[Int(target.node.rawValue)]
                if slot.node != nil, slot.incarnation <= target.incarnation, result != .confirmed {
                    invariants.fail(.fencedButRunning, node.id,
                                    "counted \(target) fenced (\(result)) while \(target.node)#\(slot.incarnation) still runs", at: now)
                }
            } else {
                fenceStats.failedAttempts += 1
            }
        default:
            break
        }
    }

    /// A pending fence may only disappear once that incarnation is really down.
    func checkPendingCleared(before: [NodeID: Incarnation], after: [NodeID: Incarnation], node: NodeID) {
        for (n, inc) in before where after[n] == nil {
            let slot = slots[Int(n.rawValue)]
            if slot.node != nil && slot.incarnation <= inc {
                invariants.fail(.unfencedClean, node, "stopped waiting to fence \(n)#\(inc) while \(n)#\(slot.incarnation) runs", at: now)
            }
        }
    }
}

struct OrderKey: Hashable {
    var executor: Member
    var id: UInt64
}

extension Simulation {
    /// Resource agents, simulated: an operation takes 5-30 ms; the truth is `resourceActive`.
    /// Recurring monitors run as the node asks, each found failure reported once.
    func runResource(_ order: ResourceOrder, on m: Member) {
        let i = Int(m.node.rawValue)
        switch order.op {
        case .monitor:
            monitorGeneration += 1
            slots[i].monitors[order.id] = (monitorGeneration, order.every, order.promoted)
            queue.push(.monitorDue(m, order.id, generation: monitorGeneration), at: now + order.every)
            return
        case .unmonitor:
            slots[i].monitors[order.id] = nil
            return
        case .start, .stop, .promote, .demote:
            slots[i].monitors[order.id] = nil
        case .probe, .notify:
            break
        }
        if let other = slots[i].running[order.id] {
            invariants.fail(.overlappingOps, m.node, "\(order.id) \(order.op) ordered while its \(other) still runs there", at: now)
        }
        checkGroupOrder(order, on: m.node)
        if order.op == .start {
            startsOrdered[order.id, default: 0] += 1
            checkWithPromoted(order.id, on: m.node)
            checkDefinition(order.id, on: m.node)
        }
        checkOrders(order, on: m.node)
        slots[i].running[order.id] = order.op
        let takes = order.op == .stop ? stopTakes[order.id] : nil
        queue.push(.resourceOp(m, order), at: now + (takes ?? .ms(Int64.random(in: 5...30, using: &rng))))
    }

    func monitorDue(_ rid: String, _ generation: UInt64, on m: Member) {
        let i = Int(m.node.rawValue)
        guard slots[i].node?.incarnation == m.incarnation, let (g, every, promoted) = slots[i].monitors[rid], g == generation else { return }
        if case .paused = slots[i].state {  // the daemon's monitor thread is frozen too
            return queue.push(.monitorDue(m, rid, generation: generation), at: now + .ms(10))
        }
        let found = truth(rid, on: m.node)
        if found == (promoted ? .promoted : .running) {
            return queue.push(.monitorDue(m, rid, generation: generation), at: now + every)
        }
        slots[i].monitors[rid] = nil
        diedUnnoticed[rid]?.remove(m.node)
        apply(.resourceDone(id: rid, .monitor, found), to: m.node)
    }

    /// What an agent's probe or monitor finds on a node.
    func truth(_ rid: String, on n: NodeID) -> ResourceOutcome {
        guard resourceActive[rid, default: []].contains(n) else { return .stopped }
        if brokenPromoted[rid, default: []].contains(n) { return .failedPromoted }
        return resourcePromoted[rid, default: []].contains(n) ? .promoted : .running
    }

    func resourceOp(_ order: ResourceOrder, on m: Member) {
        let i = Int(m.node.rawValue)
        guard slots[i].node?.incarnation == m.incarnation else { return }
        if case .paused = slots[i].state {  // the agent runs, the frozen daemon hears of it later
            return queue.push(.resourceOp(m, order), at: now + .ms(10))
        }
        slots[i].running[order.id] = nil
        if agentMissing[order.id]?.contains(m.node) == true {
            _ = apply(.resourceDone(id: order.id, order.op, order.op == .stop ? .stopped : .unavailable), to: m.node)
            return
        }
        // The agent ran: what it finds is known now (a notification looks at nothing).
        if order.op != .notify, diedUnnoticed[order.id]?.remove(m.node) != nil { foundDeadAt[order.id] = now }
        let outcome: ResourceOutcome
        switch order.op {
        case .probe, .monitor:
            outcome = truth(order.id, on: m.node)
        case .promote where resourceActive[order.id, default: []].contains(m.node):
            resourcePromoted[order.id, default: []].insert(m.node)
            outcome = .promoted
            checkPromoted(order.id, on: m.node)
        case .demote where resourceActive[order.id, default: []].contains(m.node):
            resourcePromoted[order.id]?.remove(m.node)
            brokenPromoted[order.id]?.remove(m.node)
            outcome = .running
        case .promote, .demote:
            outcome = .failed  // it died meanwhile
        case .start:
            resourceActive[order.id, default: []].insert(m.node)
            outcome = .running
            let where_ = resourceActive[order.id, default: []].filter { slots[Int($0.rawValue)].node != nil }
            if let clone = config.resources.units.first(where: { $0.resources.contains(order.id) })?.clone {
                checkCloneMax(order.id, clone, active: where_, on: m.node)
            } else if where_.count > 1 {
                invariants.fail(.doubleActive, m.node, "\(order.id) started while also active on \(where_.filter { $0 != m.node }.sorted())", at: now)
            }
        case .stop:
            resourceActive[order.id]?.remove(m.node)
            resourcePromoted[order.id]?.remove(m.node)
            brokenPromoted[order.id]?.remove(m.node)
            outcome = .stopped
        case .notify:
            if let info = order.notify { noteNotify(order.id, info, on: m.node) }
            outcome = .running
        case .unmonitor:
            return  // handled in runResource
        }
        apply(.resourceDone(id: order.id, order.op, outcome), to: m.node)
    }
}

extension Simulation {
    /// Groups start in order and stop in reverse order on each node: a member starts only where
    /// every earlier member runs, and stops only where no later member runs or starts (a file
    /// system is never unmounted under a running database). Judged when the node orders the
    /// operation (seed 710, 5 nodes: an earlier member's death found while a start ran is no fault
    /// of that start; the stop that followed it is what must wait).
    func checkGroupOrder(_ order: ResourceOrder, on n: NodeID) {
        guard order.op == .start || order.op == .stop,
              let u = config.resources.units.first(where: { $0.resources.contains(order.id) }), u.resources.count > 1,
              let i = u.resources.firstIndex(of: order.id) else { return }
        let slot = slots[Int(n.rawValue)]
        let here = { (rid: String) in self.resourceActive[rid, default: []].contains(n) || slot.running[rid] == .start }
        let diedUnseen = { (rid: String) in self.diedUnnoticed[rid, default: []].contains(n) }
        if order.op == .start, let missing = u.resources[..<i].first(where: { !here($0) && !diedUnseen($0) }) {
            invariants.fail(.groupOrder, n, "\(order.id) started while \(missing) (earlier in its group) is not running there", at: now)
        }
        if order.op == .stop, let later = u.resources[(i + 1)...].first(where: here) {
            invariants.fail(.groupOrder, n, "\(order.id) stopped while \(later) (later in its group) still runs there", at: now)
        }
    }

    /// Liveness after a quiet period: in a quorate cluster with nothing left to fence, every
    /// resource the placement can put somewhere runs exactly there (and nowhere else).
    func checkResourcesRun(_ running: [Node]) {
        guard !config.resources.isEmpty, let first = running.first, first.view.quorate, first.pendingFences.isEmpty else { return }
        // A node in maintenance leaves its resources unmanaged (perhaps stopped, still counted there).
        guard first.adminState.maintenance.intersection(first.view.nodes).isEmpty else { return }
        let units = Rules.apply(first.adminUnits, attributes: first.attributesByNode, nodes: first.view.nodes, policy: config.resources)
        var input = PlacementInput(units: units, members: first.view.nodes, quorate: true)
        input.standby = first.adminState.standby
        for (rid, nodes) in resourceActive { if let n = nodes.first { input.current[rid] = n } }
        input.orders = config.resources.orders
        for u in units where u.clone != nil {
            for rid in u.resources { input.active[rid] = NodeSet(resourceActive[rid, default: []].filter { slots[Int($0.rawValue)].node != nil }) }
            if u.clone?.promotable == true, let rid = u.resources.first {
                input.promoted[rid] = NodeSet(resourcePromoted[rid, default: []].filter { slots[Int($0.rawValue)].node != nil })
            }
        }
        for (n, entries) in first.resourceReports where first.view.nodes.contains(n) {
            for (rid, e) in entries where e.failCount > 0 { input.failCounts[rid, default: [:]][n] = Int(e.failCount) }
        }
        checkDefinitionsCurrent()
        var placed = Placer.place(input)
        Orders.propagate(&placed, units, config.resources.orders)
        checkRoles(first, placed: placed)
        for (rid, p) in placed {
            let active = resourceActive[rid, default: []].filter { slots[Int($0.rawValue)].node != nil }
            switch p {
            case .on(let n) where active != [n]:
                invariants.fail(.resourceLiveness, nil, "\(rid) should run on \(n) after the quiet period; active on \(active.sorted())", at: now)
            case .instances(let s) where NodeSet(active) != s:
                invariants.fail(.resourceLiveness, nil, "\(rid) (clone) should run on \(s) after the quiet period; active on \(active.sorted())", at: now)
            case .stopped where !active.isEmpty:
                invariants.fail(.resourceLiveness, nil, "\(rid) has no place but is active on \(active.sorted())", at: now)
            default:
                break
            }
        }
    }
}
