/// The owner's decision, pure: from what the owner knows (its view, every member's last report,
/// where resources were last seen, the starts it sent that no report has confirmed yet, the
/// nodes pending fencing, the operator's state and the policy) to an ordered list of decisions.
/// `Node` carries them out in that order (Supervisor.swift); nothing here sends or changes state.
///
/// Rules (each names the race that taught it):
/// - Only from reports every member made in this view, all probed: a member obeys no command of
///   an older view once it installed this one, so such reports include every start the previous
///   owner got through (seed 258: a start sent by the old owner just before a merge).
/// - At cluster start-up, while nothing runs anywhere, wait up to `placementStartupWait` for every
///   configured node (Pacemaker's dc-deadtime, shorter); never once something runs (a restarted
///   owner must not hold back a failover).
/// - A start sent and not yet seen obeyed counts as possibly active on its target (seed 3: the
///   target changed before the first start was reported, and the resource was started twice).
/// - What was last seen on a node that has left the view is forgotten once that node needs no
///   fencing (fenced or left cleanly); until then it is frozen there.
/// - A stop that failed (stop_failed) escalates its node to fencing, before anything moves.
/// - Per unit: stop where it must not run (away from the target, or failed), a group in reverse
///   order one member at a time, and only then start on the target, in order, one member at a
///   time (the group-order bug: every stop was once sent at once). on_fail = block leaves a
///   failed member (and its group) as it is; fence fences its node.
public enum OwnerDecision {
    public enum Decision: Equatable, Sendable {
        /// `resource`'s stop failed on `node`: fence the node before it runs anywhere else.
        case escalate(String, on: NodeID)
        /// on_fail = fence: a failed member's node must be fenced.
        case fence(NodeID)
        case stop(String, on: NodeID)
        case start(String, on: NodeID)
        /// A promotable clone's instance takes, or gives up, the promoted role (Promotion.swift).
        case promote(String, on: NodeID)
        case demote(String, on: NodeID)
    }

    public struct Inputs: Equatable, Sendable {
        public var view: View
        /// Every member's last report (the owner's own included).
        public var reports: [NodeID: PeerReport] = [:]
        /// The last node seen with each resource possibly active (kept after that node is lost).
        public var lastKnown: [String: NodeID] = [:]
        /// Starts sent that no report of their target has shown obeyed yet (resource -> node -> seq).
        public var unackedStarts: [String: [NodeID: UInt32]] = [:]
        /// Nodes pending fencing.
        public var pending: NodeSet = .empty
        /// Members that can become pending (their incarnation is not fenced already).
        public var fenceable: NodeSet = .empty
        /// Resources of nodes pending fencing stay frozen (off only in the planted-bug test).
        public var fenceGate = true
        public var admin = AdminState()
        /// The placement units with the operator's constraints applied.
        public var units: [PlacementUnit] = []
        public var onFail: [String: OnFail] = [:]
        /// Ordering constraints between units (Orders.swift); off only in the planted-bug test.
        public var orders: [OrderConstraint] = []
        public var applyOrders = true
        /// Promotes sent that no report of their target has shown obeyed yet (as `unackedStarts`).
        public var unackedPromotes: [String: [NodeID: UInt32]] = [:]
        /// The public node attributes by node: promotion scores (`master-<resource>`).
        public var attributes: [NodeID: [String: String]] = [:]
        /// No promote while a node pending fencing may hold the promoted role (off only in the
        /// planted-bug test).
        public var promoteGate = true
        public var configuredNodes = 0
        /// The owner's resource policy: it decides only from members that run it and have probed
        /// each of its resources (a member that has not taken a change yet knows none of it).
        public var policy: UInt64 = 0
        /// Off only in the planted-bug check: members on another policy count as on this one.
        public var policyGate = true
        /// Since this node started.
        public var uptime = TimeSpan.zero
        /// Resources bound to a site ticket this site may not use now, with its loss policy
        /// (Tickets/Tickets.swift): stop, fence their nodes, freeze, or demote.
        public var ticketLoss: [String: TicketLoss] = [:]

        public init(view: View) { self.view = view }
    }

    public struct Verdict: Equatable, Sendable {
        /// Resources whose last known node left the view and needs no fencing: forget where they ran.
        public var forget: [String] = []
        /// Unconfirmed starts to nodes no longer in the view (`lastKnown`, set at the send, holds them).
        public var dropUnacked: [Unacked] = []
        public var decisions: [Decision] = []
        /// Where each placement unit goes (by its first resource), as the decisions carry it out.
        public var placed: [String: Placement] = [:]
    }

    public struct Unacked: Equatable, Sendable {
        public var resource: String
        public var node: NodeID
    }

    /// How long a freshly started owner waits for all configured nodes before placing resources.
    public static let placementStartupWait = TimeSpan.seconds(2)

