import Foundation
import Glibc
import VigilStatus
import XCTest

/// The resource supervisor with real vigild processes and Debian's unchanged OCF Dummy agent
/// (state file per node: the namespaces share one filesystem).
final class ResourceLabTests: XCTestCase {
    func resourceConfig(_ extra: String = "") -> String {
        """
        [[resource]]
        id = "dummy"
        agent = "ocf:heartbeat:Dummy"
        params = ["state={DIR}/%n/dummy.state"]
        prefer = ["n3:200"]  # above the stickiness (100): if it started elsewhere before n3 joined, it moves
        monitor_interval = "1s"
        migration_threshold = 2
        \(extra)
        """
    }

    func requireDummy() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/heartbeat/Dummy") else {
            throw XCTSkip("resource-agents missing: apt-get install resource-agents")
        }
    }

    func running(_ lab: Lab, _ node: Int, after seq: UInt64 = 0, within: Double = 15) -> ClusterEvent? {
        lab.event(node, within: within, after: seq) { $0.type == "resource_state" && $0.resource == "dummy" && $0.state == "running" }
    }

    /// Cut n3 (where Dummy runs): it is fenced, and only then does Dummy start on a survivor.
    func testDummyFailsOverOnlyAfterFencing() throws {
        try requireDummy()
        let lab = try Lab(fenceConfig: resourceConfig(), self)
        XCTAssertNotNil(running(lab, 3), "Dummy starts on its preferred node n3")
        let seqs = (1...2).map { lab.lastSeq($0) }
        lab.lab("cut", "3")
        let fenced = lab.event(1, within: 20, after: seqs[0]) { $0.type == "fence_result" && $0.peer == "n3" && $0.result == "success" }
        XCTAssertNotNil(fenced)
        let started = [1, 2].compactMap { n in running(lab, n, after: seqs[n - 1], within: 10).map { (n, $0) } }
        XCTAssertEqual(started.count, 1, "started on exactly one survivor")
        if let (n, e) = started.first, let f = fenced {
            XCTAssertGreaterThanOrEqual(e.time, f.time, "n\(n) started Dummy at \(e.time), after the fence at \(f.time)")
            print("fenced n3 at \(f.time); Dummy running on n\(n) at \(e.time)")
        }
        let s = try lab.status(1)
        XCTAssertEqual(s.resources?.first?.activeOn.count, 1)
        XCTAssertTrue(s.summaryLine.contains("resources 1/1 active"), s.summaryLine)
    }

    /// A failing monitor: restarted in place, and moved once the migration threshold is reached.
    func testFailingMonitorRestartsThenMoves() throws {
        try requireDummy()
        let lab = try Lab(fenceConfig: resourceConfig(), self)
        XCTAssertNotNil(running(lab, 3))
        for round in 1...2 {
            let seq = lab.lastSeq(3)
            unlink("\(lab.dir)/n3/dummy.state")  // Dummy's monitor now says "not running"
            let failed = lab.event(3, within: 10, after: seq) { $0.type == "resource_state" && $0.state == "failed" }
            XCTAssertEqual(failed?.failCount, round)
            if round == 1 {
                XCTAssertNotNil(running(lab, 3, after: seq), "restarted in place after the first failure")
            }
        }
        let moved = [1, 2].compactMap { n in running(lab, n, within: 10).map { _ in n } }
        XCTAssertEqual(moved.count, 1, "moved to one survivor after two failures on n3")
        XCTAssertEqual(try lab.status(1).resources?.first?.failCounts["n3"], 2)
    }

    /// A stop that times out escalates to fencing that node (never a start elsewhere first).
    func testStopTimeoutFencesTheNode() throws {
        let provider = "vigiltest\(UInt32.random(in: 0..<UInt32.max))"
        let dir = "/usr/lib/ocf/resource.d/\(provider)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        // TEST-ONLY agent: start/monitor by a state file, stop hangs.
        try """
            #!/bin/sh
            f="$OCF_RESKEY_state"
            case "$1" in
              start) touch "$f"; exit 0 ;;
              monitor) [ -f "$f" ] && exit 0; exit 7 ;;
              stop) sleep 3600 ;;
              meta-data) echo '<resource-agent name="HangStop"><parameters><parameter name="state" required="1"/></parameters></resource-agent>'; exit 0 ;;
              *) exit 3 ;;
            esac
            """.write(toFile: dir + "/HangStop", atomically: true, encoding: .utf8)
        chmod(dir + "/HangStop", 0o755)
        let lab = try Lab(fenceConfig: """
            [[resource]]
            id = "stuck"
            agent = "ocf:\(provider):HangStop"
            params = ["state={DIR}/%n/stuck.state"]
            prefer = ["n3:100"]
            stop_timeout = "1s"
            """, self)
        XCTAssertNotNil(lab.event(3, within: 15) { $0.type == "resource_state" && $0.resource == "stuck" && $0.state == "running" })
        let seq = lab.lastSeq(1)
        let pid = try XCTUnwrap(Int32(String(contentsOfFile: "\(lab.dir)/n3/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGTERM)  // a graceful stop must stop "stuck" first, and that stop hangs
        let escalated = lab.event(1, within: 20, after: seq) { $0.type == "resource_escalate" && $0.peer == "n3" }
        XCTAssertNotNil(escalated, "the owner escalates the failed stop to fencing")
        let fenced = lab.event(1, within: 20, after: seq) { $0.type == "fence_result" && $0.peer == "n3" && $0.result == "success" }
        XCTAssertNotNil(fenced)
        let started = lab.event(1, within: 10, after: seq) { $0.type == "resource_command" && $0.resource == "stuck" && $0.state == "start" }
        if let s = started, let f = fenced { XCTAssertGreaterThanOrEqual(s.time, f.time, "started elsewhere only after the fence") }
    }
}
