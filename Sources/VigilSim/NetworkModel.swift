import VigilCore

/// Behaviour of one link of the simulated network.
public struct LinkModel: Sendable, Equatable {
    public var loss: Double = 0
    public var delay: TimeSpan = .us(200)
    /// Extra delay drawn uniformly from [0, jitter): frames may overtake each other.
    public var jitter: TimeSpan = .zero
    public var duplication: Double = 0
    public init() {}
}

/// The seeded network: per-link behaviour, partitions (groups per link) and per-node link cuts.
struct NetworkModel {
    var links: [LinkModel]
    /// Partition group of each node on each link: [link][node index]; same group = connected.
    var groups: [[Int]]
    /// [node index][link]: this node's cable is pulled on that link.
    var cut: [[Bool]]

    init(nodes: Int, links: [LinkModel]) {
        self.links = links
        groups = Array(repeating: Array(repeating: 0, count: nodes + 1), count: links.count)
        cut = Array(repeating: Array(repeating: false, count: links.count), count: nodes + 1)
    }

    func connected(_ a: Int, _ b: Int, link l: Int) -> Bool {
        !cut[a][l] && !cut[b][l] && groups[l][a] == groups[l][b]
    }

    /// Arrival delays for one frame from a to b on link l: empty if lost, two if duplicated.
    func deliveries(_ a: Int, _ b: Int, link l: Int, rng: inout SeededRandom) -> [TimeSpan] {
        guard connected(a, b, link: l) else { return [] }
        let m = links[l]
        if rng.chance(m.loss) { return [] }
        var out = [m.delay + jitter(m, &rng)]
        if rng.chance(m.duplication) { out.append(m.delay + jitter(m, &rng)) }
        return out
    }

    private func jitter(_ m: LinkModel, _ rng: inout SeededRandom) -> TimeSpan {
        m.jitter.nanoseconds > 0 ? TimeSpan(nanoseconds: Int64.random(in: 0..<m.jitter.nanoseconds, using: &rng)) : .zero
    }

    mutating func heal() {
        for l in groups.indices { groups[l] = groups[l].map { _ in 0 } }
        for n in cut.indices { cut[n] = cut[n].map { _ in false } }
    }
}
