import VigilCore
import VigilSim

/// A simulated 3-node cluster (10 ms interval, two clean links) started at zero, with a working
/// power device for every node, then driven one step at a time: the resource sim tests' driver.
final class SteppedCluster {
    let sim: Simulation
    private(set) var t: Instant

    init(resources: ResourcePolicy, seed: UInt64, settle: Instant = .seconds(2), configure: (inout CoreConfig) -> Void = { _ in }) {
        var config = CoreConfig.uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        config.fencing.enabled = true
        for n in config.nodes { config.fencing.levels[n] = [["power"]] }
        config.resources = resources
        configure(&config)
        sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: seed)
        sim.devices = ["power": FenceDeviceModel(.works, latencyMs: 20...50)]
        for n in config.nodes { sim.schedule(.start(n), at: .zero) }
        t = settle
        sim.run(until: t)
    }

    /// Runs `s`, then `d` of cluster time.
    func step(_ s: Step, for d: TimeSpan = .seconds(1)) {
        sim.schedule(s, at: t)
        t = t + d
        sim.run(until: t)
    }
}
