import VigilCore

/// The replicated document in the simulator (issue 14): its bytes name one of the resource
/// policies the scenario drew (four bytes: the index), padded to a drawn length so that copies
/// travel in several chunks. Changes are applied on one node (now and then two at once on two
/// nodes, or during a partition); the nodes' own protocol spreads them. Judged: a node never
/// takes an older copy than its own, and after a quiet period the members of a view run one copy
/// (rule `document`); what runs is judged against the newest copy (DefinitionModel.swift).
struct DocumentModel {
    /// What the bytes name: index -> policy, and the cluster's nodes (nil: the simulation's).
    private(set) var policies: [ResourcePolicy]
    private(set) var nodes: [NodeSet?]
    /// Every node's first copy (as seeded from its config file at first start).
    let initial: (stamp: DocumentStamp, bytes: [UInt8])

    init(_ p: ResourcePolicy, nodes n: NodeSet? = nil) {
        policies = [p]
        nodes = [n]
        let b = DocumentModel.bytes(0, filler: 100)
        initial = (DocumentStamp(version: DocumentVersion(epoch: 1, counter: 0), bytes: b), b)
    }

    static func bytes(_ index: Int, filler: Int) -> [UInt8] {
        let i = UInt32(index)
        return [UInt8(i >> 24), UInt8((i >> 16) & 0xFF), UInt8((i >> 8) & 0xFF), UInt8(i & 0xFF)]
            + (0..<filler).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
    }

    private func index(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        let i = b.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        return i < policies.count ? i : nil
    }

    func policy(_ b: [UInt8]) -> ResourcePolicy? { index(b).map { policies[$0] } }
    func nodes(_ b: [UInt8]) -> NodeSet? { index(b).flatMap { nodes[$0] } }

    mutating func register(_ p: ResourcePolicy, nodes n: NodeSet?, filler: Int) -> [UInt8] {
        policies.append(p)
        nodes.append(n)
        return DocumentModel.bytes(policies.count - 1, filler: filler)
    }
}

extension Simulation {
    /// Changes go through the replicated document from now on (call before the nodes start):
    /// every node's first copy names the current policy.
    public func replicateDocuments(nodes: NodeSet? = nil) {
        documentModel = DocumentModel(config.resources, nodes: nodes)
    }

    /// One vote each; the two-node rules with two nodes (as the config validator derives them).
    static func quorum(_ nodes: NodeSet) -> QuorumPolicy {
        QuorumPolicy(votes: Dictionary(uniqueKeysWithValues: nodes.map { ($0, 1) }), twoNode: nodes.count == 2)
    }

    /// The nodes a node starting now knows: its saved copy's (nil: the simulation's).
    func startingNodes(_ id: NodeID) -> NodeSet? {
        guard let dm = documentModel else { return nil }
        return dm.nodes((slots[Int(id.rawValue)].savedDocument ?? dm.initial).bytes)
    }

    /// A node starts with the copy it saved (or the first one).
    func startDocument(_ id: NodeID) {
        guard let dm = documentModel else { return }
        let (s, b) = slots[Int(id.rawValue)].savedDocument ?? dm.initial
        apply(.documentRun(s, b, digest: ConfigDigest(), from: nil), to: id)
    }

    /// The policy a node starting now runs: its saved copy's.
    func startingPolicy(_ id: NodeID) -> ResourcePolicy? {
        guard let dm = documentModel else { return nil }
        return dm.policy((slots[Int(id.rawValue)].savedDocument ?? dm.initial).bytes)
    }

    /// The operator writes a new node's file from the cluster's document (what `from` runs): it
    /// starts with that copy.
    public func giveDocument(from: NodeID, to: NodeID) {
        guard let n = node(from) else { return }
        slots[Int(to.rawValue)].savedDocument = (n.document, n.documentBytes)
    }

    /// `vigilctl config apply` on a node.
    func applyDocument(on id: NodeID, _ p: ResourcePolicy, nodes: NodeSet?, filler: Int, epoch: UInt32) {
        guard documentModel != nil, isRunning(id) else { return }
        let b = documentModel!.register(p, nodes: nodes, filler: filler)
        apply(.applyDocument(b, epoch: epoch), to: id)
    }

    /// `Effect.adoptDocument`: the shell parses the copy, takes its resources, then says it runs it.
    func adoptDocument(_ s: DocumentStamp, _ b: [UInt8], from: NodeID?, on id: NodeID) {
        guard let p = documentModel?.policy(b) else {
            apply(.documentRefused(s), to: id)
            return
        }
        let i = Int(id.rawValue)
        if let n = documentModel?.nodes(b), n != slots[i].node?.config.nodes {
            if !n.contains(id), let m = node(id)?.me {  // removed: it leaves gracefully (the daemon then exits)
                invariants.leftGracefully(m)
                slots[i].leavingSince = now
            }
            apply(.adoptCluster(nodes: n, quorum: Simulation.quorum(n), fencing: config.fencing), to: id)
            guard slots[i].node?.leaving == false else { return }
        }
        apply(.adoptResources(p), to: id)
        apply(.documentRun(s, b, digest: ConfigDigest(), from: from), to: id)
        if let n = slots[Int(id.rawValue)].node, n.document == s { slots[Int(id.rawValue)].savedDocument = (s, b) }
    }

    func checkDocumentTaken(_ s: DocumentStamp, previous: DocumentStamp, by id: NodeID) {
        if !previous.isNone && s < previous {
            invariants.fail(.document, id, "took document \(s) while it ran the newer \(previous)", at: now)
        }
    }

    /// After a quiet period: the members of each view run one copy, and what runs is judged
    /// against the newest copy any running node has.
    func checkDocuments(_ running: [Node]) {
        guard let dm = documentModel else { return }
        for n in running {
            for m in running where m.view.id == n.view.id && m.document != n.document && m.id > n.id {
                invariants.fail(.document, m.id, "after the quiet period \(m.id) runs document \(m.document), \(n.id) runs \(n.document) (one view)", at: now)
            }
        }
        if let newest = running.max(by: { $0.document < $1.document }), let p = dm.policy(newest.documentBytes) {
            config.resources = p
        }
    }
}
