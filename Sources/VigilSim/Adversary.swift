import VigilCore

/// Frames an attacker on the network can send.
public enum Attack: CaseIterable, Sendable {
    case randomBytes, mutated, replayed, wrongCluster, wrongKey, unknownNode, truncated
}

enum Adversary {
    static func record(_ bytes: [UInt8], link: LinkID, in ring: inout [([UInt8], LinkID)]) {
        ring.append((bytes, link))
        if ring.count > 64 { ring.removeFirst(32) }
    }
}

extension Simulation {
    /// Sends a hostile datagram to a node and checks that it was rejected and changed nothing.
    func attack(_ id: NodeID, _ kind: Attack) {
        let i = Int(id.rawValue)
        guard slots[i].state == .running, let before = slots[i].node else { return }
        guard let (bytes, link) = forge(kind, target: id) else { return }
        var node = before
        let effects = node.handle(.datagram(bytes, link: link), at: now)
        let rejected = effects.count == 1 && { if case .notice(.rejected) = effects[0] { true } else { false } }()
        if !rejected || !node.sameProtocolState(as: before) {
            invariants.fail(.authenticity, id, "a \(kind) frame was acted on: \(effects.count) effects", at: now)
        }
        slots[i].node = node  // keep the counters
    }

    private func forge(_ kind: Attack, target: NodeID) -> ([UInt8], LinkID)? {
        let link = config.links[Int.random(in: 0..<config.links.count, using: &rng)]
        let sender = config.nodes.first { $0 != target } ?? target
        switch kind {
        case .randomBytes:
            return ((0..<Int.random(in: 0...120, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, link)
        case .truncated:
            guard let (b, l) = recentFrames.randomElement(using: &rng) else { return nil }
            return (Array(b.prefix(Int.random(in: 0..<b.count, using: &rng))), l)
        case .mutated:
            guard case (var b, let l)? = recentFrames.randomElement(using: &rng) else { return nil }
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            return (b, l)
        case .replayed:
            return slots[Int(target.rawValue)].delivered.randomElement(using: &rng)
        case .wrongCluster:
            var c = FrameCodec(cluster: config.cluster &+ 1, local: sender, known: config.nodes, key: key)
            return (c.seal(.leave, link: link, incarnation: 1 << 40, sequence: 1), link)
        case .wrongKey, .unknownNode:
            let bytes = (0..<ClusterKey.size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            guard let k = try? ClusterKey(bytes: bytes) else { return nil }
            let from = kind == .unknownNode ? NodeID(64) : sender
            var c = FrameCodec(cluster: config.cluster, local: from, known: config.nodes, key: k)
            if kind == .unknownNode && config.nodes.contains(from) { return nil }
            return (c.seal(.heartbeat(view: ViewID(epoch: 1 << 50, coordinator: from), alive: config.nodes),
                           link: link, incarnation: 1 << 40, sequence: 1), link)
        }
    }
}
