import Glibc

/// The client side of the control socket (vigilctl, tests).
public enum ControlClient {
    /// Sends one command and returns the whole answer.
    public static func request(_ path: String, _ command: String, timeout: Int = 5) throws -> String {
        var out = ""
        try stream(path, command, timeout: timeout) { out += $0 + "\n" }
        return out
    }

    /// Sends one command and hands each line of the answer to `line` until the server closes.
    public static func stream(_ path: String, _ command: String, timeout: Int, _ line: (String) -> Void) throws {
        let fd = try SocketIO.connectUnix(path)
        defer { close(fd) }
        SocketIO.setTimeout(fd, seconds: timeout)
        guard SocketIO.writeAll(fd, command + "\n") else { throw SystemError("cannot send to \(path)") }
        var pending: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SystemError("reading from \(path)") }
            if n == 0 { break }
            pending += buf[0..<n]
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                line(String(decoding: pending[..<nl], as: UTF8.self))
                pending.removeSubrange(...nl)
            }
        }
        if !pending.isEmpty { line(String(decoding: pending, as: UTF8.self)) }
    }
}
