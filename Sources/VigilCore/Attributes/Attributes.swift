/// Node attributes: a replicated map from (node, name) to a value, like Pacemaker's attrd. Agents
/// write them through the Pacemaker tool shims (`attrd_updater`, `crm_attribute`, `crm_master`),
/// operators through `vigilctl attr`; placement rules and promotion scores read them.
///
/// - Any node may write any node's attribute, in or out of quorum (a connectivity agent on an
///   isolated node still reports). A write takes version = highest seen + 1; every copy keeps the
///   highest (version, writer), so all members of a view converge on the same map. A delete is a
///   write of no value.
/// - A write goes out at once and again until every other member of the writer's view has said it
///   holds it (`attributeAck`); then the writer tells its client (`confirmed`), so a value read
///   back anywhere after a confirmed set is the one set (PAF polls for exactly that).
/// - Transient attributes (`reboot`) of a node are cleared by every member when that node leaves
///   its view (cleanly, lost, fenced, or restarted as a new incarnation). Permanent ones
///   (`forever`) stay, and every node saves them (`Effect.persistAttributes`) and reads them back
///   at start-up.
/// - When a view is installed every member sends its whole map once, so newcomers and the two
///   sides of a healed partition learn each other's writes. While its map is not empty, a node
///   also sends a digest of it now and then; a member whose map differs sends its own whole map
///   (at most once per digest period), which repairs what lost frames left out. Nothing at all is
///   sent while the map is empty.
/// - Dampening (`delay`): a write is held on the node that took it and applied once the value has
///   held that long; a different value starts the wait again, the value already applied cancels it.
public struct Attributes: Equatable, Sendable {
    /// What this node holds: values and deletions (a deletion must keep beating older copies).
    private(set) var entries: [AttributeKey: NodeAttribute] = [:]
    private var highest: UInt64 = 0
    struct Held: Equatable, Sendable {
        var value: String
        var lifetime: AttributeLifetime
        var isPrivate: Bool
        var due: Instant
    }
    /// Dampened writes waiting to hold.
    private(set) var held: [AttributeKey: Held] = [:]
    struct Unconfirmed: Equatable, Sendable {
        var version: UInt64
        var waiting: NodeSet
        var resendAt: Instant
    }
    /// This node's writes some member of its view has not acknowledged yet.
    private(set) var unconfirmed: [AttributeKey: Unconfirmed] = [:]
    /// Values changed here (writes taken, peers' writes learned, clears): a metric.
    private(set) var changes = 0
    /// The public values by node: what location rules read (kept up to date with `entries`).
    private(set) var byNode: [NodeID: [String: String]] = [:]
    private var nextDigest = Instant.zero
    private var lastWholeMap: Instant?

    public init() {}

    /// The values this node holds (deletions left out), private ones included.
    public var values: [AttributeKey: NodeAttribute] { entries.filter { $0.value.value != nil } }
    var busy: Bool { !entries.isEmpty || !held.isEmpty || !unconfirmed.isEmpty }
    /// This node's copy of one attribute, deletions included (the simulator's checks).
    public func entry(_ k: AttributeKey) -> NodeAttribute? { entries[k] }
    var sorted: [NodeAttribute] { entries.keys.sorted().map { entries[$0]! } }
}

/// What the attribute map reads from the rest of its node, fresh for every call.
struct AttributeContext {
    var me: NodeID
    /// The configured nodes (a write for any other node is refused).
    var nodes: NodeSet
    var view: View
    /// How long a write waits for acknowledgements before it goes out again.
    var resend: TimeSpan
    /// How often a node with attributes sends the digest of its map.
    var digestEvery: TimeSpan
    var others: NodeSet { var s = view.nodes; s.remove(me); return s }
}

/// A write to the map (`vigilctl attr`, the Pacemaker shims through the control socket).
public enum AttributeRequest: Equatable, Sendable {
    /// Set the value; with a delay, only once it has held that long (dampening).
    case set(AttributeKey, value: String, lifetime: AttributeLifetime, isPrivate: Bool, delay: TimeSpan)
    /// Remove it, whatever its lifetime.
    case delete(AttributeKey)
}

/// What the attribute map tells the rest (events, metrics, the client waiting for its write).
public enum AttributeNotice: Equatable, Sendable {
    /// The value held here changed: set, learned from a peer, or deleted (value nil).
    case changed(NodeAttribute)
    /// Cleared here because its node left the view (transient attributes only).
    case cleared(AttributeKey)
    /// This node's write (or delete) at `version` is held by every member of its view.
    case confirmed(AttributeKey, version: UInt64)
    /// A dampened write waits: applied after `delay` if the value still holds then.
    case held(AttributeKey, value: String, delay: TimeSpan)
    case refused(AttributeKey, AttributeRefusal)
}

/// Why a write was refused.
public enum AttributeRefusal: Equatable, Sendable, ReasonText {
    case unknownNode
    /// A transient attribute of a node outside the writer's view.
    case notMember
    case badName
    case valueTooLong

