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
    /// An operator's `config apply` (or a reload) whose answer the core has not given yet.
    var reply: DocumentReply?
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

    /// What changes live: the resources (with clones, orders, rules). Nodes, quorum, fencing and
    /// alerts of a new document take effect when vigild restarts: said loudly, and this node's
    /// digest keeps naming those parts as they run here (its members see `config_differs`).
    private func adoptDocument(_ c: ClusterConfig, name: String) {
        let changed = config.digest.differences(c.digest).filter { $0 != .links && $0 != .timing }
        if changed.contains(.resources) {
            if changed.contains(.nodes) {
                log.log(.error, "\(name): its resources are not taken because its nodes changed too (restart vigild)")
            } else {
                applyResources(c)
            }
        }
        let later = changed.filter { $0 != .resources }.map(\.description)
        if !later.isEmpty {
            log.log(.warning, "\(name): changes to \(later.joined(separator: ", ")) take effect when vigild restarts on this node")
        }
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

    /// The core refused an operator's change: the client hears why.
    func documentRefused(_ why: DocumentApplyRefusal) {
        doc.reply?.answer(.refused("not applied: \(why)"))
        doc.reply = nil
    }
}
