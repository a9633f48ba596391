import ArgumentParser
import Foundation
import VigilConfig
import VigilCore
import VigilSim

enum Scenario: String, ExpressibleByArgument, CaseIterable {
    case silentDeath = "silent-death"
    case frozen
    case steady
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
