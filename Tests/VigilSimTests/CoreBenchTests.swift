import VigilCore
import VigilSim
import XCTest

/// The core microbenchmark's material stays meaningful (`vigil-sim --bench-core`): a replay of
/// the captured window from a copy of the node accepts every frame (none refused as a replay or
/// stale, so the bench times the real path) and changes no view.
final class CoreBenchTests: XCTestCase {
    func testAReplayAcceptsEveryFrame() {
        let c = CoreBenchCapture(nodes: 3, window: .ms(300))
        var node = c.node
        let view = node.view.id
        var frames = 0
        for (t, e) in c.events {
            if case .datagram = e { frames += 1 }
            for case .notice(let n) in node.handle(e, at: t) {
                if case .rejected(let r, _) = n { XCTFail("frame refused on replay: \(r)") }
            }
        }
        XCTAssertGreaterThan(frames, 100, "two peers, two links, 10 ms: about 120 frames in 300 ms")
        XCTAssertEqual(node.view.id, view)
    }
}
