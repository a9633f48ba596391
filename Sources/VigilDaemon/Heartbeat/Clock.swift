import Glibc
import VigilCore

/// The real clocks, read only by shells: monotonic time for the core, wall time for humans.
public enum Clock {
    public static func monotonic() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// Microseconds since the epoch: a new, larger incarnation at every start.
    public static func wallMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec / 1000)
    }

    /// UTC, ISO 8601 with milliseconds, e.g. 2026-11-25T15:43:11.123Z.
    public static func wallISO() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func p(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(p(tm.tm_year + 1900, 4))-\(p(tm.tm_mon + 1, 2))-\(p(tm.tm_mday, 2))T\(p(tm.tm_hour, 2)):\(p(tm.tm_min, 2)):\(p(tm.tm_sec, 2)).\(p(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}

extension timespec {
    /// A relative timeout for ppoll (negative: zero).
    init(nanoseconds: Int64) {
        let n = max(0, nanoseconds)
        self.init(tv_sec: Int(n / 1_000_000_000), tv_nsec: Int(n % 1_000_000_000))
    }
}
