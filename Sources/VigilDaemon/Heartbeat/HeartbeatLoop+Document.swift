import VigilConfig
import VigilCore
import VigilStatus

/// The shell's side of the replicated document (VigilCore's DocumentSync.swift): this node's own
/// file (its local part is merged with every copy it runs), the saved copy, and an operator's
/// change waiting for the core's answer.
struct DocumentShell {
    let store: DocumentStore
    let localPath: String
    /// The config file as last read (start-up or reload), and its `[document] epoch`.
    var localText: String
    var localEpoch: UInt32
    /// The copy to run first (saved, or seeded from the file: `DocumentStore.initial`).
    var initial: DocumentStore.Saved
    /// The file's document part as this node last took it (its hash), and the document the
    /// cluster ran then (`DocumentStore.Saved.fileBase`).
    var fileHash: UInt64
    var fileBase: DocumentStamp
    /// Started with a file whose document part changed since this node last took it: applied
    /// once the view is quorate and every member's copy is known.
    var filePending = false
    /// Nodes the document removed, so that events about them still name them.
    var formerNodes: [NodeSpec] = []
    /// An operator's `config apply` (or a reload) whose answer the core has not given yet.
    var reply: DocumentReply?

    /// `c` with the removed nodes too, for naming nodes in events.
    func naming(_ c: ClusterConfig) -> ClusterConfig {
        guard !formerNodes.isEmpty else { return c }
        var n = c
        n.nodes += formerNodes.filter { f in !c.nodes.contains { $0.id == f.id } }
        return n
    }
}

/// An answer the heartbeat thread gives to a waiting control client.
final class DocumentReply: @unchecked Sendable {
    private let cond = Condition()
    private var value: ControlAnswer?

    func answer(_ a: ControlAnswer) {
        cond.locked { if value == nil { value = a } }
        cond.broadcast()
    }

    /// The answer, waiting for it up to `seconds` (0: only if given already).
    func wait(seconds: Double) -> ControlAnswer? {
        cond.lock()
        defer { cond.unlock() }
        var left = seconds
        while value == nil && left > 0 {
            cond.wait(seconds: min(left, 0.1))
            left -= 0.1
        }
        return value
    }
}

extension HeartbeatLoop {
    /// Before the first tick: the node runs the copy it starts with, and saves it.
    func startDocument() {
        let s = doc.initial
        if doc.store.restored != s { doc.store.save(s) }
        shared.setDocument(String(decoding: s.bytes, as: UTF8.self), version: s.stamp.version)
        apply(.documentRun(s.stamp, s.bytes, digest: config.digest, from: nil))
    }

    /// `Effect.adoptDocument`: a copy fetched from a member, or this node's own change. Merged
    /// with this node's file and validated; then what changes live changes, it is saved, and the
    /// core is told this node runs it. A copy that does not fit this node's file is refused (the
    /// node keeps its own and says why).
    func runDocument(_ s: DocumentStamp, _ bytes: [UInt8], from: NodeID?) {
        let name = "document \(s.version)" + (from.map { " (from \(config.node($0)?.name ?? "node\($0.rawValue)"))" } ?? "")
        let text = String(decoding: bytes, as: UTF8.self)
        switch ReplicatedDocument.merge(local: doc.localText, localFile: doc.localPath, document: text, documentName: name) {
        case .failure(let d):
            log.log(.error, "\(name) cannot run on this node: \(d); it keeps document \(node.document.version)")
            apply(.documentRefused(s))
            doc.reply?.answer(.refused("\(d)"))
        case .success(let c):
            adoptDocument(c, name: name)
            doc.store.save(DocumentStore.Saved(stamp: s, bytes: bytes, fileHash: doc.fileHash, fileBase: doc.fileBase))
            shared.setDocument(text, version: s.version)
            apply(.documentRun(s, bytes, digest: config.digest, from: from))
            doc.reply?.answer(ControlAnswer(ok: true, value: s.version.description))
        }
        doc.reply = nil
    }

