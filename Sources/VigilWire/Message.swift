/// A membership view's identity. Ordered by epoch, then by the coordinator that made it, so two
/// partitions that both reach epoch 7 still have distinct, totally ordered views (like corosync's ring id).
public struct ViewID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var epoch: UInt64
    public var coordinator: NodeID
    public init(epoch: UInt64, coordinator: NodeID) {
        self.epoch = epoch
        self.coordinator = coordinator
    }
    public static let none = ViewID(epoch: 0, coordinator: NodeID(0))
    public static func < (a: ViewID, b: ViewID) -> Bool {
        (a.epoch, a.coordinator.rawValue) < (b.epoch, b.coordinator.rawValue)
    }
    public var description: String { "\(epoch).\(coordinator.rawValue)" }
}

/// Message type byte in the clear header (health tools may read it without the key).
public enum MessageType: UInt8, Sendable, CaseIterable {
    case heartbeat = 1
    case propose = 2
    case ack = 3
    case install = 4
    case leave = 5
    case probe = 6
    case probeReply = 7
    case fenceState = 8
    case fenceStarted = 9
    case fenceOutcome = 10
    case resourceReport = 11
    case resourceCommand = 12
    case adminState = 13
    case attributes = 14
    case attributeAck = 15
    case attributeDigest = 16
    case resourceNotify = 17
    case configDigest = 18
    case configRequest = 19
    case configChunk = 20
}

/// How a fence attempt ended (one byte on the wire).
public enum FenceResult: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Every device of the level reported the node off (or rebooted).
    case success = 0
    /// A device said it could not (exit code, bad output) or could not be reached.
    case failed = 1
    /// A device did not answer within its timeout; its process group was killed.
    case timeout = 2
    /// The operator swore the node is off (`vigilctl fence confirm`).
    case confirmed = 3
    /// No device: counted as fenced after the watchdog safe wait (self-fencing).
    case watchdog = 4
    /// Abandoned because this node lost quorum while the attempt ran.
    case aborted = 5

    public var isSuccess: Bool { self == .success || self == .confirmed || self == .watchdog }
    public var description: String {
        switch self {
        case .success: "success"
        case .failed: "failed"
        case .timeout: "timeout"
        case .confirmed: "confirmed-by-operator"
        case .watchdog: "watchdog-safe-wait"
        case .aborted: "aborted"
        }
    }
}

/// The decrypted body of a frame.
public enum Message: Equatable, Sendable {
    /// Sent every interval on every link: what the sender's view is and whom it hears.
    case heartbeat(view: ViewID, alive: NodeSet)
    /// Coordinator asks the listed members to form `view`.
    case propose(view: ViewID, members: [Member])
    /// A member agrees to `view`; `cleanLeft` are members it saw leave gracefully.
    case ack(view: ViewID, cleanLeft: [Member])
    /// Coordinator commits `view`.
    case install(view: ViewID, members: [Member], cleanLeft: [Member])
    /// The sender leaves the cluster gracefully.
    case leave
    /// Round-trip probe: `stamp` is the sender's own clock, echoed back unchanged.
    case probe(stamp: UInt64)
    /// Answer to `to`'s probe, on the link it came in on.
    case probeReply(to: NodeID, stamp: UInt64)
    /// The sender's fencing state: members it knows must be fenced, and the highest fenced
    /// incarnation of each node. Both merge by maximum, so any member can bring a newcomer up to date.
    case fenceState(pending: [Member], fenced: [Member])
    /// The sender starts fencing `target` with its level `level` (1-based); others leave it alone
    /// for `boundMs` milliseconds.
    case fenceStarted(target: Member, level: UInt8, boundMs: UInt32)
    /// The sender's attempt on `target` ended.
    case fenceOutcome(target: Member, result: FenceResult, level: UInt8, tookMs: UInt32)
    /// The sender's local resources: whether it has probed them all, and each one's state, as of
    /// its view `view` (the owner places only from reports all made in its own current view).
    /// `version` grows with every report of one incarnation (the same report goes out on every
    /// link, so an older one can arrive after a newer one).
    /// `policy` is the resource policy the sender runs (0, the default, is not sent); `draining`,
    /// the redefined clones whose old instance still runs there (none is started anywhere meanwhile);
    /// `leaving`, the sender is stopping its resources to leave gracefully (nothing is placed there).
    case resourceReport(view: ViewID, version: UInt32, probed: Bool, entries: [ResourceEntry], policy: UInt64 = 0,
                        draining: [String] = [], leaving: Bool = false)
    /// The decision owner of `view` tells `node` to start or stop resource `id`. `seq` grows with
    /// every command of that owner: a late copy of an older command is ignored.
    /// `policy`: the resource policy the owner decided on (0, the default, is not sent); a node
    /// that runs another does not obey.
    case resourceCommand(view: ViewID, seq: UInt32, node: NodeID, id: String, action: ResourceAction, policy: UInt64 = 0)
    /// The decision owner tells `node` to run the clone notification `info` for resource `id`
    /// (acknowledged, once it ran, by the node's report: its `ack` reaches `seq`).
    case resourceNotify(view: ViewID, seq: UInt32, node: NodeID, id: String, info: NotifyInfo)
    /// The operator's instructions, whole (sent on each change and every second).
    case adminState(AdminState)
    /// Node attributes (Attributes.swift): new writes, resent until every member acknowledges
    /// them (`confirm`), or the sender's whole map when a view is installed.
    case attributes([NodeAttribute], confirm: Bool)
    /// The sender holds these attributes at these versions (to the writer `to`).
    case attributeAck(to: NodeID, [AttributeAck])
    /// A summary of the sender's whole map, sent now and then while it is not empty: a member
    /// whose own differs sends its map (repairs what a lost frame left out).
    case attributeDigest(count: UInt32, hash: UInt64)
    /// The configuration this node runs, one hash per part (ConfigDigest.swift), and the copy of the
    /// replicated document (Document.swift; `.none` is not sent): sent on every new view, every few
    /// seconds and at once when the node takes another copy.
    case configDigest(ConfigDigest, document: DocumentStamp = .none)
    /// Asks `to` for the chunks of document `stamp` the sender lacks (bit i set: chunk i is had).
    case configRequest(to: NodeID, stamp: DocumentStamp, have: UInt64)
    /// Chunk `index` of `count` of document `stamp` (to anyone fetching that copy).
    case configChunk(stamp: DocumentStamp, index: UInt8, count: UInt8, bytes: [UInt8])

