import CSystemd
import Glibc
import VigilCore

/// sd_notify and the systemd watchdog. Without NOTIFY_SOCKET (not under systemd) every call is a no-op.
public final class Systemd: @unchecked Sendable {
    public let underSystemd: Bool
    /// Half of WatchdogSec (systemd's advice), if the unit has a watchdog.
    public let watchdogEvery: TimeSpan?

    public init() {
        underSystemd = getenv("NOTIFY_SOCKET") != nil
        var usec: UInt64 = 0
        watchdogEvery = sd_watchdog_enabled(0, &usec) > 0 && usec > 0 ? TimeSpan.us(Int64(usec / 2)) : nil
    }

    public func notify(_ state: String) {
        guard underSystemd else { return }
        _ = sd_notify(0, state)
    }

    /// Under systemd with the journal as stderr: log structured fields there.
    public static var journalIsStderr: Bool { getenv("JOURNAL_STREAM") != nil }
}