    /// What changes live: nodes (added, removed, votes, addresses), quorum rules, fencing devices
    /// and levels, alerts, and the resources (with clones, orders, rules). A change of this node's
    /// own entry, and turning fencing on or off, take effect when vigild restarts: said loudly, and
    /// this node's digest keeps naming those parts as they run here (`config_differs`).
    private func adoptDocument(_ c: ClusterConfig, name: String) {
        let changed = config.digest.differences(c.digest).filter { $0 != .links && $0 != .timing }
        var later: [String] = []
        if changed.contains(.alerts) {
            alerts?.update(c)
            config.alerts = c.alerts
            config.digest[.alerts] = c.digest[.alerts]
            log.log(.notice, "\(name): alerts now \(c.alerts.map(\.name).joined(separator: ", "))")
        }
        if changed.contains(.nodes) || changed.contains(.quorum) || changed.contains(.fencing) {
            if let why = restartNeeded(c) {
                later += ["nodes, quorum, fencing (\(why))"]
            } else {
                adoptCluster(c)
            }
        }
        // A node the document removed is leaving (it stops what it runs): it takes no new resources.
        if changed.contains(.resources), c.node(node.id) != nil { applyResources(c) }
        if !later.isEmpty {
            log.log(.warning, "\(name): changes to \(later.joined(separator: ", ")) take effect when vigild restarts on this node")
        }
    }

    /// Why the nodes, quorum and fencing of `c` cannot be taken live here, if they cannot.
    private func restartNeeded(_ c: ClusterConfig) -> String? {
        if let mine = c.node(node.id), mine != config.node(node.id) { return "this node's own [[node]] entry changed" }
        if c.fencing.policy.enabled != config.fencing.policy.enabled { return "fencing turned \(c.fencing.policy.enabled ? "on" : "off")" }
        return nil
    }

    /// Nodes, votes, quorum rules and fencing live: the unicast links send to the new peer list,
    /// the fence runner checks the new devices, the control socket knows the new names, and the
    /// core recomputes quorum and accepts (or forgets) the nodes.
    private func adoptCluster(_ c: ClusterConfig) {
        let before = Set(config.nodes.map(\.name))
        doc.formerNodes += config.nodes.filter { n in !c.nodes.contains { $0.id == n.id } }
        (config.nodes, config.quorum, config.fencing) = (c.nodes, c.quorum, c.fencing)
        for p in [ConfigDigest.Part.nodes, .quorum, .fencing] { config.digest[p] = c.digest[p] }
        for s in sockets {
            s.setPeers(config.nodes.filter { $0.id != node.id }.map { $0.addresses[Int(s.link.id.rawValue)] })
        }
        if config.fencing.policy.enabled { fencing?.update(config) }
        shared.setNodeIDs(Dictionary(config.nodes.map { ($0.name, $0.id) }) { a, _ in a })
        let now = Set(config.nodes.map(\.name))
        log.log(.notice, "nodes now \(config.nodes.map(\.name).joined(separator: ", ")) (expected votes \(config.quorum.expectedVotes)"
                + (config.quorum.twoNode ? ", two-node rules" : "") + ")"
                + (now == before ? "" : ": added \(now.subtracting(before).sorted()), removed \(before.subtracting(now).sorted())"))
        apply(.adoptCluster(nodes: NodeSet(config.nodes.map(\.id)), quorum: config.quorum, fencing: config.fencing.policy))
    }

    /// `vigilctl config apply` (validated by the control thread against this node's file): the
    /// core gives it the next version or refuses; the client hears which.
    func applyDocument(_ b: [UInt8], epoch: UInt32, reply: DocumentReply) {
        doc.reply = reply
        apply(.applyDocument(b, epoch: epoch))
        if let r = doc.reply {
            doc.reply = nil
            r.answer(.refused("the change was not taken (see the events)"))
        }
    }

