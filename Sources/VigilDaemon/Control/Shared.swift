import Glibc
import VigilCore
import VigilStatus

/// What the heartbeat thread publishes for the other threads (control socket, metrics), and the
/// requests they hand back to it. One lock, held only to copy values in or out.
final class Shared: @unchecked Sendable {
    enum Request: Sendable {
        case leave, reload
        case fence(NodeID, FenceAction)
        case confirm(NodeID)
        case admin(AdminRequest)
        case attribute(AttributeRequest)
        /// `vigilctl config apply`: validated bytes and their epoch; answered through `reply`.
        case applyDocument([UInt8], epoch: UInt32, reply: DocumentReply)
        /// `vigilctl config diff`: where the owner would place this policy's resources now.
        case previewPlacement(ResourcePolicy, reply: DocumentReply)
        /// `vigilctl ticket ...`: the core answers with a ticket_command or ticket_refused event.
        case ticket(TicketCommand)
    }

    private let cond = Condition()
    private var snapshot: StatusSnapshot?
    /// Every attribute value, private ones included (`attr get` reads them by name).
    private var attributes: [AttributeKey: NodeAttribute] = [:]
    private var events: [ClusterEvent] = []
    private var lateness = LatenessHistogram()
    private var sendErrors = 0
    private var requests: [Request] = []
    /// Resource ids and group names (a group's first member), as the file last read says.
    private var resourceNames: (ids: [String], groups: [String: String]) = ([], [:])
    /// The replicated document this node runs (`config show`), and this node's config file.
    private var documentCopy: (text: String, version: DocumentVersion)?
    static let eventCapacity = 4096

    func publish(_ s: StatusSnapshot, attributes a: [AttributeKey: NodeAttribute], lateness l: LatenessHistogram, sendErrors e: Int) {
        cond.lock()
        snapshot = s
        attributes = a
        lateness = l
        sendErrors = e
        cond.unlock()
    }

    func setResourceNames(_ resources: [(id: String, group: String?)]) {
        var g: [String: String] = [:]
        for r in resources { if let n = r.group, g[n] == nil { g[n] = r.id } }
        cond.locked { resourceNames = (resources.map(\.id), g) }
    }

    private var nodeNames: [String: NodeID] = [:]
    func setNodeIDs(_ n: [String: NodeID]) { cond.locked { nodeNames = n } }
    var nodeIDs: [String: NodeID] { cond.locked { nodeNames } }

    func setDocument(_ text: String, version: DocumentVersion) { cond.locked { documentCopy = (text, version) } }
    var document: (text: String, version: DocumentVersion)? { cond.locked { documentCopy } }

    var resourceIDs: [String] { cond.locked { resourceNames.ids } }
    var resourceGroups: [String: String] { cond.locked { resourceNames.groups } }

    func append(_ e: ClusterEvent) {
        cond.lock()
        events.append(e)
        if events.count > Shared.eventCapacity { events.removeFirst(events.count - Shared.eventCapacity) }
        cond.broadcast()
        cond.unlock()
    }

    func current() -> (StatusSnapshot?, LatenessHistogram, Int) {
        cond.lock()
        defer { cond.unlock() }
        return (snapshot, lateness, sendErrors)
    }

    /// Events with seq > `after`; waits up to `wait` seconds for one if there are none.
    func events(after: UInt64, wait: Double) -> [ClusterEvent] {
        cond.lock()
        defer { cond.unlock() }
        if wait > 0 && (events.last?.seq ?? 0) <= after { cond.wait(seconds: wait) }
        return events.filter { $0.seq > after }
    }

    func attribute(_ k: AttributeKey) -> NodeAttribute? {
        cond.lock()
        defer { cond.unlock() }
        return attributes[k]
    }

    func request(_ r: Request) {
        cond.lock()
        requests.append(r)
        cond.unlock()
    }

    func takeRequests() -> [Request] { cond.drain(&requests) }
}

/// A pipe whose read end wakes the heartbeat loop's poll (signals and control requests write to it).
struct WakePipe {
    let read: Int32
    let write: Int32
    init() throws {
        var fds: [Int32] = [0, 0]
        try check(pipe(&fds), "pipe")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        read = fds[0]
        write = fds[1]
    }
    func poke(_ byte: UInt8) {
        var b = byte
        _ = Glibc.write(write, &b, 1)
    }
    func drain() -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 64)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress, 64) }
            if n <= 0 { return out }
            out += buf[0..<n]
        }
    }
}
