import Foundation
import Glibc
import VigilDaemon
import VigilStatus

/// `vigilctl status --watch`: the live view (VigilStatus/Watch.swift), redrawn on every event and
/// every second (for the ages), in the terminal's alternate screen. Each frame is one write that
/// overwrites the last in place (no clearing, so no flicker); Ctrl-C restores the terminal.
enum WatchLoop {
    /// What the event follower hands the drawing loop.
    final class Shared: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [ClusterEvent] = []
        private var lastSeq: UInt64 = 0
        let wake = DispatchSemaphore(value: 0)

        func add(_ e: ClusterEvent) {
            lock.lock()
            events.append(e)
            if events.count > 200 { events.removeFirst(events.count - 200) }
            lastSeq = e.seq
            lock.unlock()
            wake.signal()
        }
        /// vigild went away (or restarted, numbering its events from 1 again): the next
        /// connection's history replaces what was kept.
        func reset() {
            lock.lock()
            (events, lastSeq) = ([], 0)
            lock.unlock()
        }
        var latest: (events: [ClusterEvent], seq: UInt64) {
            lock.lock()
            defer { lock.unlock() }
            return (events, lastSeq)
        }
    }

    static let enter = "\u{1B}[?1049h\u{1B}[?25l", leave = "\u{1B}[?25h\u{1B}[?1049l"

    static func run(_ s: SocketOption) -> Never {
        let shared = Shared()
        let tty = isatty(STDOUT_FILENO) == 1
        var sources: [DispatchSourceSignal] = []
        let q = DispatchQueue(label: "vigilctl-watch-signals")
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGWINCH] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: q)
            src.setEventHandler {
                guard sig != SIGWINCH else {
                    shared.wake.signal()
                    return
                }
                if tty { put(leave) }
                exit(0)
            }
            src.resume()
            sources.append(src)
        }
        Thread.detachNewThread {
            while true {  // the buffered history first, then each event as it happens; again if vigild restarts
                _ = try? ControlClient.follow(s.socket, after: 0) { shared.add($0); return true }
                shared.reset()
                shared.wake.signal()
                sleep(1)
            }
        }
        if tty { put(enter) }
        while true {
            draw(s, shared.latest.events, tty: tty)
            _ = shared.wake.wait(timeout: .now() + 1)
        }
    }

    static func draw(_ s: SocketOption, _ events: [ClusterEvent], tty: Bool) {
        var size = winsize()
        let (w, h) = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0
            ? (Int(size.ws_col), Int(size.ws_row)) : (80, 24)
        var t = time(nil), tm = tm()
        localtime_r(&t, &tm)
        let clock = String(format: "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec)
        let lines: [String]
        do {
            lines = WatchScreen.lines(try s.snapshot(), events: events, width: w, height: h, clock: clock)
        } catch {
            lines = ["vigild at \(s.socket) does not answer (\(error)); trying again every second", "Ctrl-C to quit"]
                .map { WatchScreen.fit($0, w) }
        }
        // Home, each line then erase to its end, then erase below: the old frame never shows through.
        let frame = tty ? "\u{1B}[H" + lines.map { $0 + "\u{1B}[K" }.joined(separator: "\r\n") + "\u{1B}[J"
            : lines.joined(separator: "\n") + "\n\n"
        put(frame)
    }

    static func put(_ text: String) {
        _ = text.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
    }
}