    /// Nil while the owner must wait (reports missing or of an older view, or the start-up wait).
    public static func make(_ i: Inputs) -> Verdict? {
        let members = i.view.nodes
        guard members.allSatisfy({ i.reports[$0]?.probed == true && i.reports[$0]?.view == i.view.id }) else { return nil }
        guard members.allSatisfy({ n in
            (i.reports[n]?.policy == i.policy || !i.policyGate) && i.units.allSatisfy { $0.resources.allSatisfy { i.reports[n]?.entries[$0] != nil } }
        }) else { return nil }
        guard members.count == i.configuredNodes || i.uptime >= placementStartupWait || !i.lastKnown.isEmpty else { return nil }
        return decide(i)
    }

    /// The decision once the owner need not wait (and `vigilctl config diff`'s placement preview,
    /// which does not wait for reports of a policy nobody runs yet).
    static func decide(_ i: Inputs) -> Verdict {
        let members = i.view.nodes
        var v = Verdict()
        var lastKnown = i.lastKnown
        for (rid, n) in i.lastKnown where !members.contains(n) && (!i.pending.contains(n) || !i.fenceGate) {
            v.forget.append(rid)
            lastKnown[rid] = nil
        }
        var pending = i.pending
        var failCounts: [String: [NodeID: Int]] = [:]
        var active: [String: [NodeID]] = [:]
        for n in members {
            for (rid, e) in i.reports[n]?.entries ?? [:] {
                if e.state.mayBeActive { active[rid, default: []].append(n) }
                if e.failCount > 0 { failCounts[rid, default: [:]][n] = Int(e.failCount) }
                if e.state == .stopFailed, !pending.contains(n) {
                    v.decisions.append(.escalate(rid, on: n))
                    if i.fenceable.contains(n) { pending.insert(n) }
                }
            }
        }
        for (rid, starts) in i.unackedStarts {
            for n in starts.keys.sorted() {
                if members.contains(n) {
                    if !(active[rid]?.contains(n) ?? false) { active[rid, default: []].append(n) }
                } else {
                    v.dropUnacked.append(Unacked(resource: rid, node: n))
                }
            }
        }
        let maintenance = i.admin.maintenance.intersection(members)
        var current: [String: NodeID] = [:]
        for (rid, n) in lastKnown {
            current[rid] = active[rid]?.first(where: maintenance.contains) ?? active[rid]?.sorted().first ?? n
        }
        var input = PlacementInput(units: i.units, members: members, quorate: i.view.quorate)
        let frozen = applyTicketLoss(i, &input, active, &v)
        // A member stopping its resources to leave gracefully is placed nothing, as in standby
        // (the chaos run: a leaving owner kept placing its group on itself until its slow stop
        // ended, so the group ran nowhere for a minute).
        input.standby = i.admin.standby.union(NodeSet(members.filter { i.reports[$0]?.leaving == true }))
        input.maintenance = maintenance
        input.unclean = i.fenceGate ? pending : .empty
        input.current = current
        input.failCounts = failCounts
        for u in i.units where u.clone != nil {
            for rid in u.resources { input.active[rid] = NodeSet(active[rid] ?? []) }
            if u.clone?.promotable == true, let rid = u.resources.first {
                input.promoted[rid] = NodeSet((active[rid] ?? []).filter { i.reports[$0]?.entries[rid]?.state.holdsPromoted == true })
            }
        }
        if i.applyOrders { input.orders = i.orders }
        var placed = Placer.place(input)
        let orders = i.applyOrders ? i.orders : []
        Orders.propagate(&placed, input.units, orders)
        v.placed = placed
        let unit = UnitDecision(inputs: i, active: active, maintenance: maintenance)
        let perUnit = input.units.map { u in u.resources.contains(where: frozen.contains) ? [] : unit.decide(u, placed[u.resources.first!]) }
        v.decisions += Orders.gate(perUnit, input.units, orders, placed, unit).flatMap { $0 }
        return v
    }
}

extension OwnerDecision {
    /// Units bound to a ticket this site may not use: placed nowhere (stop), placed nowhere and
    /// their nodes fenced (fence), no promoted instance (demote; other units stop), or left
    /// exactly as they are (freeze: returned, their decisions are dropped).
    static func applyTicketLoss(_ i: Inputs, _ input: inout PlacementInput, _ active: [String: [NodeID]],
                                _ v: inout Verdict) -> Set<String> {
        guard !i.ticketLoss.isEmpty else { return [] }
        var frozen: Set<String> = []
        for k in input.units.indices {
            guard let loss = input.units[k].resources.lazy.compactMap({ i.ticketLoss[$0] }).first else { continue }
            switch loss {
            case .freeze:
                frozen.formUnion(input.units[k].resources)
            case .demote where input.units[k].clone?.promotable == true:
                input.units[k].clone?.promotedMax = 0
            case .fence:
                for n in Set(input.units[k].resources.flatMap { active[$0] ?? [] }).sorted() where !v.decisions.contains(.fence(n)) {
                    v.decisions.append(.fence(n))
                }
                fallthrough
            default:
                for n in i.view.nodes { input.units[k].location[n] = PlacementUnit.never }
            }
        }
        return frozen
    }
}

