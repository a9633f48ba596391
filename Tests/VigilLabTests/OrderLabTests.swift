import Foundation
import VigilStatus
import XCTest

/// Ordering constraints with real daemons and Debian's Dummy agent: the node running a FIRST
/// leaves gracefully (SIGTERM), and its stop waits for the THEN on another node: the owner stops
/// the THEN first, then the leaving node stops the FIRST and says goodbye; both come back up
/// elsewhere, FIRST before THEN.
final class OrderLabTests: XCTestCase {
    func testGracefulLeaveStopsTheDependentElsewhereFirst() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/heartbeat/Dummy") else {
            throw XCTSkip("apt-get install resource-agents")
        }
        let lab = try Lab(fenceConfig: """
            [[resource]]
            id = "db"
            agent = "ocf:heartbeat:Dummy"
            params = ["state={DIR}/%n/db.state"]
            prefer = ["n3:200", "n1:100"]
            [[resource]]
            id = "web"
            agent = "ocf:heartbeat:Dummy"
            params = ["state={DIR}/%n/web.state"]
            prefer = ["n2:200"]
            [[order]]
            first = "db"
            then = "web"
            """, self)
        XCTAssertNotNil(lab.event(3, within: 20) { $0.type == .resourceState && $0.resource == "db" && $0.state == "running" })
        XCTAssertNotNil(lab.event(2, within: 20) { $0.type == .resourceState && $0.resource == "web" && $0.state == "running" })
        let seq1 = lab.lastSeq(1), seq2 = lab.lastSeq(2)
        let pid = try XCTUnwrap(Int32(String(contentsOfFile: "\(lab.dir)/n3/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGTERM)
        let left = lab.event(1, within: 20, after: seq1) { $0.type == .view && $0.leftCleanly?.contains("n3") == true }
        XCTAssertNotNil(left, "n3 left cleanly")
        XCTAssertNil(lab.event(1, within: 0.1, after: seq1) { $0.type == .fencePending }, "a clean leave: nothing to fence")
        let webStopped = lab.event(2, within: 5, after: seq2) { $0.type == .resourceState && $0.resource == "web" && $0.state == "stopped" }
        XCTAssertNotNil(webStopped, "the owner stopped web on n2 while n3 was leaving")
        // n3's own log: db stopped only after web was down (both logs carry wall-clock ISO times).
        let log3 = try String(contentsOfFile: "\(lab.dir)/n3/vigild.log", encoding: .utf8)
        let dbStop = log3.split(separator: "\n").last { $0.contains("resource db stop: ") }
        let log2 = try String(contentsOfFile: "\(lab.dir)/n2/vigild.log", encoding: .utf8)
        let webStop = log2.split(separator: "\n").last { $0.contains("resource web stop: ") }
        let t3 = try XCTUnwrap(dbStop.flatMap { $0.split(separator: " ").first }), t2 = try XCTUnwrap(webStop.flatMap { $0.split(separator: " ").first })
        XCTAssertLessThan(t2, t3, "web's stop on n2 (\(webStop ?? "")) ended before db's on n3 (\(dbStop ?? ""))")
        // Both run again on the survivors, db first (n1 preferred), then web.
        XCTAssertNotNil(lab.event(1, within: 15, after: seq1) { $0.type == .resourceState && $0.resource == "db" && $0.state == "running" })
        XCTAssertNotNil(lab.event(2, within: 15, after: seq2) { $0.type == .resourceState && $0.resource == "web" && $0.state == "running" })
    }
}
