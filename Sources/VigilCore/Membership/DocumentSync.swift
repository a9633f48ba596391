/// The replicated configuration document: what the cluster decides together (nodes and votes,
/// quorum, fencing, resources, alerts), one versioned copy that every member of a view comes to
/// run. The core treats it as bytes with a `DocumentStamp` (version, then a hash of the bytes);
/// the shell parses it, and tells the node which copy it runs (`Event.documentRun`).
///
/// Agreement: each node says which copy it runs in its config digest (wire type 18, every new
/// view, every few seconds, at once after a change). A node that hears a view member run a newer
/// copy (larger stamp) fetches it from the lowest member running that copy, in chunks
/// (`configRequest`/`configChunk`), checks its hash, and hands it to the shell
/// (`Effect.adoptDocument`). Newer wins: a newer operator epoch, then a larger counter; two copies
/// with one version (two changes made apart) are a conflict, named on both sides, and settled by
/// the larger hash, the same way on every node. A node never takes a copy older than its own.
/// While a member runs a newer copy, this node's resource decisions as owner wait.
struct DocumentSync: Equatable, Sendable {
    /// A request unanswered this long is sent again.
    static let retry = TimeSpan.ms(200)
    /// Chunks sent per request (the requester asks again when they are in).
    static let batch = 16

    /// The copy this node runs, and its bytes (served to peers).
    private(set) var mine = DocumentStamp.none
    private(set) var bytes: [UInt8] = []
    /// What each peer last said it runs.
    private(set) var theirs: [NodeID: DocumentStamp] = [:]
    /// The copy being fetched.
    private(set) var fetch: Fetch?
    /// Copies handed to the shell that it could not run (not fetched again).
    private(set) var refused: Set<DocumentStamp> = []
    /// Conflicts already named (peer, its copy).
    private var named: Set<DocumentStamp> = []

    struct Fetch: Equatable, Sendable {
        var stamp: DocumentStamp
        var from: NodeID
        var count = 0
        var chunks: [UInt8: [UInt8]] = [:]
        var askedAt = Instant.zero
        var asked = 0

        var have: UInt64 { chunks.keys.reduce(0) { $0 | (1 << UInt64($1)) } }
    }

    /// The newest copy a member of `members` runs (this node's own included), skipping refused ones.
    func newest(among members: NodeSet) -> DocumentStamp {
        members.reduce(mine) { best, n in
            guard let s = theirs[n], !refused.contains(s) else { return best }
            return max(best, s)
        }
    }

    /// A peer says which copy it runs; a conflict (same version, other bytes) is named once.
    mutating func heard(_ s: DocumentStamp, from peer: NodeID) -> DocumentNotice? {
        guard !s.isNone else { return nil }
        theirs[peer] = s
        guard !mine.isNone, s.version == mine.version, s.hash != mine.hash, !named.contains(s) else { return nil }
        named.insert(s)
        return .conflict(peer: peer, mine: mine, theirs: s)
    }

    /// The shell runs this copy now.
    mutating func run(_ s: DocumentStamp, _ b: [UInt8]) {
        (mine, bytes) = (s, b)
        if let f = fetch, f.stamp <= s { fetch = nil }
    }

    mutating func refuse(_ s: DocumentStamp) {
        refused.insert(s)
        if fetch?.stamp == s { fetch = nil }
    }

    /// What to ask for, if anything: a newer copy than this node's, from the lowest member running
    /// it. With `newestWins` off (the planted bug) any copy other than its own is taken.
    mutating func request(_ members: NodeSet, me: NodeID, newestWins: Bool, _ now: Instant) -> Message? {
        let others = members.subtracting(NodeSet([me]))
        let target: DocumentStamp
        if newestWins {
            target = newest(among: others)
        } else {
            target = others.compactMap { n in theirs[n].flatMap { $0 != mine && !refused.contains($0) ? $0 : nil } }.first ?? mine
        }
        guard target != mine, !target.isNone,
              let from = others.first(where: { theirs[$0] == target }) else {
            fetch = nil
            return nil
        }
        if fetch?.stamp != target || fetch.map({ !others.contains($0.from) }) == true {
            fetch = Fetch(stamp: target, from: from)
        }
        guard var f = fetch, f.asked == 0 || now - f.askedAt >= DocumentSync.retry else { return nil }
        f.askedAt = now
        f.asked = f.count == 0 ? DocumentSync.batch : min(DocumentSync.batch, f.count - f.chunks.count)
        fetch = f
        return .configRequest(to: f.from, stamp: f.stamp, have: f.have)
    }

