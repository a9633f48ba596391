import FoundationEssentials
import Glibc
import VigilCore
import VigilStatus

/// The client side of the control socket (vigilctl, lab tests).
public enum ControlClient {
    /// Sends one request and returns the whole answer.
    public static func request(_ path: String, _ r: ControlRequest, timeout: Int = 5) throws -> String {
        var out = ""
        try stream(path, r, timeout: timeout) { out += $0 + "\n" }
        return out
    }

    /// Sends a request with a short answer (`ControlAnswer`); an answer that is not one says so.
    public static func answer(_ path: String, _ r: ControlRequest, timeout: Int = 5) throws -> ControlAnswer {
        let text = try request(path, r, timeout: timeout)
        guard let a = try? JSONDecoder().decode(ControlAnswer.self, from: Data(text.utf8)) else {
            return .refused("vigild answered something unexpected: \(text.prefix(200))")
        }
        return a
    }

    /// The newest event's sequence number (0 if none), to follow what comes after it.
    public static func lastEventSeq(_ path: String) throws -> UInt64 {
        let last = try request(path, .events(follow: false)).split(separator: "\n").last
        return last.flatMap { try? JSONDecoder().decode(ClusterEvent.self, from: Data($0.utf8)) }?.seq ?? 0
    }

    /// Follows the event stream (the buffered history first), handing each event after `seq` to
    /// `event` until it returns false, the server closes, or `seconds` pass (nil: no limit).
    /// Returns whether `event` ended it.
    @discardableResult
    public static func follow(_ path: String, after seq: UInt64, within seconds: Double? = nil,
                              _ event: (ClusterEvent) -> Bool) throws -> Bool {
        let deadline = seconds.map { Clock.monotonic() + TimeSpan(nanoseconds: Int64($0 * 1e9)) }
        var ended = false
        try lines(path, .events(follow: true), timeout: deadline == nil ? 0 : 1,
                  idle: { deadline.map { Clock.monotonic() < $0 } ?? true }) { line in
            guard let e = try? JSONDecoder().decode(ClusterEvent.self, from: Data(line.utf8)), e.seq > seq else {
                return deadline.map { Clock.monotonic() < $0 } ?? true
            }
            ended = !event(e)
            return !ended && (deadline.map { Clock.monotonic() < $0 } ?? true)
        }
        return ended
    }

    /// Sends one request and hands each line of the answer to `line` until the server closes.
    public static func stream(_ path: String, _ r: ControlRequest, timeout: Int, _ line: (String) -> Void) throws {
        try lines(path, r, timeout: timeout) { line($0); return true }
    }

    /// The reader under the others: each line to `line` until it returns false or the server
    /// closes. A read that times out asks `idle` whether to keep waiting (without it: an error).
    private static func lines(_ path: String, _ r: ControlRequest, timeout: Int, idle: (() -> Bool)? = nil,
                              _ line: (String) -> Bool) throws {
        let fd = try SocketIO.connectUnix(path)
        defer { close(fd) }
        SocketIO.setTimeout(fd, seconds: timeout)
        guard SocketIO.writeAll(fd, r.line + "\n") else { throw SystemError("cannot send to \(path)") }
        var pending: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), let idle {
                if idle() { continue }
                return
            }
            if n < 0 { throw SystemError("reading from \(path)") }
            if n == 0 { break }
            pending += buf[0..<n]
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let text = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                if !line(text) { return }
            }
        }
        if !pending.isEmpty { _ = line(String(decoding: pending, as: UTF8.self)) }
    }
}
