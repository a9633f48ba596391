import Glibc
import VigilConfig
import VigilCore

/// One link's UDP socket: multicast to the link's group (joined on this link's interface only), or
/// unicast to every peer's address on the link. Non-blocking; owned by the heartbeat thread.
final class LinkSocket {
    let link: LinkSpec
    let fd: Int32
    private var destinations: [SocketAddress]
    private let local: IPAddress
    private let batch = ReceiveBatch()
    private(set) var sendErrors = 0

    init(link: LinkSpec, local: IPAddress, peers: [IPAddress]) throws {
        self.link = link
        self.local = local
        let v6 = local.isV6
        let family = v6 ? AF_INET6 : AF_INET
        let fd = try check(socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0),
                           "socket for \(link.name)")
        do {
            destinations = try LinkSocket.configure(fd, link: link, local: local, peers: peers, v6: v6)
        } catch {
            close(fd)
            throw error
        }
        self.fd = fd
    }

    /// The cluster's document added or removed nodes: a unicast link sends to the new peer list
    /// (a multicast link's group reaches whoever joined it).
    func setPeers(_ peers: [IPAddress]) {
        guard link.mode == .unicast else { return }
        let scope = local.isV6 ? (Interface.holding(local)?.index ?? 0) : 0
        destinations = peers.map { SocketAddress($0, port: link.port, scope: scope) }
    }

    private static func configure(_ fd: Int32, link: LinkSpec, local: IPAddress, peers: [IPAddress], v6: Bool) throws -> [SocketAddress] {
        try setOption(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
        try setOption(fd, SOL_SOCKET, SO_PRIORITY, Int32(6), "SO_PRIORITY")  // interactive traffic class
        try setOption(fd, SOL_SOCKET, ReceiveBatch.timestampType, Int32(1), "SO_TIMESTAMPNS")  // receive times (ReceiveBatch)
        // Room for what queues during the receive hold, and for a flood of forged frames read
        // between heartbeats: 1 MB (root may exceed net.core.rmem_max; without it the default stays).
        _ = try? setOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, Int32(1 << 20), "SO_RCVBUFFORCE")
        switch link.mode {
        case .multicast:
            guard let group = link.group else { throw SystemError("link \(link.name) has no group", errno: EINVAL) }
            guard let ifc = Interface.holding(local) else {
                throw SystemError("no interface holds \(local) (link \(link.name))", errno: EADDRNOTAVAIL)
            }
            try joinMulticast(fd, link: link, group: group, local: local, ifc: ifc, v6: v6)
            return [SocketAddress(group, port: link.port, scope: v6 ? ifc.index : 0)]
        case .unicast:
            let scope = v6 ? (Interface.holding(local)?.index ?? 0) : 0
            try SocketAddress(local, port: link.port, scope: scope).withSockaddr {
                try check(bind(fd, $0, $1), "bind \(local):\(link.port) (link \(link.name))")
            }
            return peers.map { SocketAddress($0, port: link.port, scope: scope) }
        }
    }

    private static func joinMulticast(_ fd: Int32, link: LinkSpec, group: IPAddress, local: IPAddress, ifc: Interface, v6: Bool) throws {
        // Bound to the group: only this group's datagrams on this port reach the socket; bound to the
        // device: only those that came in on this link's interface.
        _ = ifc.name.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(ifc.name.utf8.count)) }
        try SocketAddress(group, port: link.port, scope: v6 ? ifc.index : 0).withSockaddr {
            try check(bind(fd, $0, $1), "bind \(group):\(link.port) (link \(link.name))")
        }
        if v6 {
            var mreq = ipv6_mreq()
            withUnsafeMutableBytes(of: &mreq.ipv6mr_multiaddr) { if case .v6(let b) = group { $0.copyBytes(from: b) } }
            mreq.ipv6mr_interface = ifc.index
            try setOption(fd, Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, mreq, "IPV6_ADD_MEMBERSHIP \(group) on \(ifc.name)")
            try setOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, ifc.index, "IPV6_MULTICAST_IF")
            try setOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP, UInt32(0), "IPV6_MULTICAST_LOOP")
            try setOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, Int32(link.ttl), "IPV6_MULTICAST_HOPS")
        } else {
            var mreq = ip_mreqn()
            withUnsafeMutableBytes(of: &mreq.imr_multiaddr) { if case .v4(let b) = group { $0.copyBytes(from: b) } }
            withUnsafeMutableBytes(of: &mreq.imr_address) { if case .v4(let b) = local { $0.copyBytes(from: b) } }
            mreq.imr_ifindex = Int32(ifc.index)
            try setOption(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, mreq, "IP_ADD_MEMBERSHIP \(group) on \(ifc.name)")
            try setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, mreq, "IP_MULTICAST_IF")
            try setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, UInt8(0), "IP_MULTICAST_LOOP")
            try setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, UInt8(link.ttl), "IP_MULTICAST_TTL")
            try setOption(fd, Int32(IPPROTO_IP), 49 /* IP_MULTICAST_ALL */, Int32(0), "IP_MULTICAST_ALL")
        }
    }

    /// Sends one frame to every destination of the link; never blocks (a full buffer drops and counts).
    func send(_ bytes: [UInt8]) {
        for d in destinations {
            let n = bytes.withUnsafeBytes { b in d.withSockaddr { sendto(fd, b.baseAddress, b.count, Int32(MSG_DONTWAIT), $0, $1) } }
            if n < 0 { sendErrors += 1 }
        }
    }

    /// Reads the datagrams waiting on the socket, a batch per system call, each with its kernel
    /// receive time (CLOCK_REALTIME ns), up to `limit` datagrams: a flood on one link must not keep
    /// the loop from its ticks and its other links (what is left is read in the next round).
    /// Returns how many were read.
    @discardableResult
    func receive(limit: Int, _ handle: ([UInt8], Int64?) -> Void) -> Int {
        var total = 0
        while total < limit {
            let n = batch.read(fd) { handle([UInt8]($0), $1) }
            total += n
            if n < ReceiveBatch.slots { return total }
        }
        return total
    }

    deinit { close(fd) }
}