    /// A peer asks this node for chunks of the copy it runs.
    func chunks(for s: DocumentStamp, have: UInt64) -> [Message] {
        guard s == mine, !mine.isNone else { return [] }
        let size = DocumentChunking.chunkSize
        let count = max(1, (bytes.count + size - 1) / size)
        guard count <= DocumentChunking.maxChunks else { return [] }
        return (0..<count).filter { have & (1 << UInt64($0)) == 0 }.prefix(DocumentSync.batch).map { i in
            .configChunk(stamp: mine, index: UInt8(i), count: UInt8(count),
                         bytes: Array(bytes[(i * size)..<min(bytes.count, (i + 1) * size)]))
        }
    }

    enum Received: Equatable {
        /// Chunks are missing; `askAgain` when the last batch asked for is in.
        case incomplete(askAgain: Bool)
        case whole([UInt8], from: NodeID)
        /// Every chunk is in and the hash does not match (not taken, not fetched again).
        case bad(DocumentNotice)
    }

    /// A chunk of the copy being fetched (chunks of other copies, and repeats, are ignored).
    mutating func received(_ s: DocumentStamp, index: UInt8, count: UInt8, _ b: [UInt8]) -> Received {
        guard var f = fetch, f.stamp == s, f.chunks[index] == nil, f.count == 0 || f.count == Int(count) else {
            return .incomplete(askAgain: false)
        }
        f.count = Int(count)
        f.chunks[index] = b
        f.asked = max(0, f.asked - 1)
        fetch = f
        guard f.chunks.count == f.count else { return .incomplete(askAgain: f.asked == 0) }
        let whole = (0..<f.count).flatMap { f.chunks[UInt8($0)] ?? [] }
        fetch = nil
        guard DocumentStamp(version: s.version, bytes: whole) == s else {
            refused.insert(s)
            return .bad(.badCopy(from: f.from, s))
        }
        return .whole(whole, from: f.from)
    }
}

/// What the document's agreement reports.
public enum DocumentNotice: Equatable, Sendable {
    /// This node now runs `stamp` (`from`: the peer it was fetched from; nil: applied here or
    /// read back at start-up), instead of `previous`.
    case running(DocumentStamp, previous: DocumentStamp, from: NodeID?)
    /// A peer runs another copy with the same version (two changes made apart): the larger hash
    /// wins on every node.
    case conflict(peer: NodeID, mine: DocumentStamp, theirs: DocumentStamp)
    /// A copy fetched from `from` did not match its hash (not taken, not fetched again).
    case badCopy(from: NodeID, DocumentStamp)
    /// The shell could not run this copy (it says why in its own log).
    case refused(DocumentStamp)
    /// An operator's change was not taken, and why.
    case applyRefused(DocumentApplyRefusal)
}

/// Why `Event.applyDocument` was not taken.
public enum DocumentApplyRefusal: Equatable, Sendable, CustomStringConvertible {
    /// The view is not quorate: a change made now could be lost when the partitions merge.
    case notQuorate
    /// The change's epoch is older than the cluster's.
    case olderEpoch(UInt32, cluster: DocumentVersion)
    /// This node is still fetching a newer copy than its own (applying would overwrite it).
    case behind(DocumentStamp)
    /// Larger than a document can be (DocumentChunking.maxBytes).
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .notQuorate: "this node's view is not quorate (a change made now could be lost when the partitions merge)"
        case let .olderEpoch(e, v): "its epoch \(e) is older than the cluster's document \(v)"
        case .behind(let s): "this node is still fetching the cluster's newer document \(s.version); try again"
        case .tooLarge(let n): "it is \(n) bytes; a document holds at most \(DocumentChunking.maxBytes)"
        }
    }
}

