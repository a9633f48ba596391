import Glibc

/// Small blocking-socket helpers for the control and metrics threads (never the heartbeat thread).
enum SocketIO {
    static func writeAll(_ fd: Int32, _ s: String) -> Bool {
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// Reads up to the first newline (or `limit` bytes); nil on error or time-out.
    static func readLine(_ fd: Int32, limit: Int = 4096) -> String? {
        var out: [UInt8] = []
        var b: UInt8 = 0
        while out.count < limit {
            let n = recv(fd, &b, 1, 0)
            if n <= 0 { return out.isEmpty ? nil : String(decoding: out, as: UTF8.self) }
            if b == UInt8(ascii: "\n") { break }
            out.append(b)
        }
        return String(decoding: out, as: UTF8.self).trimmed
    }

    static func setTimeout(_ fd: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    static func unixAddress(_ path: String) -> sockaddr_un? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes + [0]) }
        return addr
    }

    /// Connects to a Unix stream socket (used by vigilctl).
    static func connectUnix(_ path: String) throws -> Int32 {
        guard var addr = unixAddress(path) else { throw SystemError("socket path too long: \(path)", errno: ENAMETOOLONG) }
        let fd = try check(socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0), "socket")
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        if r < 0 {
            let e = errno
            close(fd)
            throw SystemError("cannot connect to \(path)", errno: e)
        }
        return fd
    }
}
