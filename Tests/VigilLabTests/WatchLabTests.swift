import Foundation
import Glibc
import VigilStatus
import XCTest

/// `vigilctl status --watch` in tmux (a private tmux server) against a three-node lab, as an
/// operator over SSH would see it: an 80x24 terminal, a cut node shows up on the captured screen
/// without a keystroke, every line fits, and Ctrl-C ends it.
final class WatchLabTests: XCTestCase {
    func testLiveViewShowsACutNodeAndEndsOnCtrlC() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else { throw XCTSkip("tmux missing: apt-get install tmux") }
        let lab = try Lab(fenceConfig: DummyResources.section("svc", on: 3), self)
        let server = "vigil-watch-\(lab.name)"
        func tmux(_ args: String...) -> (status: Int32, output: String) { Spawn.run(["/usr/bin/tmux", "-L", server] + args) }
        addTeardownBlock { _ = Spawn.run(["/usr/bin/tmux", "-L", server, "kill-server"]) }
        let command = "VIGIL_SOCKET=\(lab.dir)/n1/vigild.sock \(Lab.bin)/vigilctl status --watch"
        XCTAssertEqual(tmux("new-session", "-d", "-s", "w", "-x", "80", "-y", "24", command).status, 0)
        func screen() -> String { tmux("capture-pane", "-p", "-t", "w").output }
        XCTAssertTrue(Lab.waitUntil(within: 15) { screen().contains("3/3 members") && screen().contains("svc") }, screen())
        let before = screen()
        XCTAssertTrue(before.contains("n3") && before.contains("RING0") && before.contains("LAST EVENTS"), before)

        let seq = lab.lastSeq(1)
        lab.lab("cut", "3")
        XCTAssertTrue(Lab.waitUntil(within: 15) { screen().contains("2/3 members") }, screen())
        let seenAt = Date()
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let view = lab.event(1, within: 5, after: seq, { $0.type == .view }), let at = iso.date(from: view.time) {
            print("the new view (\(view.time)) was on the watching screen \(Int(seenAt.timeIntervalSince(at) * 1000)) ms later (polled every 20 ms)")
        }
        XCTAssertTrue(Lab.waitUntil(within: 20) { screen().contains("fenced") }, "the fenced node and its resource say so: \(screen())")
        let after = screen()
        print(after)
        let lines = after.split(separator: "\n", omittingEmptySubsequences: false).dropLast(after.hasSuffix("\n") ? 1 : 0)
        XCTAssertLessThanOrEqual(lines.count, 24)
        for l in lines { XCTAssertLessThanOrEqual(l.count, 80, "wider than the terminal: \(l)") }
        XCTAssertTrue(after.contains("peer_dead n3") || after.contains("view"), after)

        _ = tmux("send-keys", "-t", "w", "C-c")
        XCTAssertTrue(Lab.waitUntil(within: 5) { tmux("has-session", "-t", "w").status != 0 }, "vigilctl ended on Ctrl-C")
    }
}
