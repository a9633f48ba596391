import VigilConfig
import VigilCore

/// What `vigilctl status --json` prints: schema 1, documented in docs/status-json.md.
/// New fields may be added; existing ones keep their name, type and meaning.
public struct StatusSnapshot: Codable, Sendable, Equatable {
    public struct NodeRef: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var incarnation: UInt64?
    }
    public struct ViewInfo: Codable, Sendable, Equatable {
        public var epoch: UInt64
        public var coordinator: Int
        public var members: [NodeRef]
        public var ageMs: Double
    }
    public struct Quorum: Codable, Sendable, Equatable {
        public var quorate: Bool
        public var votes: Int
        public var expectedVotes: Int
        public var threshold: Int
        public var twoNode: Bool
        public var waitForAll: Bool
    }
    /// The external vote (`[arbiter]`): who holds it, whether this node counts it now, how long
    /// its latest answer proves the lease alive, whether etcd answers.
    public struct Arbiter: Codable, Sendable, Equatable {
        public var key: String
        public var holder: NodeRef?
        public var counted: Bool
        public var provenForMs: Double?
        public var reachable: Bool
        public var heuristicsPass: Bool
        public var lastError: String?
        /// Requests to etcd (vote and tickets) answered and failed since vigild started.
        public var answered: Int?
        public var failed: Int?
    }
    /// A site ticket as this node sees it (`[[ticket]]`).
    public struct Ticket: Codable, Sendable, Equatable {
        public var name: String
        /// The site (cluster id) holding it, the node renewing its lease there, its state.
        public var site: UInt32?
        public var holder: String?
        public var state: String?
        /// This site may run its resources now.
        public var usable: Bool
        public var provenForMs: Double?
        public var reachable: Bool
        public var lastError: String?
        public var loss: String
        public var resources: [String]
    }
    public struct PeerLink: Codable, Sendable, Equatable {
        public var link: Int
        public var name: String
        public var up: Bool
        public var lastHeardMsAgo: Double?
        public var lossPercent: Double
        public var rttMs: Double?
    }
    public struct Peer: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        /// "self", "member" (in our view), "alive" (heard, not yet in the view), "fenced" (this
        /// incarnation was fenced), "dead", "left", "unknown".
        public var state: String
        public var incarnation: UInt64?
        public var links: [PeerLink]
    }
    public struct LinkInfo: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var mode: String
        public var peersUp: Int
        public var peers: Int
    }
    public struct Frames: Codable, Sendable, Equatable {
        public var sent: Int
        public var received: Int
        public var rejected: [String: Int]
        public var pauses: Int
    }

    public struct FenceDeviceState: Codable, Sendable, Equatable {
        public var name: String
        public var agent: String
        /// "fence-agents" or "cluster-glue".
        public var `protocol`: String
        /// "ok", "failed" (last monitor), "unknown" (not monitored yet), "missing" (agent not found).
        public var state: String
        public var checkedAt: String?
        public var message: String?
        public init(name: String, agent: String, protocol: String, state: String, checkedAt: String?, message: String?) {
            self.name = name
            self.agent = agent
            self.protocol = `protocol`
            self.state = state
            self.checkedAt = checkedAt
            self.message = message
        }
    }
    public struct FenceRun: Codable, Sendable, Equatable {
        public var target: NodeRef
        public var level: Int
        public var devices: [String]
        public var action: String
    }
    public struct Fencing: Codable, Sendable, Equatable {
        public var enabled: Bool
        /// Attempts this node runs now.
        public var running: [FenceRun]
        public var devices: [FenceDeviceState]
        /// "off", "not armed", "armed, fed", "NOT FED: self-fencing".
        public var watchdog: String
        public var attempts: [String: Int]
    }

    public struct ResourceInfo: Codable, Sendable, Equatable {
        public var id: String
        /// Nodes that report it running (or starting, stopping, failed: possibly active).
        public var activeOn: [String]
        /// Per node that reported it: state and fail count.
        public var nodes: [String: String]
        public var failCounts: [String: Int]
        /// The last failure seen on any node: "monitor failed on n3, 12.0 s ago" (nil: none since
        /// this node started or since a cleanup).
        public var lastFailure: String?
        /// Its agent ("ocf:heartbeat:IPaddr2") and group, as configured.
        public var agent: String?
        public var group: String?
        /// The clone it runs in (its own id), and that clone's instance limit: every node in
        /// `activeOn` runs one instance.
        public var clone: String?
        public var cloneMax: Int?
        /// A promotable clone: where its instances hold the promoted role, and each node's
        /// promotion score as agents wrote it (`master-<resource>`; nil elsewhere).
        public var promotable: Bool?
        public var promotedOn: [String]?
        public var scores: [String: String]?
        /// Meta attributes as Pacemaker names them (a clone's: notify, promotable, clone-max, ...),
        /// for `crm_resource --meta --get-parameter`.
        public var meta: [String: String]?
    }

    public struct DocumentInfo: Codable, Sendable, Equatable {
        /// "epoch.counter".
        public var version: String
        /// "epoch.counter (hash)": two copies are the same when their stamps are.
        public var stamp: String
        /// Member name -> its stamp.
        public var members: [String: String]
    }

    /// The operator's standing instructions (vigilctl resource/node ...).
    public struct Admin: Codable, Sendable, Equatable {
        public var version: UInt64
        public var standby: [String]
        /// Nodes in maintenance (what runs there is left alone).
        public var maintenance: [String]
        /// "db: prefer n2 (move)", "db: never on n1 (ban)".
        public var constraints: [String]
    }

    public var schema = 1
    public var cluster: String
    public var clusterId: UInt32
    public var node: NodeRef
    public var ready: Bool
    public var leaving: Bool
    public var view: ViewInfo?
    public var quorum: Quorum
    public var arbiter: Arbiter?
    public var tickets: [Ticket]?
    public var nodes: [Peer]
    public var links: [LinkInfo]
    public var needsFencing: [NodeRef]
    public var fencing: Fencing?
    public var resources: [ResourceInfo]?
    public var admin: Admin?
    /// Node attributes (vigilctl attr; the Pacemaker tool shims).
    public var attributes: Attributes?
    /// `[[alert]]` programs (absent when none is configured).
    public var alerts: [AlertStat]?
    /// Members whose config file differs from this node's, and in which parts (absent when all
    /// agree): node name -> parts ("nodes", "quorum", "fencing", "resources", "alerts", "links", "timing").
    public var configDiffers: [String: [String]]?
    /// The replicated document: the copy this node runs and the copy each member of its view
    /// said it runs ("1.3 (hash)"; absent before the node runs one).
    public var document: DocumentInfo?
    public var frames: Frames
    public var interval: Double
    public var deadline: Double
}

