import Glibc

/// pthread mutex + condition variable (the daemon avoids full Foundation to stay small).
final class Condition: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()

    init() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
    func signal() { pthread_cond_signal(&cond) }
    func broadcast() { pthread_cond_broadcast(&cond) }
    /// Waits (lock held) until signalled.
    func wait() { pthread_cond_wait(&cond, &mutex) }
    /// Waits (lock held) until signalled or `seconds` passed.
    func wait(seconds: Double) {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let ns = Int(ts.tv_nsec) + Int(seconds * 1e9)
        ts.tv_sec += ns / 1_000_000_000
        ts.tv_nsec = ns % 1_000_000_000
        pthread_cond_timedwait(&cond, &mutex, &ts)
    }

    /// Takes everything queued in `items` (under the lock), leaving it empty.
    func drain<T>(_ items: inout [T]) -> [T] {
        lock()
        defer { unlock() }
        let taken = items
        items = []
        return taken
    }

    func locked<T>(_ body: () -> T) -> T {
        lock()
        defer { unlock() }
        return body()
    }
}

/// Starts a detached thread running `body`.
func spawnThread(_ name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var t = pthread_t()
    // Helper threads run at normal priority even when started from the SCHED_FIFO heartbeat thread
    // (threads inherit their creator's policy by default).
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    var normal = sched_param(sched_priority: 0)
    pthread_attr_setinheritsched(&attr, Int32(PTHREAD_EXPLICIT_SCHED))
    pthread_attr_setschedpolicy(&attr, SCHED_OTHER)
    pthread_attr_setschedparam(&attr, &normal)
    let r = pthread_create(&t, &attr, { raw in
        let b = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
        b.body()
        return nil
    }, box)
    if r == 0 {
        pthread_detach(t)  // (naming threads needs pthread_setname_np, which Glibc's module hides)
    } else {
        Unmanaged<AnyObject>.fromOpaque(box).release()
    }
}

/// Reads a whole file; nil if it cannot be read.
func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue } else { return nil } }
        if n == 0 { return out }
        out += buf[0..<n]
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and newlines.
    var trimmed: String {
        let ws: Set<Character> = [" ", "\t", "\n", "\r"]
        var s = Substring(self)
        while let f = s.first, ws.contains(f) { s = s.dropFirst() }
        while let l = s.last, ws.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
