/// A point on a monotonic clock that the caller owns (real or simulated), in nanoseconds.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public static let zero = Instant(nanoseconds: 0)
    /// Points on a simulated clock that starts at zero.
    public static func seconds(_ v: Double) -> Instant { Instant(nanoseconds: Int64(v * 1e9)) }
    public static func ms(_ v: Int64) -> Instant { Instant(nanoseconds: v * 1_000_000) }
    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func + (a: Instant, d: TimeSpan) -> Instant { Instant(nanoseconds: a.nanoseconds &+ d.nanoseconds) }
    public static func - (a: Instant, d: TimeSpan) -> Instant { Instant(nanoseconds: a.nanoseconds &- d.nanoseconds) }
    public static func - (a: Instant, b: Instant) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds &- b.nanoseconds) }
    public var description: String { TimeSpan(nanoseconds: nanoseconds).description }
}

/// A length of time in nanoseconds.
public struct TimeSpan: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public static func ms(_ v: Int64) -> TimeSpan { TimeSpan(nanoseconds: v * 1_000_000) }
    public static func us(_ v: Int64) -> TimeSpan { TimeSpan(nanoseconds: v * 1_000) }
    public static func seconds(_ v: Double) -> TimeSpan { TimeSpan(nanoseconds: Int64(v * 1e9)) }
    public static let zero = TimeSpan(nanoseconds: 0)
    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func + (a: TimeSpan, b: TimeSpan) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds + b.nanoseconds) }
    public static func - (a: TimeSpan, b: TimeSpan) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds - b.nanoseconds) }
    public static func * (a: TimeSpan, k: Int64) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds * k) }
    public static func / (a: TimeSpan, k: Int64) -> TimeSpan { TimeSpan(nanoseconds: a.nanoseconds / k) }
    public var milliseconds: Double { Double(nanoseconds) / 1e6 }
    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var description: String {
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        return String(format3(milliseconds)) + "ms"
    }
}

/// Three decimals without Foundation.
func format3(_ v: Double) -> String {
    let scaled = Int64((v * 1000).rounded())
    let sign = scaled < 0 ? "-" : ""
    let a = abs(scaled)
    let frac = String(a % 1000)
    return "\(sign)\(a / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
}

extension Double {
    /// One decimal, for reports and tables ("2.0", "17.6").
    public var rounded1: String {
        let v = (self * 10).rounded() / 10
        return v == v.rounded() ? "\(Int(v)).0" : "\(v)"
    }
}
