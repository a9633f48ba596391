import Glibc
import VigilCore

/// How one run of an external program (fence agent, plugin) ended.
struct PluginRun: Sendable {
    var exitCode: Int32?
    var signal: Int32?
    var timedOut = false
    var spawnError: String?
    var stdout = ""
    var stderr = ""
    var duration = TimeSpan.zero

    /// "exit 1", "killed after 20s timeout", "signal 9", "cannot run: ...".
    var summary: String {
        if let e = spawnError { return "cannot run: \(e)" }
        if timedOut { return "timed out after \(duration); process group killed" }
        if let s = signal { return "killed by signal \(s)" }
        return "exit \(exitCode ?? -1)"
    }
}

/// Runs a program with no shell: argv as given, an optional stdin text, extra environment. It gets
/// its own process group; over `timeout` the whole group is killed (SIGKILL). stdout and stderr are
/// captured (64 KiB each at most).
enum Plugin {
    static let outputCap = 65_536

    /// `keepDescendants` (resource agents): what the program leaves running when it exits (a
    /// daemon it started, IPaddr2's background ARP announcements) is not killed, and the call
    /// returns as soon as the program exits even if they still hold its output (a drainer thread
    /// reads it to the end, so they never die of SIGPIPE). Otherwise (fence plugins) the whole
    /// process group is killed once the program exits: a fence leaves nothing behind.
    static func run(_ path: String, args: [String] = [], env extra: [(String, String)] = [], stdin text: String? = nil,
                    timeout: TimeSpan, keepDescendants: Bool = false, onStart: ((pid_t) -> Void)? = nil) -> PluginRun {
        var r = PluginRun()
        let start = Clock.monotonic()
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard cloexecPipe(&inPipe), cloexecPipe(&outPipe), cloexecPipe(&errPipe) else {
            for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) }
            r.spawnError = "pipe: \(String(cString: strerror(errno)))"
            return r
        }
        var pid: pid_t = 0
        let rc = spawn(&pid, path, argv: [path] + args, environment: environment(extra), stdio: (inPipe[0], outPipe[1], errPipe[1]))
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard rc == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            r.spawnError = "\(path): \(String(cString: strerror(rc)))"
            return r
        }
        onStart?(pid)
        if let text {
            _ = fcntl(inPipe[1], F_SETFL, O_NONBLOCK)
            _ = SocketIO.writeFile(inPipe[1], text)
        }
        close(inPipe[1])
        var out: [UInt8] = [], err: [UInt8] = []
        let w = wait(pid, outPipe[0], errPipe[0], &out, &err, deadline: start + timeout, keepDescendants: keepDescendants)
        r.timedOut = w.timedOut
        if !keepDescendants || r.timedOut { kill(-pid, SIGKILL) }  // leave nothing of it behind
        if keepDescendants && !r.timedOut && w.outputOpen {
            drainInBackground([outPipe[0], errPipe[0]])
        } else {
            close(outPipe[0]); close(errPipe[0])
        }
        r.duration = Clock.monotonic() - start
        r.stdout = String(decoding: out.prefix(outputCap), as: UTF8.self)
        r.stderr = String(decoding: err.prefix(outputCap), as: UTF8.self)
        if !r.timedOut {
            if w.status & 0x7f == 0 { r.exitCode = (w.status >> 8) & 0xff } else { r.signal = w.status & 0x7f }
        }
        return r
    }

    /// A small fixed environment (PATH, LANG, HOME) under the caller's variables.
    private static func environment(_ extra: [(String, String)]) -> [String] {
        var base: [(String, String)] = [("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), ("LANG", "C.UTF-8")]
        if let home = getenv("HOME") { base.append(("HOME", String(cString: home))) }
        let given = Set(extra.map(\.0))
        return (base.filter { !given.contains($0.0) } + extra).map { "\($0.0)=\($0.1)" }
    }

    /// posix_spawn with stdin, stdout and stderr on the given descriptors; returns its error code.
    private static func spawn(_ pid: inout pid_t, _ path: String, argv: [String], environment: [String],
                              stdio: (Int32, Int32, Int32)) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdio.0, 0)
        posix_spawn_file_actions_adddup2(&actions, stdio.1, 1)
        posix_spawn_file_actions_adddup2(&actions, stdio.2, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Own process group (to kill it whole), default signal handling (vigild ignores SIGPIPE),
        // nothing blocked.
        var defaults = sigset_t(), empty = sigset_t()
        sigfillset(&defaults)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        // Normal scheduling: the heartbeat thread runs SCHED_FIFO, and a plugin (or the database a
        // resource agent starts) must never inherit that and compete with it.
        var normal = sched_param(sched_priority: 0)
        posix_spawnattr_setschedpolicy(&attr, SCHED_OTHER)
        posix_spawnattr_setschedparam(&attr, &normal)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
                                              | POSIX_SPAWN_SETSCHEDULER))
        var pidOut: pid_t = 0
        let rc = withCStrings(argv) { a in withCStrings(environment) { e in posix_spawn(&pidOut, path, &actions, &attr, a, e) } }
        pid = pidOut
        return rc
    }

    /// Reads the program's output until it exited and closed it (or at once after its exit when
    /// its descendants may stay, or a second later when a stray grandchild holds it), or kills its
    /// group at the deadline.
    private static func wait(_ pid: pid_t, _ outFd: Int32, _ errFd: Int32, _ out: inout [UInt8], _ err: inout [UInt8],
                             deadline: Instant, keepDescendants: Bool) -> (status: Int32, timedOut: Bool, outputOpen: Bool) {
        for fd in [outFd, errFd] { _ = fcntl(fd, F_SETFL, O_NONBLOCK) }
        var open = [true, true]
        var status: Int32 = 0
        var exitedAt: Instant?
        while true {
            var fds = [pollfd(fd: open[0] ? outFd : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open[1] ? errFd : -1, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, 20)
            if open[0] && fds[0].revents != 0 { open[0] = drain(outFd, into: &out) }
            if open[1] && fds[1].revents != 0 { open[1] = drain(errFd, into: &err) }
            if exitedAt == nil && waitpid(pid, &status, WNOHANG) == pid { exitedAt = Clock.monotonic() }
            let now = Clock.monotonic()
            // What it wrote before exiting is in the pipe and was drained above.
            if let at = exitedAt, !open[0] && !open[1] || keepDescendants || now - at > .seconds(1) {
                return (status, false, open[0] || open[1])
            }
            if exitedAt == nil && now >= deadline {
                kill(-pid, SIGKILL)
                waitpid(pid, &status, 0)
                return (status, true, open[0] || open[1])
            }
        }
    }

    private static func cloexecPipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Reads (and drops) what a program's descendants still write, until they close it or for at
    /// most ten minutes, then closes the descriptors.
    private static func drainInBackground(_ fds: [Int32]) {
        spawnThread("vigild-drain") {
            var open = fds.map { _ in true }
            var sink: [UInt8] = []
            let end = Clock.monotonic() + .seconds(600)
            while open.contains(true) && Clock.monotonic() < end {
                var p = fds.enumerated().map { pollfd(fd: open[$0.offset] ? $0.element : -1, events: Int16(POLLIN), revents: 0) }
                _ = poll(&p, nfds_t(p.count), 1000)
                for i in fds.indices where open[i] && p[i].revents != 0 {
                    open[i] = drain(fds[i], into: &sink)
                    sink.removeAll(keepingCapacity: true)
                }
            }
            for fd in fds { close(fd) }
        }
    }

    /// Reads what is there; false at end of file.
    private static func drain(_ fd: Int32, into buf: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                if buf.count < outputCap { buf += chunk[0..<n] }
                continue
            }
            if n == 0 { return false }
            return errno == EAGAIN || errno == EINTR
        }
    }

    private static func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> T) -> T {
        var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        ptrs.append(nil)
        defer { for p in ptrs { free(p) } }
        return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