    public var description: String {
        switch self {
        case .unknownNode: "no such node"
        case .notMember: "that node is not a member of this view: its transient attributes are cleared (use --lifetime forever)"
        case .badName: "an attribute name is 1 to \(NodeAttribute.maxName) bytes, without spaces or control characters"
        case .valueTooLong: "a value is at most \(NodeAttribute.maxValue) bytes"
        }
    }
}

extension Attributes {
    mutating func request(_ r: AttributeRequest, _ c: AttributeContext, _ now: Instant, _ box: inout Outbox) {
        switch r {
        case let .set(key, value, lifetime, isPrivate, delay):
            if let why = Attributes.check(key, value, lifetime, c) { return box.append(.notice(.attribute(.refused(key, why)))) }
            let current = entries[key]
            // (Only a write of this node's own is known held everywhere once confirmed; a value
            // learned from a peer may not have reached every member yet: seed 350, written again.)
            if current?.value == value && current?.lifetime == lifetime && current?.isPrivate == isPrivate && current?.origin == c.me {
                held[key] = nil  // the value applied is back: what was held is cancelled
                // Nothing to write; answer once what is there is confirmed (at once if it is).
                if unconfirmed[key] == nil { box.append(.notice(.attribute(.confirmed(key, version: current?.version ?? 0)))) }
                return
            }
            guard delay > .zero else {
                held[key] = nil
                return write(key, value, lifetime, isPrivate, c, now, &box)
            }
            let due = held[key].map { $0.value == value ? $0.due : now + delay } ?? now + delay
            held[key] = Held(value: value, lifetime: lifetime, isPrivate: isPrivate, due: due)
            box.append(.notice(.attribute(.held(key, value: value, delay: due - now))))
        case .delete(let key):
            if let why = Attributes.check(key, nil, nil, c) { return box.append(.notice(.attribute(.refused(key, why)))) }
            held[key] = nil
            guard let current = entries[key], current.value != nil || current.origin != c.me else {
                return box.append(.notice(.attribute(.confirmed(key, version: entries[key]?.version ?? 0))))
            }
            write(key, nil, current.lifetime, current.isPrivate, c, now, &box)
        }
    }

    static func check(_ key: AttributeKey, _ value: String?, _ lifetime: AttributeLifetime?, _ c: AttributeContext) -> AttributeRefusal? {
        guard c.nodes.contains(key.node) else { return .unknownNode }
        // Every member would clear it at once (and the node when it joins): say so instead.
        if lifetime == .reboot && key.node != c.me && !c.view.nodes.contains(key.node) { return .notMember }
        let n = key.name.utf8
        guard !n.isEmpty, n.count <= NodeAttribute.maxName, !n.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { return .badName }
        if let value, value.utf8.count > NodeAttribute.maxValue { return .valueTooLong }
        return nil
    }

    private mutating func write(_ key: AttributeKey, _ value: String?, _ lifetime: AttributeLifetime, _ isPrivate: Bool,
                                _ c: AttributeContext, _ now: Instant, _ box: inout Outbox) {
        highest += 1
        let e = NodeAttribute(key: key, value: value, lifetime: lifetime, isPrivate: isPrivate, version: highest, origin: c.me)
        if take(e, &box) { save(&box) }
        if c.others.isEmpty {
            box.append(.notice(.attribute(.confirmed(key, version: e.version))))
        } else {
            unconfirmed[key] = Unconfirmed(version: e.version, waiting: c.others, resendAt: now + c.resend)
            box.broadcast(.attributes([e], confirm: true))
        }
    }

    /// Keeps `e` if it is newer than what this node holds, and says so. True when the permanent
    /// attributes changed (the caller saves them once, after all it takes).
    private mutating func take(_ e: NodeAttribute, _ box: inout Outbox) -> Bool {
        let old = entries[e.key]
        if let old, !e.isNewer(than: old) { return false }
        entries[e.key] = e
        highest = max(highest, e.version)
        if old?.value != e.value || old?.isPrivate != e.isPrivate {
            changes += 1
            box.append(.notice(.attribute(.changed(e))))
            publish(e.key, e.isPrivate ? nil : e.value, &box)
        }
        return e.lifetime == .forever || old?.lifetime == .forever
    }

    private func save(_ box: inout Outbox) { box.append(.persistAttributes(permanent)) }

    /// Keeps `byNode` in step; a public value that changed may change where resources go.
    private mutating func publish(_ k: AttributeKey, _ value: String?, _ box: inout Outbox) {
        guard byNode[k.node]?[k.name] != value else { return }
        byNode[k.node, default: [:]][k.name] = value
        if byNode[k.node]?.isEmpty == true { byNode[k.node] = nil }
        box.placementChanged = true
    }

    /// The permanent entries, sorted: what the daemon saves.
    var permanent: [NodeAttribute] { entries.values.filter { $0.lifetime == .forever }.sorted { $0.key < $1.key } }

