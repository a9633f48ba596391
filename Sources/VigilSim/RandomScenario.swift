import VigilCore

/// Faults a random scenario draws from.
public enum Fault: CaseIterable, Sendable {
    case partition, cutOneLink, cutAllLinks, crashRestart, pause, leaveRejoin, lossBurst
}

/// A seeded random scenario: start-up, then a few faults each followed by a quiet period that ends
/// with an agreement check. Background loss, jitter and duplication are on throughout; some seeds
/// also have an attacker sending forged, mutated and replayed frames.
public struct RandomScenario: Sendable {
    public var config: CoreConfig
    public var links: [LinkModel]
    public var steps: [(Instant, Step)] = []
    public var end = Instant.zero
    /// Fence devices of a fencing scenario (see `withFencing`).
    public var devices: [String: FenceDeviceModel] = [:]
    /// Changes go through the replicated document (applied on one node, spread by the nodes).
    public var documents = false

    /// Time after the last fault heals by which all running nodes must agree on one view:
    /// start-up wait, detection, install, two proposal time-outs for loss, and slack.
    public static func quietPeriod(_ t: Timing) -> TimeSpan {
        t.joinWait + t.detectionBound + t.installBound + t.ackTimeout * 2 + t.interval * 10
    }

    public init(nodes n: Int, seed: UInt64, selfPauseRule: Bool = true, fencing: Bool = false, fenceGate: Bool = true,
                attributes: Bool = false, applyRules: Bool = true, orders: Bool = false, applyOrders: Bool = true,
                clones: Bool = false, promotable: Bool = false, promoteGate: Bool = true, reconfigure: Bool = false,
                policyGate: Bool = true, documents: Bool = false, newestDocumentWins: Bool = true) {
        var rng = SeededRandom(seed: seed &* 0x2545_F491_4F6C_DD1D)
        let interval = TimeSpan.ms([10, 20, 50].randomElement(using: &rng)! * (n > 8 ? 2 : 1))
        let timing = Timing(interval: interval, deadline: interval * Int64.random(in: 3...6, using: &rng))
        config = .uniform(nodes: n, links: 2, timing: timing)
        config.selfPauseRule = selfPauseRule
        config.fenceGate = fenceGate
        config.applyRules = applyRules
        config.applyOrders = applyOrders
        config.promoteGate = promoteGate
        config.policyGate = policyGate
        config.newestDocumentWins = newestDocumentWins
        self.documents = documents && reconfigure && fencing
        var extraQuiet = TimeSpan.zero
        if fencing {
            // Drawn from their own generator so the rest of the scenario matches the seed without fencing.
            var frng = SeededRandom(seed: seed &* 0x94D0_49BB_1331_11EB)
            extraQuiet = RandomScenario.addFencing(&config, &devices, &frng)
        }
        links = (0..<2).map { _ in
            var m = LinkModel()
            m.loss = Double.random(in: 0...0.05, using: &rng)
            m.delay = .us(Int64.random(in: 50...2000, using: &rng))
            m.jitter = TimeSpan(nanoseconds: Int64.random(in: 0...(interval.nanoseconds / 4), using: &rng))
            m.duplication = Double.random(in: 0...0.02, using: &rng)
            return m
        }
        // Attribute writes: their own generator; quiet periods long enough for a digest repair.
        var xrng = SeededRandom(seed: seed &* 0xA076_1D64_78BD_642F)
        if attributes { extraQuiet = extraQuiet + .seconds(1) }
        // A policy change adds probes, drains and restarts, and a lost report or notification is
        // sent again after a second (seed 325 with --promotable: the promote came after the check).
        if reconfigure { extraQuiet = extraQuiet + .seconds(1) }
        // A change applied on a node that is then fenced spreads once it has rebooted and rejoined
        // (seed 117 with --documents: applied 1 ms before a partition cut it off).
        if self.documents { extraQuiet = extraQuiet + .seconds(2) }
        if orders && fencing {
            // The group before web1 (mandatory, symmetrical), web1 before web2 (optional), and
            // web2 rather with the group (advisory colocation).
            config.resources.orders = [OrderConstraint(first: "g-ip", then: "web1"),
                                       OrderConstraint(first: "web1", then: "web2", mandatory: false)]
            config.resources.units[2].near = [PlacementUnit.Near(resource: "g-ip", score: 150)]
        }
        if clones && fencing { RandomScenario.addClones(&config) }
        // Promotion scores: their own generator (like the fencing), written as PAF's primary does.
        var prng = SeededRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15)
        if promotable && fencing { RandomScenario.addPromotable(&config) }
        if attributes && fencing {
            // Rules over the attributes the random writes set: the group never where pingd is
            // below 500 (absent is fine), web1 scored by master-db, and health migrate-on-red.
            config.resources.units[0].rules = [LocationRule(score: .score(PlacementUnit.never), expr: .compare("pingd", .lt, "500", nil))]
            config.resources.units[1].rules = [LocationRule(score: .attribute("master-db"), expr: .defined("master-db"))]
            config.resources.health = .migrateOnRed
        }
        let ids = config.nodes.map { $0 }
        var t = Instant.zero
        for id in ids { steps.append((t + TimeSpan(nanoseconds: Int64.random(in: 0...(interval.nanoseconds * 3), using: &rng)), .start(id))) }
        let quiet = RandomScenario.quietPeriod(timing) + extraQuiet
        t = t + quiet
        if promotable && fencing {
            for id in ids { steps.append((t - quiet / 2, .attribute(on: id, RandomScenario.scoreWrite(id, &prng)))) }
        }
        steps.append((t, .checkAgreement))
        // Operator changes (resource sweeps): drawn from their own generator, like the fencing.
        var arng = SeededRandom(seed: seed &* 0xBF58_476D_1CE4_E5B9)
        // Resources dying behind the cluster's back (found by their monitors): their own generator too.
        var mrng = SeededRandom(seed: seed &* 0xD6E8_FEB8_6659_FD93)
        // Live configuration changes, taken by each node at its own moment: their own generator.
        var crng = SeededRandom(seed: seed &* 0x8CB9_2BA7_2F3D_8DD7)
        var policy = config.resources
        var serial = policy.version, epoch: UInt32 = 1
        for _ in 0..<Int.random(in: 2...4, using: &rng) {
            let d = TimeSpan(nanoseconds: Int64.random(in: interval.nanoseconds...(timing.deadline.nanoseconds * 4), using: &rng))
            addFault(Fault.allCases.randomElement(using: &rng)!, at: t, for: d, ids: ids, &rng)
            if fencing && arng.chance(0.6) {
                let at = t + TimeSpan(nanoseconds: Int64.random(in: 0...d.nanoseconds, using: &arng))
                let on = ids.randomElement(using: &arng)!
                if promotable && arng.chance(0.3) {  // a switchover, or its constraint cleared
                    let r: AdminRequest = arng.chance(0.7) ? .movePromoted("pg", to: ids.randomElement(using: &arng)!) : .clear("pg")
                    steps.append((at, .admin(on: on, r)))
                } else {
                    steps.append((at, .admin(on: on, RandomScenario.adminRequest(ids, &arng, also: clones && fencing ? ["ping", "fs"] : []))))
                }
            }
            if reconfigure && fencing && crng.chance(0.7) {
                let at = t + TimeSpan(nanoseconds: Int64.random(in: 0...d.nanoseconds, using: &crng))
                if self.documents {
                    // On one node; now and then a second change made at once on another (a conflict).
                    let base = policy
                    for k in 0..<(crng.chance(0.3) ? 2 : 1) {
                        serial += 1
                        policy = PolicyChange.draw(base, version: serial, nodes: ids, &crng)
                        if crng.chance(0.1) { epoch += 1 }
                        let apart = TimeSpan.ms(Int64(k) * Int64.random(in: 0...50, using: &crng))
                        steps.append((at + apart, .applyDocument(on: ids.randomElement(using: &crng)!, policy,
                                                                 filler: Int.random(in: 0...3000, using: &crng), epoch: epoch)))
                    }
                } else {
                    policy = PolicyChange.draw(policy, nodes: ids, &crng)
                    for id in ids {
                        let lag = TimeSpan.ms(Int64.random(in: 0...400, using: &crng))
                        steps.append((at + lag, .adoptResources(on: id, policy)))
                    }
                }
            }
            for _ in 0..<2 where fencing && mrng.chance(0.5) {
                let at = t + TimeSpan(nanoseconds: Int64.random(in: 0...d.nanoseconds, using: &mrng))
                let rid = config.resources.ids.randomElement(using: &mrng)!
                steps.append((at, .failResourceEverywhere(rid)))
            }
            for _ in 0..<2 where promotable && fencing && prng.chance(0.6) {
                let at = t + TimeSpan(nanoseconds: Int64.random(in: 0...d.nanoseconds, using: &prng))
                let on = ids.randomElement(using: &prng)!
                steps.append((at, .attribute(on: on, RandomScenario.scoreWrite(ids.randomElement(using: &prng)!, &prng))))
            }
            for _ in 0..<3 where attributes && xrng.chance(0.8) {
                let at = t + TimeSpan(nanoseconds: Int64.random(in: 0...d.nanoseconds, using: &xrng))
                steps.append((at, .attribute(on: ids.randomElement(using: &xrng)!, RandomScenario.attributeRequest(ids, &xrng))))
            }
            t = t + d + quiet
            steps.append((t, .checkAgreement))
        }
        end = t + interval
        if rng.chance(0.5) {
            for _ in 0..<30 {
                let at = Instant(nanoseconds: Int64.random(in: 0...end.nanoseconds, using: &rng))
                steps.append((at, .attack(ids.randomElement(using: &rng)!, Attack.allCases.randomElement(using: &rng)!)))
            }
        }
    }

    /// Fencing for every node: one working power device ("power", 20-200 ms), and for some seeds a
    /// broken first level ("flaky": fails or hangs) so that attempts escalate; some nodes have no
    /// device and rely on self-fencing by watchdog. Returns how much longer quiet periods must be.
    static func addFencing(_ config: inout CoreConfig, _ devices: inout [String: FenceDeviceModel],
                           _ rng: inout SeededRandom) -> TimeSpan {
        var f = FencingPolicy()
        f.enabled = true
        f.action = rng.chance(0.5) ? .reboot : .off
        f.retryBackoff = .ms(200)
        f.maxBackoff = .ms(800)
        f.attemptBound = .seconds(1)
        devices["power"] = FenceDeviceModel(.works, latencyMs: 20...200)
        var flaky = FenceDeviceModel(rng.chance(0.5) ? .fails : .hangs, latencyMs: 5...50)
        flaky.timeout = .ms(300)
        devices["flaky"] = flaky
        let escalate = rng.chance(0.3)
        let watchdog = rng.chance(0.3)
        // The bound exceeds a reset node's reboot (500 ms) and rejoin: with a shorter one, one reset
        // leaves the others inquorate long enough to reset too, and the cluster never settles
        // (seen at 200 ms: seed 941). Safety holds either way; this is about liveness.
        if watchdog { f.watchdog = WatchdogPolicy(timeout: .seconds(2), quorumLossBound: .ms(1500)) }
        for n in config.nodes {
            if watchdog && rng.chance(0.5) { continue }  // no device: the watchdog safe wait applies
            f.levels[n] = escalate ? [["flaky"], ["power"]] : [["power"]]
        }
        config.fencing = f
        // Resources: a group of two (preferring a random node) and an N+M pair spread apart.
        let ids = config.nodes.map { $0 }
        config.resources = ResourcePolicy(units: [
            PlacementUnit(resources: ["g-ip", "g-db"], location: [ids.randomElement(using: &rng)!: 100]),
            PlacementUnit(resources: ["web1"], spread: "web"),
            PlacementUnit(resources: ["web2"], spread: "web"),
        ])
        for rid in config.resources.ids { config.resources.monitorInterval[rid] = .ms(Int64.random(in: 100...500, using: &rng)) }
        let wait = f.watchdog.map { $0.safeWait(config.timing) + $0.timeout } ?? .zero
        // Two attempts with a failing first level, a reboot, and time for the rebooted node to join.
        return wait + .ms(2 * (300 + 200)) + .ms(500) + quietPeriod(config.timing) + .ms(500)
    }

    /// Clones beside `addFencing`'s resources: "ping" on every node, a bounded group clone
    /// ("fs" then "app", at most 2) interleaved after it, the group g-ip after ping (all instances),
    /// and web1 only where a ping instance runs.
    static func addClones(_ config: inout CoreConfig) {
        config.resources.units += [
            PlacementUnit(resources: ["ping"], clone: CloneSpec(id: "ping-clone")),
            PlacementUnit(resources: ["fs", "app"], clone: CloneSpec(id: "app-clone", max: 2, interleave: true)),
        ]
        config.resources.units[1].with = "ping"
        config.resources.orders += [OrderConstraint(first: "ping", then: "fs"), OrderConstraint(first: "ping", then: "g-ip")]
        for rid in ["ping", "fs", "app"] { config.resources.monitorInterval[rid] = .ms(200) }
    }

    /// A promotable clone "pg" beside `addFencing`'s resources (one promoted, on every node), with
    /// its two monitors.
    static func addPromotable(_ config: inout CoreConfig) {
        config.resources.units.append(PlacementUnit(resources: ["pg"], stickiness: 1, clone: CloneSpec(id: "pg-clone", notify: true, promotable: true)))
        // PAF's reference setup: the address with the primary, after its promote, stopped after its demote.
        var ip = PlacementUnit(resources: ["pg-ip"], with: "pg")
        ip.withPromoted = true
        config.resources.units.append(ip)
        config.resources.orders += [OrderConstraint(first: "pg", then: "pg-ip", symmetrical: false, firstAction: .promote),
                                    OrderConstraint(first: "pg", then: "pg-ip", symmetrical: false, firstAction: .demote, thenAction: .stop)]
        config.resources.monitorInterval["pg-ip"] = .ms(200)
        config.resources.monitorInterval["pg"] = .ms(200)
        config.resources.promotedMonitorInterval["pg"] = .ms(150)
    }

    /// A promotion score for `n`'s instance of "pg", as an agent writes it (sometimes none, or negative).
    static func scoreWrite(_ n: NodeID, _ rng: inout SeededRandom) -> AttributeRequest {
        let key = AttributeKey(node: n, name: Promotion.scoreAttribute("pg"))
        if rng.chance(0.1) { return .delete(key) }
        let value = rng.chance(0.1) ? "-1" : String(Int.random(in: 0...10, using: &rng) * 100)
        return .set(key, value: value, lifetime: .forever, isPrivate: false, delay: .zero)
    }

    /// A random attribute write (a few names, any node's, sometimes dampened or a delete).
    static func attributeRequest(_ ids: [NodeID], _ rng: inout SeededRandom) -> AttributeRequest {
        let key = AttributeKey(node: ids.randomElement(using: &rng)!, name: ["pingd", "site", "master-db", "#health-disk"].randomElement(using: &rng)!)
        if rng.chance(0.15) { return .delete(key) }
        let delay = rng.chance(0.2) ? TimeSpan.ms(Int64.random(in: 50...200, using: &rng)) : .zero
        let value = key.name == "#health-disk" ? ["green", "yellow", "red"].randomElement(using: &rng)! : String(Int.random(in: 0...3, using: &rng) * 500)
        return .set(key, value: value, lifetime: rng.chance(0.3) ? .forever : .reboot, isPrivate: rng.chance(0.1), delay: delay)
    }

    /// A random operator change on the resources `addFencing` configures.
    static func adminRequest(_ ids: [NodeID], _ rng: inout SeededRandom, also: [String] = []) -> AdminRequest {
        let rid = (["g-ip", "g-db", "web1", "web2"] + also).randomElement(using: &rng)!
        let node = ids.randomElement(using: &rng)!
        switch Int.random(in: 0..<11, using: &rng) {
        case 8: return .maintenance(node, true)
        case 9, 10: return .maintenance(node, false)
        case 0: return .standby(node, true)
        case 1: return .standby(node, false)
        case 2: return .move(rid, to: node)
        case 3: return .move(rid, to: nil)
        case 4: return .ban(rid, rng.chance(0.5) ? node : nil)
        case 5: return .clear(rid)
        case 6: return .cleanup(rid)
        default: return .restart(rid)
        }
    }

    private mutating func addFault(_ f: Fault, at t: Instant, for d: TimeSpan, ids: [NodeID], _ rng: inout SeededRandom) {
        let victim = ids.randomElement(using: &rng)!
        let link = Int.random(in: 0..<links.count, using: &rng)
        let healAt = t + d
        switch f {
        case .partition:
            var groups: [[NodeID]] = [[], []]
            for id in ids { groups[Int.random(in: 0...1, using: &rng)].append(id) }
            steps += [(t, .partition(groups)), (healAt, .heal)]
        case .cutOneLink:
            steps += [(t, .cut(victim, link: link, true)), (healAt, .heal)]
        case .cutAllLinks:
            steps += links.indices.map { (t, .cut(victim, link: $0, true)) } + [(healAt, .heal)]
        case .crashRestart:
            steps += [(t, .crash(victim)), (healAt, .restart(victim))]
        case .pause:
            steps += [(t, .pause(victim)), (healAt, .resume(victim))]
        case .leaveRejoin:
            steps += [(t, .leave(victim)), (healAt, .restart(victim))]
        case .lossBurst:
            var m = links[link]
            m.loss = Double.random(in: 0.2...0.4, using: &rng)
            steps += [(t, .setLink(link, m)), (healAt, .setLink(link, links[link]))]
        }
    }

    /// Runs the scenario; returns the simulation for inspection.
    public func run(seed: UInt64, observer: ((Instant, NodeID, Notice) -> Void)? = nil,
                    digest: Bool = false) -> Simulation {
        let sim = Simulation(config: config, links: links, seed: seed)
        if documents { sim.replicateDocuments() }
        sim.devices = devices
        sim.observer = observer
        sim.recordsDigest = digest
        for (t, s) in steps { sim.schedule(s, at: t) }
        sim.run(until: end)
        return sim
    }
}

