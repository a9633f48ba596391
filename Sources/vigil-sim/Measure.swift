import ArgumentParser
import Foundation
import VigilConfig
import VigilCore
import VigilSim

enum Scenario: String, ExpressibleByArgument, CaseIterable {
    case silentDeath = "silent-death"
    case frozen
    case steady
    /// Two nodes split; both race to fence the other (with and without delays).
    case fenceRace = "fence-race"
    /// Silent loss of one node to the cluster counting it fenced (device latency --fence-latency).
    case fenceTime = "fence-time"
}

struct Percent: ExpressibleByArgument {
    var value: Double
    init(value: Double) { self.value = value }
    init?(argument: String) {
        let s = argument.hasSuffix("%") ? String(argument.dropLast()) : argument
        guard let v = Double(s), (0...100).contains(v) else { return nil }
        value = v / 100
    }
}

extension VigilSimCommand {
    /// The operator's question: with these settings, how fast is detection, and how many false alarms?
    func measure() throws {
        var core = try loadCore()
        if let i = interval { core.timing.interval = .ms(i) }
        if let d = deadline { core.timing.deadline = .ms(d) }
        var links = core.links.map { _ -> LinkModel in
            var m = LinkModel()
            m.loss = loss.value
            m.jitter = core.timing.interval / 10
            return m
        }
        if let one = lossOneLink { links[0].loss = one.value }
        let lossText = links.enumerated().map { "link\($0.offset) \(($0.element.loss * 100).rounded1)%" }.joined(separator: ", ")
        print("cluster: \(core.nodes.count) nodes, \(core.links.count) links; interval \(core.timing.interval), deadline \(core.timing.deadline); loss \(lossText); jitter up to \(core.timing.interval / 10)")
        switch scenario {
        case .silentDeath, .frozen:
            let r = Experiments.detection(config: core, links: links, runs: runs, freeze: scenario == .frozen)
            print("scenario \(scenario.rawValue), \(runs) runs, victim node\(core.nodes.map { $0.rawValue }.max()!)")
            print("detection (death -> each survivor declares it dead): \(r.detection.summary)")
            print("new view  (death -> each survivor installs a view without it): \(r.install.summary)")
            print("survivors that never installed such a view: \(r.missed)")
            report(r.violations)
        case .steady:
            let r = Experiments.steady(config: core, links: links, duration: .seconds(seconds))
            print("scenario steady, \(Int(seconds)) simulated seconds after forming")
            print("false deaths: \(r.falseDeaths), view changes: \(r.viewChanges), link-down events: \(r.linkDowns)")
            report(r.violations)
        case .fenceRace:
            let latency = fenceLatencyMs.lowerBound...fenceLatencyMs.upperBound
            print("scenario fence-race: two nodes (two_node), full split, device latency \(latency) ms, \(runs) runs each")
            var all: [Violation] = []
            for (label, d, r) in [("no delay", TimeSpan.zero, TimeSpan.zero), ("random delay up to 5s", .zero, .seconds(5)),
                                  ("static delay 5s on node1", .seconds(5), .zero)] {
                let x = FenceExperiments.twoNodeRace(runs: runs, staticDelay: d, randomDelay: r, latencyMs: latency)
                print("  \(label): \(x)")
                all += x.violations
            }
            // The services ran on one node before the split (say, after a failover): who survives?
            for on in [NodeID(1), NodeID(2)] {
                for (label, d, p) in [("static delay 5s on node1", TimeSpan.seconds(5), TimeSpan.zero),
                                      ("static 5s on node1 + priority_delay 15s", .seconds(5), .seconds(15))] {
                    let x = FenceExperiments.twoNodeRace(runs: runs, staticDelay: d, randomDelay: .zero, priorityDelay: p,
                                                         servicesOn: on, latencyMs: latency)
                    print("  services on node\(on.rawValue), \(label): \(x)")
                    all += x.violations
                }
            }
            report(all)
        case .fenceTime:
            let r = FenceExperiments.lossToFenced(config: core, links: links, runs: runs, latencyMs: fenceLatencyMs)
            print("scenario fence-time: victim cut off, device latency \(fenceLatencyMs) ms, \(runs) runs")
            print("loss -> fenced (executor's success): \(r.lossToFenced.summary)")
            report(r.violations)
        }
    }

    private func report(_ v: [Violation]) {
        for x in v.prefix(5) { print("violation: \(x)") }
        print("violations: \(v.count)")
        if !v.isEmpty { Foundation.exit(1) }
    }

    private func loadCore() throws -> CoreConfig {
        guard let path = config else { return .uniform(nodes: nodes) }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(path): cannot read the file")
        }
        switch ClusterConfig.load(text: text, file: path) {
        case .failure(let d): throw ValidationError(d.description)
        case .success(let c): return c.core
        }
    }
}

struct MsRange: ExpressibleByArgument {
    var range: ClosedRange<Int64>
    init(_ r: ClosedRange<Int64>) { range = r }
    init?(argument: String) {
        let parts = argument.split(separator: "-").compactMap { Int64($0) }
        guard parts.count == 2, parts[0] <= parts[1], parts[0] >= 0 else { return nil }
        range = parts[0]...parts[1]
    }
    var defaultValueDescription: String { "\(range.lowerBound)-\(range.upperBound)" }
}