/// The decision for one placement unit, given where its members may be active.
struct UnitDecision {
    let inputs: OwnerDecision.Inputs
    let active: [String: [NodeID]]
    let maintenance: NodeSet

    typealias Decision = OwnerDecision.Decision

    func state(_ rid: String, on n: NodeID) -> ResourceState {
        inputs.reports[n]?.entries[rid]?.state ?? .unknown
    }

    func onFail(_ rid: String) -> OnFail { inputs.onFail[rid] ?? .restart }

    func decide(_ u: PlacementUnit, _ placement: Placement?) -> [Decision] {
        if u.clone != nil {
            guard case .instances(let nodes)? = placement else { return decideClone(u, .empty) }
            return decideClone(u, nodes)
        }
        // Unmanaged: anything of the unit possibly active on a node in maintenance.
        if u.resources.contains(where: { active[$0]?.contains(where: maintenance.contains) ?? false }) { return [] }
        guard case .on(let target)? = placement else {
            // Frozen: wait for the fence. Stopped: stop everywhere.
            guard case .stopped? = placement else { return [] }
            return stopEverywhere(u)
        }
        var held: Set<NodeID> = []
        var (out, stopFrom) = stopsAway(u, from: NodeSet([target]), held: &held)
        guard stopFrom.isEmpty && held.isEmpty else { return out }
        // With a promoted instance: started once it is promoted there (not while it is promoting).
        if u.withPromoted, let w = u.with, state(w, on: target) != .promoted { return out }
        if let start = nextStart(u, on: target) { out.append(start) }
        return out
    }

    /// A member that must stop on a node (it runs away from `targets`, or failed) takes every
    /// later member there with it, in reverse order; on_fail = block holds the node as it is, fence
    /// fences it. Nodes in `held` are left alone. Returns the decisions and where stops begin.
    func stopsAway(_ u: PlacementUnit, from targets: NodeSet, held: inout Set<NodeID>) -> ([Decision], [NodeID: Int]) {
        var out: [Decision] = []
        var stopFrom: [NodeID: Int] = [:]
        for (i, rid) in u.resources.enumerated() {
            for n in active[rid] ?? [] where stopFrom[n] == nil && !held.contains(n) {
                let failed = state(rid, on: n) == .failed || state(rid, on: n) == .failedPromoted
                guard !targets.contains(n) || failed else { continue }
                switch (failed, onFail(rid)) {
                case (true, .block): held.insert(n)
                case (true, .fence): held.insert(n); out.append(.fence(n))
                default: stopFrom[n] = i
                }
            }
        }
        return (out + stopInReverse(u, from: stopFrom), stopFrom)
    }

    /// The start of the first member not running on `n` (the next follows its start), if it is stopped there.
    func nextStart(_ u: PlacementUnit, on n: NodeID) -> Decision? {
        for rid in u.resources {
            switch state(rid, on: n) {
            case .running, .promoted: continue
            case .stopped: return .start(rid, on: n)
            default: return nil
            }
        }
        return nil
    }

    /// Stops the unit wherever it may be active (in reverse order), unless it is unmanaged.
    func stopEverywhere(_ u: PlacementUnit) -> [Decision] {
        // A clone's instances are managed node by node: only those in maintenance stay.
        if u.clone == nil, u.resources.contains(where: { active[$0]?.contains(where: maintenance.contains) ?? false }) { return [] }
        var everywhere: [NodeID: Int] = [:]
        for rid in u.resources { for n in active[rid] ?? [] where !maintenance.contains(n) { everywhere[n] = 0 } }
        return stopInReverse(u, from: everywhere)
    }

    /// On each node, stops the last member of `u` (from index `from[node]` on) still possibly
    /// active there: a group stops in reverse order, one member at a time (its report of the
    /// stop brings the next decision).
    func stopInReverse(_ u: PlacementUnit, from: [NodeID: Int]) -> [Decision] {
        var out: [Decision] = []
        for (n, first) in from.sorted(by: { $0.key < $1.key }) {
            guard let i = u.resources.indices.last(where: { $0 >= first && active[u.resources[$0]]?.contains(n) == true })
            else { continue }
            let rid = u.resources[i]
            switch (state(rid, on: n), onFail(rid)) {
            case (.failed, .block), (.failedPromoted, .block): continue
            case (.failed, .fence), (.failedPromoted, .fence): out.append(.fence(n))
            // A promoted instance is demoted before it stops (Pacemaker's demote, then stop);
            // one whose promote or demote still runs is stopped once it ended.
            case (.promoted, _), (.failedPromoted, _): out.append(.demote(rid, on: n))
            case (.promoting, _), (.demoting, _): continue
            default: out.append(.stop(rid, on: n))
            }
        }
        return out
    }
}