/// Outcome of many seeds.
public struct SweepResult: Sendable {
    public var seeds = 0
    public var failures: [(seed: UInt64, violations: [Violation])] = []
    /// Per seed, when the sweep recorded digests.
    public var digests: [(seed: UInt64, digest: TraceDigest)] = []
    public var events = 0
    public var simulated = TimeSpan.zero
    /// Summed over the seeds (fencing sweeps).
    public var fence = FenceStats()

    public init() {}

    /// Another part of the same sweep (run beside this one): counts summed, seeds in order.
    public mutating func merge(_ o: SweepResult) {
        seeds += o.seeds
        events += o.events
        simulated = simulated + o.simulated
        fence.add(o.fence)
        failures = (failures + o.failures).sorted { $0.seed < $1.seed }
        digests = (digests + o.digests).sorted { $0.seed < $1.seed }
    }
}

public enum Sweep {
    public static func run<S: Sequence>(nodes: Int, seeds: S, selfPauseRule: Bool = true, fencing: Bool = false,
                           fenceGate: Bool = true, attributes: Bool = false, applyRules: Bool = true,
                           orders: Bool = false, applyOrders: Bool = true, clones: Bool = false,
                           promotable: Bool = false, promoteGate: Bool = true, reconfigure: Bool = false, policyGate: Bool = true,
                           documents: Bool = false, newestDocumentWins: Bool = true,
                           digest: Bool = false) -> SweepResult where S.Element == UInt64 {
        var r = SweepResult()
        for seed in seeds {
            let sc = RandomScenario(nodes: nodes, seed: seed, selfPauseRule: selfPauseRule, fencing: fencing, fenceGate: fenceGate,
                                    attributes: attributes, applyRules: applyRules, orders: orders, applyOrders: applyOrders,
                                    clones: clones, promotable: promotable, promoteGate: promoteGate, reconfigure: reconfigure,
                                    policyGate: policyGate, documents: documents, newestDocumentWins: newestDocumentWins)
            let sim = sc.run(seed: seed, digest: digest)
            if digest { r.digests.append((seed, sim.digest)) }
            r.fence.add(sim.fenceStats)
            r.seeds += 1
            r.events += sim.eventsProcessed
            r.simulated = r.simulated + (sc.end - .zero)
            if !sim.violations.isEmpty { r.failures.append((seed, sim.violations)) }
        }
        return r
    }
}
