/// Do the members run the same configuration? Each node sends its `ConfigDigest` (one hash per
/// part of its file) once in every new view and every `every` after that; each compares what it
/// hears with its own and reports, once per change, the peers whose copy differs and in which
/// parts (`ConfigNotice.differs`), and when they agree again (`.agrees`).
///
/// This only sees and names a difference: it does not choose a copy. Until the configuration is
/// one replicated document, a node whose file differs still runs what its own file says; the
/// report (an error in the log, an event, `vigilctl status`, a metric) is how the operator learns
/// to fix it.
struct ConfigAgreement: Equatable, Sendable {
    /// Sent this often besides once per view (a lost frame, a peer that missed the view's).
    static let every = TimeSpan.seconds(5)

    /// What each peer last said.
    private(set) var theirs: [NodeID: ConfigDigest] = [:]
    /// Peers whose copy differs, and where (reported).
    private(set) var differs: [NodeID: [ConfigDigest.Part]] = [:]
    private var sentIn: ViewID?
    private var nextSend = Instant.zero

    /// Whether to send the digest now (a new view, or the period is over); notes the send.
    mutating func due(_ view: ViewID, _ now: Instant) -> Bool {
        guard sentIn != view || now >= nextSend else { return false }
        (sentIn, nextSend) = (view, now + ConfigAgreement.every)
        return true
    }

    /// This node's own digest changed (SIGHUP applied new timing): compared again with what each
    /// peer last said, and sent at the next tick.
    mutating func rebase(mine: ConfigDigest) -> [ConfigNotice] {
        sentIn = nil
        return theirs.keys.sorted().compactMap { heard(theirs[$0]!, from: $0, mine: mine) }
    }

    mutating func heard(_ d: ConfigDigest, from peer: NodeID, mine: ConfigDigest) -> ConfigNotice? {
        theirs[peer] = d
        let parts = mine.differences(d)
        guard parts != (differs[peer] ?? []) else { return nil }
        differs[peer] = parts.isEmpty ? nil : parts
        return parts.isEmpty ? .agrees(peer: peer) : .differs(peer: peer, parts: parts)
    }
}

/// What `ConfigAgreement` reports.
public enum ConfigNotice: Equatable, Sendable {
    /// The peer's copy of the configuration differs from this node's in these parts.
    case differs(peer: NodeID, parts: [ConfigDigest.Part])
    /// The peer's copy, which differed, is the same as this node's again.
    case agrees(peer: NodeID)
}

extension Node {
    /// Members of this node's view whose configuration differs from its own, and where.
    public var configDiffers: [NodeID: [ConfigDigest.Part]] {
        agreement.differs.filter { view.nodes.contains($0.key) }
    }

    /// Every tick: the digest, when due.
    mutating func announceConfig(_ now: Instant, _ out: inout [Effect]) {
        guard config.digest != ConfigDigest() || !document.isNone, view.nodes.count > 1, agreement.due(view.id, now) else { return }
        broadcast(.configDigest(config.digest, document: document), &out)
    }

    /// A peer's digest and the copy of the document it runs (a newer one is fetched at once).
    mutating func heardConfig(_ d: ConfigDigest, document s: DocumentStamp, from peer: NodeID, _ now: Instant,
                              _ out: inout [Effect]) {
        if config.digest != ConfigDigest(), let n = agreement.heard(d, from: peer, mine: config.digest) {
            out.append(.notice(.config(n)))
        }
        if let n = documents.heard(s, from: peer) { out.append(.notice(.document(n))) }
        if !s.isNone, view.nodes.contains(peer) { syncDocument(now, &out) }
    }
}