    /// Started with an edited file: once the view is quorate and every member said which copy it
    /// runs (so that the next version is really the next), the file's part is applied.
    func applyFilePartWhenKnown() {
        let known = node.memberDocuments
        guard node.view.quorate, node.view.nodes.allSatisfy({ known[$0] != nil }) else { return }
        doc.filePending = false
        applyFilePart("start-up")
    }

    /// A reload, or the first quorate view after a start with an edited file: the file's document
    /// part, if it changed since this node last took it, is applied as a change to the cluster's
    /// document. Refused, with the reason, if it is older than the cluster's (an older epoch), if
    /// the cluster's document moved on since this node last took its file (the file would undo
    /// those changes unseen: export, merge, `vigilctl config apply`), or without quorum.
    func applyFilePart(_ why: String) {
        let part = ReplicatedDocument.text(of: doc.localText)
        let h = ReplicatedDocument.hash(part)
        guard h != doc.fileHash else { return }
        guard Array(part.utf8) != node.documentBytes else {
            (doc.fileHash, doc.fileBase) = (h, node.document)
            return log.log(.notice, "\(why): the file's document part is the cluster's document \(node.document.version)")
        }
        guard node.viewDocument == doc.fileBase else {
            return log.log(.error, "\(why): the file's document part changed, but the cluster's document moved from "
                           + "\(doc.fileBase.version) to \(node.viewDocument.version) since this node last took its file: not applied "
                           + "(it would undo those changes). Export the cluster's (vigilctl config export FILE), make the change there "
                           + "and run vigilctl config apply FILE")
        }
        let reply = DocumentReply()
        applyDocument(Array(part.utf8), epoch: doc.localEpoch, reply: reply)
        if let a = reply.wait(seconds: 0), a.succeeded {
            (doc.fileHash, doc.fileBase) = (h, node.document)
            doc.store.save(DocumentStore.Saved(stamp: node.document, bytes: node.documentBytes, fileHash: h, fileBase: node.document))
            log.log(.notice, "\(why): the file's document part is now the cluster's document \(a.value ?? "?")")
        } else {
            log.log(.error, "\(why): the file's document part was not applied: " + (reply.wait(seconds: 0)?.error ?? "no answer")
                    + "; the cluster's document \(node.document.version) runs (a later reload tries again)")
        }
    }

    /// Where the owner would place each resource of `p` now, against where it places them under
    /// the running policy: the units whose placement differs (pure: `Node.placementPreview`).
    func placementChanges(_ p: ResourcePolicy) -> String {
        let now = Clock.monotonic()
        guard let before = node.placementPreview(node.config.resources, at: now), let after = node.placementPreview(p, at: now) else {
            return "placement: not previewed (this node's view is not quorate)"
        }
        func name(_ n: NodeID) -> String { config.node(n)?.name ?? "node\(n.rawValue)" }
        func text(_ pl: Placement?) -> String {
            switch pl {
            case .on(let n)?: "on \(name(n))"
            case .frozen(let n)?: "frozen on \(name(n)) until it is fenced"
            case .stopped(let why)?: "stopped (\(why))"
            case .instances(let s)?: s.isEmpty ? "no instance" : "instances on " + s.map(name).joined(separator: ", ")
            case nil: "not configured"
            }
        }
        let lines = Set(before.keys).union(after.keys).sorted().filter { before[$0] != after[$0] }
            .map { "  \($0): \(text(before[$0])) -> \(text(after[$0]))" }
        return lines.isEmpty ? "placement: nothing moves, starts or stops (as the owner would decide now)"
            : "placement (as the owner would decide now, by group or clone):\n" + lines.joined(separator: "\n")
    }

    /// The core refused an operator's change: the client hears why.
    func documentRefused(_ why: DocumentApplyRefusal) {
        doc.reply?.answer(.refused("not applied: \(why)"))
        doc.reply = nil
    }
}
