import Foundation
import VigilCore
import VigilSim
import XCTest

/// The scenarios people argue about, as readable traces (etcd raft's testdata, Pacemaker's
/// scheduler scenarios): every notice of every node, in order, checked in under Scenarios/. A
/// change of behaviour shows as a diff of these files. Rewrite them, after reading the diff, with
/// `VIGIL_REWRITE=1 swift test --filter GoldenTraceTests`.
final class GoldenTraceTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scenarios")
    let timing = Timing(interval: .ms(10), deadline: .ms(40))
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    /// Runs `steps` (time from the start, step) on a cluster and renders its trace.
    func trace(_ name: String, _ config: CoreConfig, until end: Instant, devices: [String: FenceDeviceModel] = [:],
               _ steps: [(Instant, Step)]) throws {
        let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: 7)
        sim.devices = devices
        var lines = ["# \(name): \(config.nodes.count) nodes, interval \(config.timing.interval), deadline \(config.timing.deadline)"]
        for (t, s) in steps {
            sim.schedule(s, at: t)
            lines.append("# t=\(t) step \(s)")
        }
        sim.observer = { t, node, notice in
            if case .rejected = notice { return }
            lines.append("t=\(t) \(node) \(GoldenTraceTests.readable(notice))")
        }
        sim.effectObserver = { t, node, effect in
            let text: String
            switch effect {
            case .fence(let o): text = "fence order \(o.id): \(o.action) \(o.target) level \(o.level) \(o.devices)"
            case .abortFence(let id): text = "abort fence order \(id)"
            case .resource(let o): text = "run \(o.op) \(o.id)" + (o.every > .zero ? " every \(o.every)" : "")
            case .persist(let a): text = "persist admin state version \(a.version)"
            case .watchdog(let w): text = "watchdog \(w)"
            default: return
            }
            lines.append("t=\(t) \(node) => \(text)")
        }
        sim.run(until: end)
        for v in sim.violations { lines.append("VIOLATION \(v)") }
        XCTAssertTrue(sim.violations.isEmpty, "\(name): \(sim.violations.prefix(3))")
        let text = lines.joined(separator: "\n") + "\n"
        let file = GoldenTraceTests.dir.appendingPathComponent(name + ".trace")
        if ProcessInfo.processInfo.environment["VIGIL_REWRITE"] == "1" {
            try FileManager.default.createDirectory(at: GoldenTraceTests.dir, withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let want = try String(contentsOf: file, encoding: .utf8)
        guard want != text else { return }
        let (a, b) = (want.split(separator: "\n"), text.split(separator: "\n"))
        let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        XCTFail("\(name).trace differs from line \(first + 1): want \(first < a.count ? String(a[first]) : "(end)"), "
                + "got \(first < b.count ? String(b[first]) : "(end)") -- VIGIL_REWRITE=1 swift test --filter GoldenTraceTests")
    }

    /// Notices without module prefixes.
    static func readable(_ n: Notice) -> String {
        String(describing: n).replacing("VigilCore.", with: "").replacing("VigilWire.", with: "")
    }

    func config(_ n: Int, fencing: Bool = false) -> CoreConfig {
        var c = CoreConfig.uniform(nodes: n, links: 2, timing: timing)
        if fencing {
            c.fencing.enabled = true
            for id in c.nodes { c.fencing.levels[id] = [["power"]] }
        }
        return c
    }

    let power = ["power": FenceDeviceModel(.works, latencyMs: 40...40)]

    func testStartup() throws {
        try trace("startup", config(3), until: .ms(400), [(.zero, .start(n1)), (.ms(3), .start(n2)), (.ms(7), .start(n3))])
    }

    /// A node goes silent on both links: the survivors see it dead, install a view without it
    /// and (no fencing configured) move on.
    func testSilentDeath() throws {
        try trace("silent-death", config(3), until: .ms(900),
                  [(.zero, .start(n1)), (.zero, .start(n2)), (.zero, .start(n3)), (.ms(500), .crash(n3))])
    }

    /// One link of one node lost: a link event, never a membership change; healed: link up.
    func testOneLinkCut() throws {
        try trace("one-link-cut", config(3), until: .ms(900),
                  [(.zero, .start(n1)), (.zero, .start(n2)), (.zero, .start(n3)),
                   (.ms(400), .cut(n2, link: 0, true)), (.ms(700), .heal)])
    }

    /// A partition 2 | 1: the pair stays quorate and fences the single node (rebooted by the
    /// device, it rejoins); the single node, inquorate, fences nobody.
    func testPartitionFencesTheMinority() throws {
        var c = config(3, fencing: true)
        c.fencing.action = .reboot
        try trace("partition-fence", c, until: .ms(2500), devices: power,
                  [(.zero, .start(n1)), (.zero, .start(n2)), (.zero, .start(n3)),
                   (.ms(500), .partition([[n1, n2], [n3]])), (.ms(900), .heal)])
    }

    /// A group (fs, db) runs on n1 and fails over to n2 only after n1 was fenced: started in
    /// order, one member at a time.
    func testGroupFailoverAfterFencing() throws {
        var c = config(3, fencing: true)
        c.resources = ResourcePolicy(units: [PlacementUnit(resources: ["fs", "db"], location: [n1: 50])],
                                     monitorInterval: ["fs": .ms(200), "db": .ms(200)])
        try trace("group-failover", c, until: .ms(4000), devices: power,
                  [(.zero, .start(n1)), (.zero, .start(n2)), (.zero, .start(n3)), (.ms(2500), .crash(n1))])
    }

    /// A resource dies behind the cluster's back: its monitor finds it and it restarts in place.
    func testMonitorFindsAFailure() throws {
        var c = config(3, fencing: true)
        c.resources = ResourcePolicy(units: [PlacementUnit(resources: ["web"], location: [n2: 50])],
                                     monitorInterval: ["web": .ms(100)])
        try trace("monitor-failure", c, until: .ms(3000), devices: power,
                  [(.zero, .start(n1)), (.zero, .start(n2)), (.zero, .start(n3)), (.ms(2500), .failResource(on: n2, "web"))])
    }
}
