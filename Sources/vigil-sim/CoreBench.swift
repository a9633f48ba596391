import Foundation
import VigilCore
import VigilSim

/// `vigil-sim --bench-core`: time per heartbeat frame through `Node.handle` (decode,
/// authenticate, replay window, detector, membership) and per tick, at 3, 16 and 64 nodes, on a
/// node of a healthy cluster (issue 15). The simulator captures one node and the events of a
/// one-second window (CoreBenchCapture); each replay starts from a copy of that node.
struct CoreBench {
    var sizes: [Int]
    var replays: Int

    private static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    func run() {
        print("core microbenchmark (release build recommended): one node of a healthy cluster, 10 ms interval, 2 links;")
        print("per replay a copy of the node handles the window's frames and ticks in order\n")
        print("nodes  frames/s at 10 ms  µs per frame (p50 / mean)  µs per tick (p50 / mean)  frames in window")
        for n in sizes {
            let window: TimeSpan = n > 32 ? .ms(300) : .seconds(1)
            let c = CoreBenchCapture(nodes: n, window: window, settle: n > 32 ? .seconds(2) : .seconds(3))
            var frames: [Double] = [], ticks: [Double] = []
            for _ in 0..<replays {
                var node = c.node
                for (t, e) in c.events {
                    let t0 = CoreBench.now()
                    _ = node.handle(e, at: t)
                    let dt = Double(CoreBench.now() - t0) / 1000
                    if case .tick = e { ticks.append(dt) } else { frames.append(dt) }
                }
            }
            func p50(_ a: [Double]) -> Double { a.isEmpty ? 0 : a.sorted()[a.count / 2] }
            func mean(_ a: [Double]) -> Double { a.isEmpty ? 0 : a.reduce(0, +) / Double(a.count) }
            let rate = (n - 1) * 2 * 100
            print(String(format: "%5d  %17d  %12.2f / %-12.2f  %11.2f / %-11.2f  %d", n, rate, p50(frames), mean(frames),
                         p50(ticks), mean(ticks), frames.count / max(1, replays)))
        }
    }
}
