import CSystemd
import Glibc

/// Logging off the heartbeat path: callers enqueue (a short lock), a writer thread does the I/O,
/// to the journal with structured fields (NODE, PEER, LINK, EPOCH) under systemd, else to stderr.
public final class Log: @unchecked Sendable {
    public enum Level: Int32, Comparable, Sendable {
        case error = 3, warning = 4, notice = 5, info = 6, debug = 7
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var word: String { ["", "", "", "error", "warning", "notice", "info", "debug"][Int(rawValue)] }
    }
    struct Record {
        var level: Level
        var message: String
        var fields: [String: String]
        var time: String
    }

    public var node = "-"
    public var maxLevel: Level
    private let toJournal: Bool
    private let cond = Condition()
    private var queue: [Record] = []
    private var dropped = 0

    public init(maxLevel: Level = .info, journal: Bool) {
        self.maxLevel = maxLevel
        toJournal = journal
        spawnThread("vigild-log") { [unowned self] in self.drain() }
    }

    public func log(_ level: Level, _ message: String, peer: String? = nil, link: String? = nil, epoch: UInt64? = nil) {
        guard level <= maxLevel else { return }
        var f: [String: String] = [:]
        if let peer { f["VIGIL_PEER"] = peer }
        if let link { f["VIGIL_LINK"] = link }
        if let epoch { f["VIGIL_EPOCH"] = String(epoch) }
        cond.lock()
        if queue.count < 10_000 { queue.append(Record(level: level, message: message, fields: f, time: Clock.wallISO())) } else { dropped += 1 }
        cond.signal()
        cond.unlock()
    }

    /// Waits until everything queued so far is written (used at exit).
    public func flush() {
        for _ in 0..<200 {
            cond.lock()
            let empty = queue.isEmpty
            cond.unlock()
            if empty { return }
            usleep(5_000)
        }
    }

    private func drain() {
        while true {
            cond.lock()
            while queue.isEmpty { cond.wait() }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let lost = dropped
            dropped = 0
            cond.unlock()
            if lost > 0 { write(Record(level: .warning, message: "log queue full: \(lost) messages dropped", fields: [:], time: Clock.wallISO())) }
            for r in batch { write(r) }
        }
    }

    private func write(_ r: Record) {
        if toJournal {
            let f = ["VIGIL_NODE", "VIGIL_PEER", "VIGIL_LINK", "VIGIL_EPOCH"].map { k in
                k == "VIGIL_NODE" ? "VIGIL_NODE=\(node)" : "\(k)=\(r.fields[k] ?? "")"
            }
            _ = vigil_journal_send(r.level.rawValue, r.message, f[0], f[1], f[2], f[3])
        } else {
            let line = "\(r.time) vigild[\(node)] \(r.level.word): \(r.message)\n"
            _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        }
    }
}
