import Glibc
import VigilConfig

/// A socket address built from a config `IPAddress` and a port.
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t

    init(_ ip: IPAddress, port: UInt16, scope: UInt32 = 0) {
        switch ip {
        case .v4(let b):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: b) }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin) { dst.copyMemory(from: $0) } }
        case .v6(let b):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_scope_id = scope
            withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: b) }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin6) { dst.copyMemory(from: $0) } }
        }
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: storage) { try body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
    }
}

/// A system call failed while setting something up; says which and why.
public struct SystemError: Error, CustomStringConvertible {
    public var what: String
    public var errno: Int32
    public init(_ what: String, errno e: Int32 = Glibc.errno) {
        self.what = what
        errno = e
    }
    public var description: String { "\(what): \(String(cString: strerror(errno)))" }
}

@discardableResult
func check(_ r: Int32, _ what: @autoclosure () -> String) throws -> Int32 {
    if r < 0 { throw SystemError(what()) }
    return r
}

func setOption<T>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: T, _ what: String) throws {
    var v = value
    try check(setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<T>.size)), "setsockopt \(what)")
}

/// The local network interface that holds an address (for multicast joins).
struct Interface {
    var name: String
    var index: UInt32

    static func holding(_ ip: IPAddress) -> Interface? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var p = list
        while let ifa = p {
            defer { p = ifa.pointee.ifa_next }
            guard let sa = ifa.pointee.ifa_addr, let found = IPAddress(sockaddr: sa), found == ip else { continue }
            let name = String(cString: ifa.pointee.ifa_name)
            return Interface(name: name, index: if_nametoindex(name))
        }
        return nil
    }

    /// Every address configured on this host (to find which node we are).
    static func localAddresses() -> Set<IPAddress> {
        var out: Set<IPAddress> = []
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return out }
        defer { freeifaddrs(list) }
        var p = list
        while let ifa = p {
            if let sa = ifa.pointee.ifa_addr, let a = IPAddress(sockaddr: sa) { out.insert(a) }
            p = ifa.pointee.ifa_next
        }
        return out
    }
}

extension IPAddress {
    init?(sockaddr sa: UnsafePointer<sockaddr>) {
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            let b = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { p in withUnsafeBytes(of: p.pointee.sin_addr) { Array($0) } }
            self = .v4(b)
        case AF_INET6:
            let b = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in withUnsafeBytes(of: p.pointee.sin6_addr) { Array($0) } }
            self = .v6(b)
        default:
            return nil
        }
    }
}