extension StatusSnapshot {
    /// A resource's state on a node outside the view: its last report says what ran there before
    /// it was lost, not what runs now. From the moment its fence succeeded it is "stopped
    /// (fenced)"; after a clean leave "stopped (left)"; while its fence is pending, or when it was
    /// lost with no fence (no quorum here), the last report marked as such.
    static func outsideView(_ n: NodeID, _ state: ResourceState, _ node: Node) -> String {
        let p = node.peer(n)
        if node.pendingFences[n] != nil {
            return state.mayBeActive ? "\(state) (UNCLEAN: fence pending)" : state.description
        }
        if let inc = p?.incarnation, node.isFenced(Member(n, inc)) { return "stopped (fenced)" }
        if let inc = p?.incarnation, p?.leftIncarnation == inc { return "stopped (left)" }
        return state.mayBeActive ? "\(state) (node lost: last report)" : state.description
    }

    /// Builds the snapshot from the node's state (pure: `now` comes from the caller).
    public init(node: Node, config: ClusterConfig, now: Instant, ready: Bool) {
        func name(_ id: NodeID) -> String { config.node(id)?.name ?? "node\(id.rawValue)" }
        func ref(_ m: Member) -> NodeRef { NodeRef(id: Int(m.node.rawValue), name: name(m.node), incarnation: m.incarnation) }
        let v = node.view
        let members = v.nodes
        cluster = config.name
        clusterId = config.clusterID
        self.node = ref(node.me)
        self.ready = ready
        leaving = node.leaving
        view = v.id == .none ? nil : ViewInfo(epoch: v.id.epoch, coordinator: Int(v.id.coordinator.rawValue),
                                              members: v.members.map(ref), ageMs: (now - v.installedAt).milliseconds)
        let q = config.quorum
        quorum = Quorum(quorate: v.quorate, votes: q.votes(of: members) + (node.hasArbiterVote ? 1 : 0),
                        expectedVotes: q.expectedVotes + q.arbiterVotes,
                        threshold: config.quorumThreshold, twoNode: q.twoNode, waitForAll: q.waitForAll)
        let ts = node.ticketStatus(at: now)
        if !ts.isEmpty {
            tickets = ts.map { t in
                Ticket(name: t.name, site: t.holder?.site,
                       holder: t.holder.map { h in h.site == config.clusterID ? name(h.member.node) : "node \(h.member.node.rawValue)" },
                       state: t.holder?.state.rawValue, usable: t.usable,
                       provenForMs: t.provenUntil.map { max(0, ($0 - now).milliseconds) }, reachable: t.reachable,
                       lastError: t.lastError, loss: t.loss.rawValue, resources: t.resources)
            }
        }
        if let a = node.arbiterStatus(at: now), let c = config.arbiter {
            arbiter = Arbiter(key: c.voteKey, holder: a.holder.map(ref), counted: a.counted,
                              provenForMs: a.provenUntil.map { max(0, ($0 - now).milliseconds) }, reachable: a.reachable,
                              heuristicsPass: a.heuristicsPass, lastError: a.lastError)
        }
        var peers: [Peer] = []
        var linkUp = Array(repeating: 0, count: config.links.count)
        for spec in config.nodes {
            guard spec.id != node.id else {
                peers.append(Peer(id: Int(spec.id.rawValue), name: spec.name, state: "self", incarnation: node.incarnation, links: []))
                continue
            }
            let p = node.peer(spec.id)
            var links: [PeerLink] = []
            for (i, l) in config.links.enumerated() {
                let h = p?.links[i]
                if h?.up == true { linkUp[i] += 1 }
                links.append(PeerLink(link: i, name: l.name, up: h?.up ?? false,
                                      lastHeardMsAgo: h?.lastHeard.map { (now - $0).milliseconds },
                                      lossPercent: ((h?.window.loss ?? 0) * 1000).rounded() / 10,
                                      rttMs: h?.rtt.map { ($0.milliseconds * 1000).rounded() / 1000 }))
            }
            let state: String
            if members.contains(spec.id) { state = "member" }
            else if p?.alive == true { state = "alive" }
            else if p?.leftIncarnation != nil && p?.leftIncarnation == p?.incarnation { state = "left" }
            else if let inc = p?.incarnation, node.isFenced(Member(spec.id, inc)) { state = "fenced" }
            else if p?.incarnation != nil { state = "dead" }
            else { state = "unknown" }
            peers.append(Peer(id: Int(spec.id.rawValue), name: spec.name, state: state, incarnation: p?.incarnation, links: links))
        }
        nodes = peers
        links = config.links.enumerated().map {
            LinkInfo(id: $0.offset, name: $0.element.name, mode: $0.element.mode.rawValue, peersUp: linkUp[$0.offset],
                     peers: config.nodes.count - 1)
        }
        needsFencing = node.pendingFences.map { ref(Member($0.key, $0.value)) }.sorted { $0.id < $1.id }
        if !node.config.resources.isEmpty {
            let reports = node.resourceReports
            resources = node.config.resources.ids.map { rid in
                var states: [String: String] = [:], fails: [String: Int] = [:], active: [String] = []
                for (n, entries) in reports.sorted(by: { $0.key < $1.key }) {
                    guard let e = entries[rid] else { continue }
                    states[name(n)] = members.contains(n) ? e.state.description : Self.outsideView(n, e.state, node)
                    if e.failCount > 0 { fails[name(n)] = Int(e.failCount) }
                    if e.state.mayBeActive && v.nodes.contains(n) { active.append(name(n)) }
                }
                let last = node.lastResourceFailures[rid].map {
                    "\($0.state) on \(name($0.node)), \(formatMs((now - $0.at).milliseconds)) ago"
                }
                let spec = config.resources.first { $0.id == rid }
                let clone = config.clone(of: rid)
                var info = ResourceInfo(id: rid, activeOn: active, nodes: states, failCounts: fails, lastFailure: last,
                                        agent: spec?.agent, group: spec?.group, clone: clone?.id,
                                        cloneMax: clone.map { $0.max ?? config.nodes.count })
                info.meta = config.cloneMeta(of: rid).map { Dictionary($0) { a, _ in a } }
                if clone?.promotable == true {
                    info.promotable = true
                    info.promotedOn = reports.sorted { $0.key < $1.key }
                        .filter { v.nodes.contains($0.key) && $0.value[rid]?.state.holdsPromoted == true }.map { name($0.key) }
                    let byNode = node.attributesByNode
                    info.scores = Dictionary(config.nodes.compactMap { n in
                        byNode[n.id]?[Promotion.scoreAttribute(rid)].map { (n.name, $0) }
                    }) { a, _ in a }
                }
                return info
            }
            let a = node.adminState
            admin = Admin(version: a.version, standby: a.standby.map(name), maintenance: a.maintenance.map(name),
                          constraints: a.constraints.map { "\($0.resource): " + ($0.kind == .ban ? "never on \(name($0.node)) (ban)"
                              : $0.kind == .preferPromoted ? "promoted on \(name($0.node)) (move --promoted)" : "prefer \(name($0.node)) (move)") })
        }
        if node.config.fencing.enabled {
            let wd = node.config.fencing.watchdog == nil ? "off"
                : !node.watchdogArmed ? "not armed (no quorate view yet)"
                : node.feedsWatchdog ? "armed, fed" : "NOT FED: self-fencing"
            fencing = Fencing(enabled: true,
                              running: node.runningFences.map {
                                  FenceRun(target: ref($0.target), level: $0.level, devices: $0.devices, action: $0.action.rawValue)
                              },
                              devices: [], watchdog: wd, attempts: [:])
        }
        let c = node.counters
        frames = Frames(sent: c.sent, received: c.received,
                        rejected: Dictionary(uniqueKeysWithValues: c.rejected.map { ($0.key.rawValue, $0.value) }),
                        pauses: c.pauses)
        interval = config.timing.interval.milliseconds
        deadline = config.timing.deadline.milliseconds
        attributes = StatusSnapshot.attributes(node, name)
        let differs = node.configDiffers
        configDiffers = differs.isEmpty ? nil : Dictionary(uniqueKeysWithValues: differs.map { (name($0.key), $0.value.map(\.description)) })
        if !node.document.isNone {
            document = DocumentInfo(version: node.document.version.description, stamp: node.document.description,
                                    members: Dictionary(uniqueKeysWithValues: node.memberDocuments.map { (name($0.key), $0.value.description) }))
        }
    }

    /// Members of the view / configured nodes.
    public var memberCount: Int { view?.members.count ?? 0 }
    /// Links with every peer up, of all links.
    public var linksFullyUp: Int { links.filter { $0.peersUp == $0.peers }.count }
}
