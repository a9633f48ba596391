/// Sliding window over one sender's sequence numbers on one link (IPsec-style, 64 wide).
/// Rejects replays and stale frames, and gives the loss ratio over the window for link health.
public struct ReplayWindow: Sendable, Equatable {
    public static let width: UInt64 = 64
    public private(set) var incarnation: Incarnation = 0
    public private(set) var highest: UInt64 = 0
    /// Bit i set: sequence (highest - i) was received.
    private var seen: UInt64 = 0
    /// First sequence received in this incarnation: the window never counts losses before it.
    private var first: UInt64 = 0
    private var started = false

    public init() {}

    /// Accepts (and records) a frame, or says why not. Call only after authentication.
    public mutating func accept(incarnation inc: Incarnation, sequence seq: UInt64) -> Rejection? {
        if !started || inc > incarnation {
            self = ReplayWindow()
            started = true
            incarnation = inc
            highest = seq
            first = seq
            seen = 1
            return nil
        }
        if inc < incarnation { return .stale }
        if seq > highest {
            let shift = seq - highest
            seen = shift >= 64 ? 1 : (seen << shift) | 1
            highest = seq
            return nil
        }
        let age = highest - seq
        if age >= ReplayWindow.width { return .stale }
        if seen & (1 << age) != 0 { return .replayed }
        seen |= 1 << age
        if seq < first { first = seq }
        return nil
    }

    /// What `accept` would say, without recording anything: checked before authentication, so that
    /// a replayed capture costs no decryption (as IPsec does, RFC 4303 3.4.3). Only `accept`, after
    /// authentication, moves the window.
    public func check(incarnation inc: Incarnation, sequence seq: UInt64) -> Rejection? {
        guard started, inc <= incarnation else { return nil }
        if inc < incarnation { return .stale }
        guard seq <= highest else { return nil }
        let age = highest - seq
        if age >= ReplayWindow.width { return .stale }
        return seen & (1 << age) != 0 ? .replayed : nil
    }

    /// Fraction of sequences missing among the last (up to) 64 since the first one seen.
    public var loss: Double {
        guard started else { return 0 }
        let span = min(ReplayWindow.width, highest - first + 1)
        let mask: UInt64 = span == 64 ? ~0 : (1 << span) - 1
        return 1 - Double((seen & mask).nonzeroBitCount) / Double(span)
    }
}
