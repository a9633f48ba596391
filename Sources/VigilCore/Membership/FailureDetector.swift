/// Health of one peer on one link.
public struct LinkHealth: Equatable, Sendable {
    public var up = false
    public var lastHeard: Instant?
    /// Sequence tracking for this link: replay protection and loss over the last 64 frames.
    public var window = ReplayWindow()
    /// Latest round-trip time measured by a probe on this link.
    public var rtt: TimeSpan?
}

/// What this node knows about one peer.
public struct PeerState: Equatable, Sendable {
    public var incarnation: Incarnation?
    public var alive = false
    /// Indexed like `CoreConfig.links`.
    public var links: [LinkHealth]
    /// An incarnation that left gracefully: its late frames must not bring it back.
    public var leftIncarnation: Incarnation?
    /// The peer's own view and alive set, from its latest heartbeat.
    public var reportedView = ViewID.none
    public var reportedAlive = NodeSet.empty
    public var reportedAt: Instant?

    init(linkCount: Int) { links = Array(repeating: LinkHealth(), count: linkCount) }

    public var lastHeard: Instant? {
        var latest: Instant?
        for l in links { if let t = l.lastHeard, latest.map({ t > $0 }) ?? true { latest = t } }
        return latest
    }
}

/// Why a peer stopped counting as alive.
public enum DeathReason: String, Equatable, Sendable {
    case silent      // not heard on any link for the deadline
    case left        // it said goodbye
    case restarted   // a newer incarnation of it spoke
}

/// Per-peer, per-link failure detector. A peer is alive while heard on any link within the deadline;
/// a link is up while that peer is heard on it within the deadline.
struct FailureDetector: Equatable, Sendable {
    let local: NodeID
    let linkCount: Int
    var deadline: TimeSpan
    var peers = PeerTable()
    /// The peers that are alive (`PeerState.alive`), kept with every change: membership reads it on
    /// every frame without walking the peers.
    private(set) var aliveSet = NodeSet()

    init(local: NodeID, config: CoreConfig) {
        self.local = local
        linkCount = config.links.count
        deadline = config.timing.deadline
        for n in config.nodes where n != local { peers[n] = PeerState(linkCount: linkCount) }
    }

    /// The cluster's nodes changed: an added one starts unheard, a removed one is forgotten.
    mutating func setNodes(_ nodes: NodeSet) {
        for n in nodes where n != local && peers[n] == nil { peers[n] = PeerState(linkCount: linkCount) }
        for n in peers.ids where !nodes.contains(n) { peers[n] = nil }
        aliveSet = aliveSet.intersection(nodes)
    }

    /// Writes a peer's state back, and its bit of `aliveSet`.
    private mutating func store(_ p: PeerState, _ id: NodeID) {
        peers[id] = p
        if p.alive { aliveSet.insert(id) } else { aliveSet.remove(id) }
    }

    /// Screens an authenticated frame's origin: nil if acceptable, else why it must be dropped.
    /// On acceptance the link's replay window records the sequence.
    /// Before authentication: a frame of an older incarnation, or one the link's replay window
    /// already saw or left behind, is rejected without decrypting it (nothing is recorded).
    func precheck(_ h: FrameHeader, linkIndex: Int) -> Rejection? {
        guard let p = peers[h.sender], linkIndex < linkCount else { return nil }
        if let inc = p.incarnation, h.incarnation < inc { return .stale }
        return p.links[linkIndex].window.check(incarnation: h.incarnation, sequence: h.sequence)
    }

    mutating func admit(_ h: FrameHeader, linkIndex: Int) -> Rejection? {
        guard let inc = peers[h.sender].map(\.incarnation), linkIndex < linkCount else { return .unknownNode }
        if let inc, h.incarnation < inc { return .stale }
        // In place (the window changes only when it accepts): no copy of the peer's links per frame.
        return peers[h.sender]!.links[linkIndex].window.accept(incarnation: h.incarnation, sequence: h.sequence)
    }

    /// What `peer`'s heartbeat says: its view and who it hears (membership reads it).
    mutating func noteReport(from peer: NodeID, view: ViewID, alive: NodeSet, at now: Instant) {
        peers[peer]?.reportedView = view
        peers[peer]?.reportedAlive = alive
        peers[peer]?.reportedAt = now
    }

    /// Records a frame heard from `peer` on a link; returns what changed.
    mutating func heard(_ peer: NodeID, incarnation: Incarnation, linkIndex: Int, at now: Instant) -> [Notice] {
        guard var p = peers[peer] else { return [] }
        var out: [Notice] = []
        if let inc = p.incarnation, incarnation > inc {
            if p.alive { out.append(.peerDead(Member(peer, inc), reason: .restarted)) }
            p.alive = false
            for i in p.links.indices {
                if p.links[i].up { out.append(.linkDown(peer: peer, link: LinkID(UInt8(i)))) }
                p.links[i].up = false
                p.links[i].lastHeard = nil
            }
            p.reportedView = .none
            p.reportedAlive = .empty
            p.reportedAt = nil
        }
        p.incarnation = incarnation
        if p.leftIncarnation == incarnation {
            store(p, peer)
            return out
        }
        p.links[linkIndex].lastHeard = now
        if !p.links[linkIndex].up {
            p.links[linkIndex].up = true
            out.append(.linkUp(peer: peer, link: LinkID(UInt8(linkIndex))))
        }
        if !p.alive {
            p.alive = true
            out.append(.peerAlive(Member(peer, incarnation)))
        }
        store(p, peer)
        return out
    }

    /// A graceful leave: the peer is gone at once, and recorded as clean by the caller.
    mutating func left(_ peer: NodeID, incarnation: Incarnation) -> [Notice] {
        guard var p = peers[peer], p.incarnation == incarnation else { return [] }
        var out: [Notice] = []
        p.leftIncarnation = incarnation
        if p.alive { out.append(.peerDead(Member(peer, incarnation), reason: .left)) }
        p.alive = false
        for i in p.links.indices where p.links[i].up {
            p.links[i].up = false
            out.append(.linkDown(peer: peer, link: LinkID(UInt8(i))))
        }
        store(p, peer)
        return out
    }

    /// Marks links and peers silent for longer than the deadline as down / dead.
    mutating func expire(at now: Instant) -> [Notice] {
        var out: [Notice] = []
        for id in peers.ids {
            guard var p = peers[id], p.alive || p.links.contains(where: \.up) else { continue }
            for i in p.links.indices where p.links[i].up {
                if let t = p.links[i].lastHeard, now - t > deadline {
                    p.links[i].up = false
                    out.append(.linkDown(peer: id, link: LinkID(UInt8(i))))
                }
            }
            if p.alive && !p.links.contains(where: \.up), let inc = p.incarnation {
                p.alive = false
                out.append(.peerDead(Member(id, inc), reason: .silent))
            }
            store(p, id)
        }
        return out
    }

    /// Self-pause rule: this node was stalled for `lateness`, so that much silence is excused.
    mutating func excuse(_ lateness: TimeSpan, at now: Instant) {
        for id in peers.ids {
            for i in peers[id]!.links.indices {
                if let t = peers[id]!.links[i].lastHeard { peers[id]!.links[i].lastHeard = min(now, t + lateness) }
            }
        }
    }

    /// Alive peers with their incarnations.
    var aliveMembers: [Member] {
        peers.members(aliveSet)
    }
}