    public var type: MessageType {
        switch self {
        case .heartbeat: .heartbeat
        case .propose: .propose
        case .ack: .ack
        case .install: .install
        case .leave: .leave
        case .probe: .probe
        case .probeReply: .probeReply
        case .fenceState: .fenceState
        case .fenceStarted: .fenceStarted
        case .fenceOutcome: .fenceOutcome
        case .resourceReport: .resourceReport
        case .resourceCommand: .resourceCommand
        case .resourceNotify: .resourceNotify
        case .adminState: .adminState
        case .attributes: .attributes
        case .attributeAck: .attributeAck
        case .attributeDigest: .attributeDigest
        case .configDigest: .configDigest
        case .configRequest: .configRequest
        case .configChunk: .configChunk
        }
    }

    func encodePayload(into w: inout ByteWriter) {
        switch self {
        case let .heartbeat(view, alive):
            Message.put(view, &w)
            w.u64(alive.bits)
        case let .propose(view, members):
            Message.put(view, &w)
            Message.put(members, &w)
        case let .ack(view, cleanLeft):
            Message.put(view, &w)
            Message.put(cleanLeft, &w)
        case let .install(view, members, cleanLeft):
            Message.put(view, &w)
            Message.put(members, &w)
            Message.put(cleanLeft, &w)
        case .leave:
            break
        case .probe(let stamp):
            w.u64(stamp)
        case let .probeReply(to, stamp):
            w.u16(to.rawValue)
            w.u64(stamp)
        case let .fenceState(pending, fenced):
            Message.put(pending, &w)
            Message.put(fenced, &w)
        case let .fenceStarted(target, level, bound):
            Message.put(target, &w)
            w.u8(level)
            w.u32(bound)
        case let .fenceOutcome(target, result, level, took):
            Message.put(target, &w)
            w.u8(result.rawValue)
            w.u8(level)
            w.u32(took)
        case let .resourceReport(view, version, probed, entries, policy, draining, leaving):
            Message.put(view, &w)
            w.u32(version)
            w.u8(probed ? 1 : 0)
            w.u8(UInt8(min(entries.count, 255)))
            for e in entries.prefix(255) {
                w.string(e.id)
                w.u8(e.state.rawValue)
                w.u8(e.failCount)
                Message.put(e.ack.view, &w)
                w.u16(e.ack.from.rawValue)
                w.u32(e.ack.seq)
            }
            // Trailing fields, each present only when it or a later one is not the default.
            if policy != 0 || !draining.isEmpty || leaving { w.u64(policy) }
            if !draining.isEmpty || leaving {
                w.u8(UInt8(min(draining.count, 255)))
                for d in draining.prefix(255) { w.string(d) }
            }
            if leaving { w.u8(1) }
        case let .resourceCommand(view, seq, node, id, action, policy):
            Message.put(view, &w)
            w.u32(seq)
            w.u16(node.rawValue)
            w.string(id)
            w.u8(action.rawValue)
            if policy != 0 { w.u64(policy) }
        case let .resourceNotify(view, seq, node, id, info):
            Message.put(view, &w)
            w.u32(seq)
            w.u16(node.rawValue)
            w.string(id)
            w.u8(info.phase.rawValue)
            w.u8(info.operation.rawValue)
            for set in info.lists { w.u64(set.bits) }
        case .adminState(let a):
            w.u64(a.version)
            w.u16(a.origin.rawValue)
            w.u64(a.standby.bits)
            w.u64(a.maintenance.bits)
            w.u8(UInt8(min(a.constraints.count, 255)))
            for c in a.constraints.prefix(255) {
                w.string(c.resource)
                w.u16(c.node.rawValue)
                w.u8(c.kind.rawValue)
            }
            for counters in [a.cleanups, a.restarts] {
                let sorted = counters.sorted { $0.key < $1.key }.prefix(255)
                w.u8(UInt8(sorted.count))
                for (k, v) in sorted {
                    w.string(k)
                    w.u32(v)
                }
            }
        case let .attributes(entries, confirm):
            Message.putAttributes(entries, confirm: confirm, &w)
        case let .attributeAck(to, acks):
            Message.putAttributeAck(to, acks, &w)
        case let .attributeDigest(count, hash):
            w.u32(count)
            w.u64(hash)
        case let .configDigest(d, document):
            w.u8(UInt8(d.hashes.count))
            for h in d.hashes { w.u64(h) }
            Message.putTrailing(document, &w)
        case .configRequest, .configChunk:
            encodeDocumentTransfer(into: &w)
        }
    }

