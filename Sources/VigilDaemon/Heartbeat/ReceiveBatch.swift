import CNet
import Glibc
import VigilCore

/// Datagrams read many at a time (`recvmmsg`), each with the time the kernel received it
/// (`SO_TIMESTAMPNS`, enabled by `LinkSocket`). The heartbeat loop may then leave datagrams queued
/// for a while and read them in one call, and the failure detector still judges each frame by
/// when it arrived, not by when the loop got to it. The buffers are allocated once per link.
final class ReceiveBatch {
    static let slots = 16
    /// The largest UDP payload: a datagram is never cut short.
    static let slotBytes = 65_536
    private static let controlBytes = 64
    /// SCM_TIMESTAMPNS (= SO_TIMESTAMPNS on Linux; the C macro is not imported).
    static let timestampType: Int32 = 35

    private let data: UnsafeMutableRawPointer
    private let control: UnsafeMutableRawPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    private let headers: UnsafeMutablePointer<vigil_mmsghdr>

    init() {
        let n = ReceiveBatch.slots
        // Only the pages a datagram touches become resident (heartbeats: one page per slot).
        data = .allocate(byteCount: n * ReceiveBatch.slotBytes, alignment: 64)
        control = .allocate(byteCount: n * ReceiveBatch.controlBytes, alignment: 8)
        iovecs = .allocate(capacity: n)
        headers = .allocate(capacity: n)
        for i in 0..<n {
            iovecs[i] = iovec(iov_base: data + i * ReceiveBatch.slotBytes, iov_len: ReceiveBatch.slotBytes)
        }
    }

    deinit {
        data.deallocate()
        control.deallocate()
        iovecs.deallocate()
        headers.deallocate()
    }

    /// Reads at most `slots` waiting datagrams and hands each over with its kernel receive time
    /// (CLOCK_REALTIME nanoseconds; nil if the kernel gave none). Returns how many were read
    /// (0: nothing waiting, or an error: the caller stops reading this socket for now).
    func read(_ fd: Int32, _ handle: (UnsafeRawBufferPointer, Int64?) -> Void) -> Int {
        for i in 0..<ReceiveBatch.slots {
            headers[i] = vigil_mmsghdr()
            headers[i].msg_hdr.msg_iov = iovecs + i
            headers[i].msg_hdr.msg_iovlen = 1
            headers[i].msg_hdr.msg_control = control + i * ReceiveBatch.controlBytes
            headers[i].msg_hdr.msg_controllen = ReceiveBatch.controlBytes
        }
        let n = vigil_recvmmsg(fd, headers, UInt32(ReceiveBatch.slots), Int32(MSG_DONTWAIT))
        guard n > 0 else { return 0 }
        for i in 0..<Int(n) {
            let bytes = UnsafeRawBufferPointer(start: data + i * ReceiveBatch.slotBytes, count: Int(headers[i].msg_len))
            handle(bytes, ReceiveBatch.timestamp(headers[i].msg_hdr))
        }
        return Int(n)
    }

    /// The SCM_TIMESTAMPNS control message of one datagram, if present.
    private static func timestamp(_ h: msghdr) -> Int64? {
        guard let base = h.msg_control else { return nil }
        let headerSize = MemoryLayout<cmsghdr>.size
        var offset = 0
        while offset + headerSize <= Int(h.msg_controllen) {
            let c = (base + offset).loadUnaligned(as: cmsghdr.self)
            if c.cmsg_level == SOL_SOCKET, c.cmsg_type == timestampType, Int(c.cmsg_len) >= headerSize + MemoryLayout<timespec>.size {
                let ts = (base + offset + headerSize).loadUnaligned(as: timespec.self)
                return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
            }
            guard c.cmsg_len > 0 else { return nil }
            offset += (Int(c.cmsg_len) + 7) & ~7
        }
        return nil
    }
}

/// Kernel receive times (CLOCK_REALTIME) as the core's monotonic instants. The offset between the
/// clocks is read once per round of reads; a receive time is kept between the last instant handed
/// to the core and now, so that a wall clock step can neither move a frame into the future nor
/// make the core's time run backwards.
struct ArrivalClock {
    private var offset: Int64 = 0
    private(set) var last = Instant.zero

    /// Call before a round of reads; returns the monotonic now.
    mutating func begin() -> Instant {
        var real = timespec(), mono = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_MONOTONIC, &mono)
        offset = (Int64(real.tv_sec) - Int64(mono.tv_sec)) * 1_000_000_000 + Int64(real.tv_nsec) - Int64(mono.tv_nsec)
        return Instant(nanoseconds: Int64(mono.tv_sec) * 1_000_000_000 + Int64(mono.tv_nsec))
    }

    /// The instant to hand the core for a datagram received at `realtime` (nil: read now).
    mutating func arrival(_ realtime: Int64?, now: Instant) -> Instant {
        let t = realtime.map { Instant(nanoseconds: $0 - offset) } ?? now
        last = max(last, min(t, now))
        return last
    }

    /// The instant to hand the core for any other event: now.
    mutating func now() -> Instant {
        last = max(last, Clock.monotonic())
        return last
    }
}
