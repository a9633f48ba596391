import Glibc
import VigilCore

/// A Linux watchdog device (`/dev/watchdog`, Documentation/watchdog/watchdog-api.rst): opening it
/// arms the timer, WDIOC_SETTIMEOUT sets it, WDIOC_KEEPALIVE (or any write) feeds it, and writing
/// the magic 'V' before closing disarms it (clean shutdown only). Opened lazily, at the first
/// feed after a quorate view armed self-fencing; fed from the heartbeat loop only.
final class HardwareWatchdog {
    let path: String
    let timeout: TimeSpan
    private var fd: Int32 = -1
    private var lastFed = Instant.zero
    private var failed = false
    private var announcedStop = false
    /// A device without the ioctls (e.g. a test's stand-in) is fed by writes.
    private(set) var usesWrites = false
    private(set) var feeds = 0

    // _IOWR('W', 6, int), _IOR('W', 5, int)
    static let setTimeout: UInt = 0xC004_5706
    static let keepAlive: UInt = 0x8004_5705

    init(path: String, timeout: TimeSpan) {
        self.path = path
        self.timeout = timeout
    }

    /// Feeds at most every third of the timeout.
    func feed(_ now: Instant, log: Log) {
        guard !failed else { return }
        if fd < 0 {
            fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else {
                failed = true
                log.log(.error, "watchdog \(path): cannot open (\(String(cString: strerror(errno)))): self-fencing is NOT in force; peers will still count this node fenced after their safe wait")
                return
            }
            var secs = Int32(max(1, timeout.nanoseconds / 1_000_000_000))
            if ioctl(fd, HardwareWatchdog.setTimeout, &secs) != 0 {
                usesWrites = true
                log.log(.warning, "watchdog \(path): WDIOC_SETTIMEOUT failed (\(String(cString: strerror(errno)))); feeding by writes, the device's own timeout applies")
            } else {
                log.log(.notice, "watchdog \(path) armed: timeout \(secs)s, reset if this node is inquorate too long")
            }
        } else if now - lastFed < timeout / 3 {
            return
        }
        var dummy: Int32 = 0
        if usesWrites || ioctl(fd, HardwareWatchdog.keepAlive, &dummy) != 0 {
            usesWrites = true
            var b: UInt8 = 0x2E  // '.'
            _ = write(fd, &b, 1)
        }
        lastFed = now
        feeds += 1
    }

    func stopFeeding(log: Log) {
        guard fd >= 0, !announcedStop else { return }
        announcedStop = true
        log.log(.error, "watchdog \(path): no longer fed; the board resets this node within \(timeout)")
    }

    /// Clean shutdown: the magic close disarms the timer.
    func disarm() {
        guard fd >= 0, !announcedStop else { return }
        var v: UInt8 = 0x56  // 'V'
        _ = write(fd, &v, 1)
        close(fd)
        fd = -1
    }
}