extension Node {
    /// The copy of the replicated document this node runs (`.none` until the shell says), and its bytes.
    public var document: DocumentStamp { documents.mine }
    public var documentBytes: [UInt8] { documents.bytes }
    /// The newest copy a member of this node's view runs (this node's own included).
    public var viewDocument: DocumentStamp { documents.newest(among: view.nodes) }
    /// The copy each member of the view last said it runs.
    public var memberDocuments: [NodeID: DocumentStamp] {
        documents.theirs.filter { view.nodes.contains($0.key) }.merging([id: documents.mine]) { $1 }
    }
    /// A member runs a newer copy than this node: it fetches it, and decides nothing as owner meanwhile.
    var documentBehind: Bool { viewDocument > documents.mine }

    /// The operator's change (validated by the shell): its version is the epoch it names and the
    /// next counter after the newest copy in the view. Refused without quorum, while this node is
    /// behind, or with an epoch older than the cluster's.
    mutating func applyDocument(_ b: [UInt8], epoch: UInt32, _ out: inout [Effect]) {
        let newest = viewDocument
        let refusal: DocumentApplyRefusal? =
            b.count > DocumentChunking.maxBytes ? .tooLarge(b.count)
            : !view.quorate ? .notQuorate
            : newest > documents.mine ? .behind(newest)
            : epoch < newest.version.epoch ? .olderEpoch(epoch, cluster: newest.version) : nil
        if let r = refusal { return out.append(.notice(.document(.applyRefused(r)))) }
        let counter = epoch == newest.version.epoch ? newest.version.counter &+ 1 : 1
        let s = DocumentStamp(version: DocumentVersion(epoch: epoch, counter: counter), bytes: b)
        out.append(.adoptDocument(s, b, from: nil))
    }

    /// The shell runs this copy now (taken, applied here, or read back at start-up), with the
    /// digest of the file it makes up. Never an older copy than the one it ran.
    mutating func documentRun(_ s: DocumentStamp, _ b: [UInt8], digest: ConfigDigest, from: NodeID?, _ out: inout [Effect]) {
        guard s != documents.mine, s > documents.mine || !config.newestDocumentWins else { return }
        let previous = documents.mine
        documents.run(s, b)
        out.append(.notice(.document(.running(s, previous: previous, from: from))))
        if digest != ConfigDigest(), digest != config.digest {
            config.digest = digest
            for n in agreement.rebase(mine: digest) { out.append(.notice(.config(n))) }
        }
        if view.nodes.count > 1 { broadcast(.configDigest(config.digest, document: s), &out) }
    }

    mutating func documentRefused(_ s: DocumentStamp, _ out: inout [Effect]) {
        documents.refuse(s)
        out.append(.notice(.document(.refused(s))))
    }

    /// Every tick, and when a member's copy is heard: ask for a newer copy than this node's.
    mutating func syncDocument(_ now: Instant, _ out: inout [Effect]) {
        guard view.nodes.count > 1,
              let m = documents.request(view.nodes, me: id, newestWins: config.newestDocumentWins, now) else { return }
        broadcast(m, &out)
    }

    mutating func documentTransfer(_ m: Message, _ now: Instant, _ out: inout [Effect]) {
        switch m {
        case let .configRequest(to, stamp, have) where to == id:
            for c in documents.chunks(for: stamp, have: have) { broadcast(c, &out) }
        case let .configChunk(stamp, index, count, bytes):
            switch documents.received(stamp, index: index, count: count, bytes) {
            case let .whole(b, from): out.append(.adoptDocument(stamp, b, from: from))
            case .bad(let n): out.append(.notice(.document(n)))
            case .incomplete(let askAgain): if askAgain { syncDocument(now, &out) }
            }
        default:
            break
        }
    }
}
