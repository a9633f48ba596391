import Glibc

/// One file in the node's state directory that a writer thread replaces whole with the latest
/// text handed to it (never on the heartbeat path; a burst of changes ends in one write of the
/// newest copy). Used for the admin state and the permanent node attributes.
final class StateFile: @unchecked Sendable {
    let path: String
    private let what: String
    private let cond = Condition()
    private var pending: String?

    init(path: String, what: String, log: Log) {
        self.path = path
        self.what = what
        spawnThread("vigild-state") { [self] in writer(log) }
    }

    /// Hands the newest text to the writer (called on the heartbeat thread).
    func save(_ text: String) {
        cond.locked { pending = text }
        cond.signal()
    }

    private func writer(_ log: Log) {
        while true {
            cond.lock()
            while pending == nil { cond.wait() }
            let text = pending!
            pending = nil
            cond.unlock()
            if !Files.replace(path, with: text, mode: 0o640) {
                log.log(.error, "\(what): cannot write \(path): \(String(cString: strerror(errno))) (kept in memory; lost if the whole cluster restarts)")
            }
        }
    }
}