    /// Parses a payload; nil when malformed (wrong length, bad counts, trailing bytes).
    static func decodePayload(type: MessageType, _ r: inout ByteReader) -> Message? {
        let m: Message?
        switch type {
        case .heartbeat:
            guard let v = view(&r), let a = r.u64() else { return nil }
            m = .heartbeat(view: v, alive: NodeSet(bits: a))
        case .propose:
            guard let v = view(&r), let ms = members(&r) else { return nil }
            m = .propose(view: v, members: ms)
        case .ack:
            guard let v = view(&r), let c = members(&r) else { return nil }
            m = .ack(view: v, cleanLeft: c)
        case .install:
            guard let v = view(&r), let ms = members(&r), let c = members(&r) else { return nil }
            m = .install(view: v, members: ms, cleanLeft: c)
        case .leave:
            m = .leave
        case .probe:
            guard let s = r.u64() else { return nil }
            m = .probe(stamp: s)
        case .probeReply:
            guard let to = r.u16(), let s = r.u64() else { return nil }
            m = .probeReply(to: NodeID(to), stamp: s)
        case .fenceState:
            guard let p = members(&r), let f = members(&r) else { return nil }
            m = .fenceState(pending: p, fenced: f)
        case .fenceStarted:
            guard let t = member(&r), let l = r.u8(), let b = r.u32() else { return nil }
            m = .fenceStarted(target: t, level: l, boundMs: b)
        case .fenceOutcome:
            guard let t = member(&r), let res = r.u8().flatMap(FenceResult.init(rawValue:)), let l = r.u8(),
                  let took = r.u32() else { return nil }
            m = .fenceOutcome(target: t, result: res, level: l, tookMs: took)
        case .resourceReport:
            guard let rv = view(&r), let version = r.u32(), let p = r.u8(), p <= 1, let n = r.u8() else { return nil }
            var entries: [ResourceEntry] = []
            for _ in 0..<n {
                guard let id = r.string(), let st = r.u8().flatMap(ResourceState.init(rawValue:)), let fc = r.u8(),
                      let av = view(&r), let af = r.u16(), let aseq = r.u32() else { return nil }
                entries.append(ResourceEntry(id: id, state: st, failCount: fc, ack: CommandAck(view: av, from: NodeID(af), seq: aseq)))
            }
            var policy: UInt64 = 0
            var draining: [String] = []
            if r.remaining > 0 {
                guard let v = r.u64() else { return nil }
                policy = v
            }
            if r.remaining > 0 {
                guard let k = r.u8() else { return nil }
                for _ in 0..<k {
                    guard let d = r.string() else { return nil }
                    draining.append(d)
                }
            }
            var leaving = false
            if r.remaining > 0 {
                guard let flags = r.u8() else { return nil }
                leaving = flags & 1 != 0
            }
            m = .resourceReport(view: rv, version: version, probed: p == 1, entries: entries, policy: policy, draining: draining,
                                leaving: leaving)
        case .resourceCommand:
            guard let v = view(&r), let seq = r.u32(), let n = r.u16(), NodeID(n).isValid, let id = r.string(),
                  let a = r.u8().flatMap(ResourceAction.init(rawValue:)) else { return nil }
            var policy: UInt64 = 0
            if r.remaining > 0 {
                guard let p = r.u64() else { return nil }
                policy = p
            }
            m = .resourceCommand(view: v, seq: seq, node: NodeID(n), id: id, action: a, policy: policy)
        case .resourceNotify:
            guard let v = view(&r), let seq = r.u32(), let n = r.u16(), NodeID(n).isValid, let id = r.string(),
                  let ph = r.u8().flatMap(NotifyInfo.Phase.init(rawValue:)), let a = r.u8().flatMap(ResourceAction.init(rawValue:))
            else { return nil }
            var lists: [NodeSet] = []
            for _ in 0..<NotifyInfo.listCount {
                guard let b = r.u64() else { return nil }
                lists.append(NodeSet(bits: b))
            }
            m = .resourceNotify(view: v, seq: seq, node: NodeID(n), id: id, info: NotifyInfo(phase: ph, operation: a, lists: lists))
        case .adminState:
            guard let version = r.u64(), let o = r.u16(), let sb = r.u64(), let mt = r.u64(), let nc = r.u8() else { return nil }
            var a = AdminState()
            (a.version, a.origin, a.standby, a.maintenance) = (version, NodeID(o), NodeSet(bits: sb), NodeSet(bits: mt))
            for _ in 0..<nc {
                guard let id = r.string(), let n = r.u16(), NodeID(n).isValid,
                      let k = r.u8().flatMap(AdminState.Kind.init(rawValue:)) else { return nil }
                a.constraints.append(.init(resource: id, node: NodeID(n), kind: k))
            }
            for i in 0..<2 {
                guard let count = r.u8() else { return nil }
                var d: [String: UInt32] = [:]
                for _ in 0..<count {
                    guard let k = r.string(), let v = r.u32() else { return nil }
                    d[k] = v
                }
                if i == 0 { a.cleanups = d } else { a.restarts = d }
            }
            m = .adminState(a)
        case .attributes:
            m = readAttributes(&r)
        case .attributeAck:
            m = readAttributeAck(&r)
        case .attributeDigest:
            guard let c = r.u32(), let h = r.u64() else { return nil }
            m = .attributeDigest(count: c, hash: h)
        case .configDigest:
            // Parts this build does not know are skipped; parts the sender does not know stay 0.
            guard let n = r.u8() else { return nil }
            var d = ConfigDigest()
            for i in 0..<Int(n) {
                guard let h = r.u64() else { return nil }
                if i < d.hashes.count { d.hashes[i] = h }
            }
            guard let s = trailingStamp(&r) else { return nil }
            m = .configDigest(d, document: s)
        case .configRequest, .configChunk:
            m = readDocumentTransfer(type, &r)
        }
        return r.remaining == 0 ? m : nil
    }

    private static func put(_ v: ViewID, _ w: inout ByteWriter) {
        w.u64(v.epoch)
        w.u16(v.coordinator.rawValue)
    }
    private static func put(_ ms: [Member], _ w: inout ByteWriter) {
        w.u8(UInt8(min(ms.count, 64)))
        for m in ms.prefix(64) { put(m, &w) }
    }
    private static func put(_ m: Member, _ w: inout ByteWriter) {
        w.u16(m.node.rawValue)
        w.u64(m.incarnation)
    }
    private static func member(_ r: inout ByteReader) -> Member? {
        guard let id = r.u16(), let inc = r.u64(), NodeID(id).isValid else { return nil }
        return Member(NodeID(id), inc)
    }
    private static func view(_ r: inout ByteReader) -> ViewID? {
        guard let e = r.u64(), let c = r.u16() else { return nil }
        return ViewID(epoch: e, coordinator: NodeID(c))
    }
    private static func members(_ r: inout ByteReader) -> [Member]? {
        guard let n = r.u8(), n <= 64 else { return nil }
        var out: [Member] = []
        out.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let m = member(&r) else { return nil }
            out.append(m)
        }
        return out
    }
}
