import VigilCore

/// The core microbenchmark's material (issue 15): one node of a healthy simulated cluster, as it
/// is at a moment of steady state (a value: copied for each replay), and every event it handled in
/// the window after (heartbeats and other frames from every peer on both links, and its ticks).
/// `vigil-sim --bench-core` replays them through `Node.handle` and times each (this target reads
/// no clock).
public struct CoreBenchCapture: Sendable {
    public var node: Node
    public var events: [(at: Instant, event: Event)]
    public var peers: Int

    /// `nodes` nodes, two clean links, 10 ms interval and 40 ms deadline, no resources; the
    /// window starts `settle` after every node started.
    public init(nodes n: Int, window: TimeSpan = .seconds(1), settle: TimeSpan = .seconds(3)) {
        let config = CoreConfig.uniform(nodes: n, links: 2, timing: Timing(interval: .ms(10), deadline: .ms(40)))
        let sim = Simulation(config: config, links: [LinkModel(), LinkModel()], seed: 1)
        for id in config.nodes { sim.schedule(.start(id), at: .zero) }
        let start = Instant.zero + settle
        sim.run(until: start)
        let me = NodeID(1)
        guard let node = sim.node(me) else { preconditionFailure("node 1 runs") }
        var events: [(at: Instant, event: Event)] = []
        sim.eventObserver = { t, id, e in if id == me { events.append((t, e)) } }
        sim.run(until: start + window)
        self.node = node
        self.events = events
        peers = n - 1
    }
}