    mutating func receive(_ m: Message, from sender: Member, _ c: AttributeContext, _ now: Instant, _ box: inout Outbox) {
        switch m {
        case let .attributes(list, confirm):
            var acks: [AttributeAck] = []
            var permanentChanged = false
            for e in list {
                // A transient attribute of a node outside this view was cleared here: not taken back.
                if e.lifetime == .reboot && e.key.node != c.me && !c.view.nodes.contains(e.key.node) { continue }
                if take(e, &box) { permanentChanged = true }
                if confirm, let held = entries[e.key] { acks.append(AttributeAck(key: e.key, version: held.version)) }
            }
            if permanentChanged { save(&box) }
            for batch in Message.batches(acks, size: \.wireSize) { box.broadcast(.attributeAck(to: sender.node, batch)) }
        case let .attributeAck(to, acks) where to == c.me:
            for a in acks {
                guard var u = unconfirmed[a.key], a.version >= u.version else { continue }
                u.waiting.remove(sender.node)
                unconfirmed[a.key] = u
            }
            settle(c, &box)
        case let .attributeDigest(count, hash) where c.view.nodes.contains(sender.node):
            let mine = NodeAttribute.digest(sorted)
            guard mine != (count, hash) else { return }
            // Differs: send this map (the sender learns what it lacks) and this digest (so it
            // sends what this node lacks), at most once a digest period.
            if let last = lastWholeMap, now - last < c.digestEvery { return }
            lastWholeMap = now
            sendWholeMap(&box)
            if !entries.isEmpty { nextDigest = now + c.digestEvery }
            box.broadcast(.attributeDigest(count: mine.count, hash: mine.hash))
        default:
            break
        }
    }

    private func sendWholeMap(_ box: inout Outbox) {
        for batch in Message.batches(sorted, size: \.wireSize) { box.broadcast(.attributes(batch, confirm: false)) }
    }

    /// Every tick while busy: applies dampened writes that held, sends unacknowledged ones again.
    mutating func step(_ c: AttributeContext, _ now: Instant, _ box: inout Outbox) {
        for key in held.keys.sorted() {
            guard let h = held[key], h.due <= now else { continue }
            held[key] = nil
            if let why = Attributes.check(key, h.value, h.lifetime, c) {
                box.append(.notice(.attribute(.refused(key, why))))
                continue
            }
            write(key, h.value, h.lifetime, h.isPrivate, c, now, &box)
        }
        settle(c, &box)
        let again = unconfirmed.keys.sorted().filter { unconfirmed[$0]!.resendAt <= now }
        for key in again { unconfirmed[key]?.resendAt = now + c.resend }
        for batch in Message.batches(again.compactMap { entries[$0] }, size: \.wireSize) {
            box.broadcast(.attributes(batch, confirm: true))
        }
        if !entries.isEmpty && now >= nextDigest && !c.others.isEmpty {
            nextDigest = now + c.digestEvery
            let d = NodeAttribute.digest(sorted)
            box.broadcast(.attributeDigest(count: d.count, hash: d.hash))
        }
    }

    /// Writes every member of the view (still there) holds are confirmed to their clients.
    private mutating func settle(_ c: AttributeContext, _ box: inout Outbox) {
        for key in unconfirmed.keys.sorted() {
            guard let u = unconfirmed[key], u.waiting.intersection(c.others).isEmpty else { continue }
            unconfirmed[key] = nil
            box.append(.notice(.attribute(.confirmed(key, version: u.version))))
        }
    }

    /// A view was installed: clear the transient attributes of nodes that left it, then send the
    /// whole map so every member holds the union.
    mutating func viewInstalled(_ change: ViewChange, _ c: AttributeContext, _ now: Instant, _ box: inout Outbox) {
        var gone = NodeSet((change.leftCleanly + change.lostUncleanly).map(\.node))
        for n in c.nodes where !c.view.nodes.contains(n) { gone.insert(n) }
        gone.remove(c.me)
        for key in entries.keys.sorted() where gone.contains(key.node) && entries[key]!.lifetime == .reboot {
            let e = entries.removeValue(forKey: key)!
            unconfirmed[key] = nil
            if e.value != nil {
                changes += 1
                box.append(.notice(.attribute(.cleared(key))))
                publish(key, nil, &box)
            }
        }
        for key in held.keys where gone.contains(key.node) && held[key]!.lifetime == .reboot { held[key] = nil }
        // Newcomers must hold a write before it is confirmed too (they get it with the maps sent
        // below, and acknowledge its next resend).
        var joined = NodeSet(change.joined.map(\.node))
        joined.remove(c.me)
        for key in unconfirmed.keys { unconfirmed[key]!.waiting = unconfirmed[key]!.waiting.union(joined) }
        settle(c, &box)
        sendWholeMap(&box)
    }

    /// Permanent attributes as this node saved them (start-up): kept where newer, not saved again.
    mutating func restore(_ list: [NodeAttribute], _ box: inout Outbox) {
        for e in list where e.lifetime == .forever { _ = take(e, &box) }
    }
}
