import Glibc

/// One file in the node's state directory that a writer thread replaces whole with the latest
/// value handed to it (never on the heartbeat path: the heartbeat thread only hands the value
/// over; encoding and writing happen on the writer; a burst of changes ends in one write of the
/// newest copy). Used for the admin state and the permanent node attributes.
final class StateFile<Value: Sendable>: @unchecked Sendable {
    let path: String
    private let what: String
    private let encode: @Sendable (Value) -> String
    private let cond = Condition()
    private var pending: Value?

    init(path: String, what: String, log: Log, encode: @escaping @Sendable (Value) -> String) {
        self.path = path
        self.what = what
        self.encode = encode
        spawnThread("vigild-state") { [self] in writer(log) }
    }

    /// Hands the newest value to the writer (called on the heartbeat thread).
    func save(_ value: Value) {
        cond.locked { pending = value }
        cond.signal()
    }

    private func writer(_ log: Log) {
        while true {
            cond.lock()
            while pending == nil { cond.wait() }
            let value = pending!
            pending = nil
            cond.unlock()
            if !Files.replace(path, with: encode(value), mode: 0o640) {
                log.log(.error, "\(what): cannot write \(path): \(String(cString: strerror(errno))) (kept in memory; lost if the whole cluster restarts)")
            }
        }
    }
}
