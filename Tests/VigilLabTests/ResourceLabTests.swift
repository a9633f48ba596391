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
        lab.event(node, within: within, after: seq) { $0.type == .resourceState && $0.resource == "dummy" && $0.state == "running" }
    }

    /// Cut n3 (where Dummy runs): it is fenced, and only then does Dummy start on a survivor.
    func testDummyFailsOverOnlyAfterFencing() throws {
        try requireDummy()
        let lab = try Lab(fenceConfig: resourceConfig(), self)
        XCTAssertNotNil(running(lab, 3), "Dummy starts on its preferred node n3")
        let seqs = (1...2).map { lab.lastSeq($0) }
        lab.lab("cut", "3")
        let fenced = lab.event(1, within: 20, after: seqs[0]) { $0.type == .fenceResult && $0.peer == "n3" && $0.result == "success" }
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
        // n3 is off: every view says its Dummy is stopped (fenced), not what n3 last reported.
        XCTAssertEqual(s.resources?.first?.nodes["n3"], "stopped (fenced)")
        XCTAssertEqual(s.nodes.first { $0.name == "n3" }?.state, "fenced")
        let human = lab.ctl(1, "status").output
        XCTAssertTrue(human.contains("n3:stopped (fenced)") && !human.contains("n3:running"), human)
        let mon = Spawn.run([Lab.root.appendingPathComponent("agents/pacemaker/crm_mon").path, "-1"],
                            env: ["VIGIL_SOCKET": "\(lab.dir)/n1/vigild.sock", "VIGIL_PCMK": Lab.bin + "/vigil-pcmk"]).output
        XCTAssertTrue(mon.contains("Started n") && !mon.contains("Started n3"), mon)
    }

    /// A failing monitor: restarted in place, and moved once the migration threshold is reached.
    func testFailingMonitorRestartsThenMoves() throws {
        try requireDummy()
        let lab = try Lab(fenceConfig: resourceConfig(), self)
        XCTAssertNotNil(running(lab, 3))
        for round in 1...2 {
            let seq = lab.lastSeq(3)
            unlink("\(lab.dir)/n3/dummy.state")  // Dummy's monitor now says "not running"
            let failed = lab.event(3, within: 10, after: seq) { $0.type == .resourceState && $0.state == "failed" }
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
            prefer = ["n3:200"]  # above the stickiness: if it started before n3 joined, it moves there
            stop_timeout = "1s"
            """, self)
        XCTAssertNotNil(lab.event(3, within: 15) { $0.type == .resourceState && $0.resource == "stuck" && $0.state == "running" })
        let seq = lab.lastSeq(1)
        let pid = try XCTUnwrap(Int32(String(contentsOfFile: "\(lab.dir)/n3/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGTERM)  // a graceful stop must stop "stuck" first, and that stop hangs
        let escalated = lab.event(1, within: 20, after: seq) { $0.type == .resourceEscalate && $0.peer == "n3" }
        XCTAssertNotNil(escalated, "the owner escalates the failed stop to fencing")
        let fenced = lab.event(1, within: 20, after: seq) { $0.type == .fenceResult && $0.peer == "n3" && $0.result == "success" }
        XCTAssertNotNil(fenced)
        let started = lab.event(1, within: 10, after: seq) { $0.type == .resourceCommand && $0.resource == "stuck" && $0.state == "start" }
        if let s = started, let f = fenced { XCTAssertGreaterThanOrEqual(s.time, f.time, "started elsewhere only after the fence") }
    }

    /// The operator's commands against real daemons: move, standby, online, clear, cleanup,
    /// restart, maintenance, ready, each answered ("done: ...") and carried out by the cluster.
    func testOperatorCommands() throws {
        try requireDummy()
        let lab = try Lab(fenceConfig: resourceConfig(), self)
        XCTAssertNotNil(running(lab, 3))
        func activeOn() -> [String] { (try? lab.status(2).resources?.first { $0.id == "dummy" }?.activeOn) ?? nil ?? [] }
        func waitActive(_ want: [String], _ what: String) {
            Lab.waitUntil(within: 15) { activeOn() == want }
            XCTAssertEqual(activeOn(), want, what)
        }
        var r = lab.ctl(1, "resource", "move", "dummy", "n1")
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("done: move dummy to n1"), r.output)
        waitActive(["n1"], "moved to n1")
        r = lab.ctl(2, "node", "standby", "n1")
        XCTAssertEqual(r.status, 0, r.output)
        waitActive(["n3"], "n1 in standby: back to its preferred node n3")
        let s = try lab.status(3)
        XCTAssertEqual(s.admin?.standby, ["n1"])
        XCTAssertEqual(s.admin?.constraints, ["dummy: prefer n1 (move)"])
        XCTAssertTrue(try lab.status(1).humanTable.contains("standby: n1"))
        XCTAssertEqual(lab.ctl(3, "node", "online", "n1").status, 0)
        waitActive(["n1"], "online again: the move constraint brings it back")
        XCTAssertEqual(lab.ctl(3, "resource", "clear", "dummy").status, 0)
        // "done" means n3 applied it; n2 has it once the broadcast arrives
        Lab.waitUntil(within: 5) { (try? lab.status(2).admin?.constraints) == [] }
        XCTAssertEqual(try lab.status(2).admin?.constraints, [])
        waitActive(["n3"], "cleared: its configured preference for n3 (200) beats stickiness (100)")

        // A failure on n3, then cleanup: the fail count is gone everywhere.
        let seq = lab.lastSeq(3)
        unlink("\(lab.dir)/n3/dummy.state")
        XCTAssertNotNil(lab.event(3, within: 10, after: seq) { $0.type == .resourceState && $0.state == "failed" })
        XCTAssertNotNil(running(lab, 3, after: seq), "restarted in place")
        // n3 counts the failure; n2 has it once the owner's broadcast arrives
        Lab.waitUntil(within: 5) { (try? lab.status(2).resources?.first?.failCounts["n3"]) == 1 }
        XCTAssertEqual(try lab.status(2).resources?.first?.failCounts["n3"], 1)
        XCTAssertNotNil(try lab.status(2).resources?.first?.lastFailure)
        XCTAssertEqual(lab.ctl(2, "resource", "cleanup", "dummy").status, 0)
        Lab.waitUntil(within: 10) { (try? lab.status(2).resources?.first?.failCounts["n3"]) == nil }
        XCTAssertNil(try lab.status(2).resources?.first?.failCounts["n3"], "cleanup cleared the fail count")

        let before = lab.lastSeq(3)
        r = lab.ctl(1, "resource", "restart", "dummy")
        XCTAssertEqual(r.status, 0, r.output)
        let stopping = lab.event(3, within: 10, after: before) { $0.type == .resourceState && $0.state == "stopping" }
        XCTAssertNotNil(stopping)
        XCTAssertNotNil(running(lab, 3, after: stopping?.seq ?? before), "restarted in place")
        waitActive(["n3"], "n2 sees it running on n3 again")
        Lab.waitUntil(within: 5) { Lab.metrics(lab, 1).contains("vigil_resource_running{resource=\"dummy\",node=\"n3\"} 1") }
        let metrics = Lab.metrics(lab, 1)
        XCTAssertTrue(metrics.contains("vigil_resource_active{resource=\"dummy\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("vigil_resource_running{resource=\"dummy\",node=\"n3\"} 1"), metrics)

        r = lab.ctl(1, "resource", "ban", "nosuch")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("usage"), r.output)

        // Maintenance of n3: Dummy stopped by hand there is left alone (no monitor sees it, no
        // start anywhere); back to ready, n3 probes it (stopped) and the cluster starts it again.
        let m = lab.lastSeq(3)
        r = lab.ctl(2, "node", "maintenance", "n3")
        XCTAssertTrue(r.status == 0 && r.output.contains("done: node n3 maintenance"), r.output)
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(3).admin?.maintenance) == ["n3"] })
        XCTAssertTrue(try lab.status(1).humanTable.contains("maintenance: n3"))
        XCTAssertEqual(lab.ctl(1, "resource", "restart", "dummy").status, 1, "refused: it runs on a node in maintenance")
        unlink("\(lab.dir)/n3/dummy.state")
        // Monitors run every second: three seconds without a reaction (a deadline, not a sync).
        XCTAssertNil(lab.event(3, within: 3, after: m) { $0.type == .resourceState && $0.state == "failed" }, "not monitored")
        XCTAssertEqual(activeOn(), ["n3"], "still counted where it was; started nowhere else")
        XCTAssertTrue(Lab.metrics(lab, 2).contains("vigil_maintenance_nodes 1"))
        XCTAssertEqual(lab.ctl(1, "node", "ready", "n3").status, 0)
        XCTAssertNotNil(running(lab, 3, after: m), "probed (stopped) and started again on n3")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(lab.dir)/n3/dummy.state"))
    }

    /// The operator's instructions survive a restart of the whole cluster: each node saved them
    /// in its state directory and reads them back; the cluster keeps the highest copy.
    func testOperatorInstructionsSurviveAFullRestart() throws {
        try requireDummy()
        let lab = try Lab(fenceConfig: resourceConfig(), self)
        XCTAssertNotNil(running(lab, 3))
        XCTAssertEqual(lab.ctl(1, "node", "standby", "n3").status, 0)
        XCTAssertEqual(lab.ctl(2, "resource", "ban", "dummy", "n1").status, 0)
        func admin(_ n: Int) -> StatusSnapshot.Admin? { try? lab.status(n).admin }
        XCTAssertTrue(Lab.waitUntil(within: 15) { (try? lab.status(3).resources?.first?.activeOn) == ["n2"] }, "standby n3, banned from n1: on n2")
        let saved = admin(1)
        XCTAssertTrue(Lab.waitUntil(within: 10) {
            (1...3).allSatisfy { FileManager.default.fileExists(atPath: "\(lab.dir)/n\($0)/admin-state.json") }
        }, "every node saved it")
        for n in [3, 1, 2] { XCTAssertEqual(lab.lab("stop", "\(n)").status, 0) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(lab.dir)/n2/dummy.state"), "stopped before its node left")
        for n in 1...3 { XCTAssertEqual(lab.lab("start", "\(n)").status, 0) }
        XCTAssertTrue(Lab.waitUntil(within: 20) { admin(3)?.version == saved?.version && admin(3)?.standby == ["n3"] },
                      "restored: \(String(describing: admin(3))) (saved \(String(describing: saved)))")
        XCTAssertEqual(admin(1)?.constraints, ["dummy: never on n1 (ban)"])
        XCTAssertTrue(Lab.waitUntil(within: 20) { (try? lab.status(1).resources?.first?.activeOn) == ["n2"] },
                      "placed as before the restart: \(String(describing: try? lab.status(1).resources))")
    }

    /// IPaddr2 (unchanged) moves a virtual IP between namespaces: on n3's eth0 first; after n3 is
    /// cut off and fenced, on exactly one survivor's eth0, and gone from n3 (fence_lab's power-off).
    func testVirtualIPMovesBetweenNamespaces() throws {
        try requireDummy()
        let lab = try Lab(fenceConfig: """
            [[resource]]
            id = "vip"
            agent = "ocf:heartbeat:IPaddr2"
            params = ["ip=198.18.0.222", "cidr_netmask=24", "nic=eth0"]
            prefer = ["n3:200"]
            monitor_interval = "1s"
            """, self)
        func holders() -> [Int] {
            (1...3).filter { lab.lab("exec", "\($0)", "ip", "-o", "-4", "addr", "show", "dev", "eth0").output.contains("198.18.0.222/") }
        }
        XCTAssertNotNil(lab.event(3, within: 15) { $0.type == .resourceState && $0.resource == "vip" && $0.state == "running" })
        XCTAssertEqual(holders(), [3])
        let seqs = [lab.lastSeq(1), lab.lastSeq(2)]
        lab.lab("cut", "3")
        let fenced = lab.event(1, within: 20, after: seqs[0]) { $0.type == .fenceResult && $0.peer == "n3" && $0.result == "success" }
        XCTAssertNotNil(fenced)
        let started = [1, 2].compactMap { n in
            lab.event(n, within: 10, after: seqs[n - 1]) { $0.type == .resourceState && $0.resource == "vip" && $0.state == "running" && $0.time >= (fenced?.time ?? "") }.map { _ in n }
        }
        XCTAssertEqual(started.count, 1, "running on one survivor")
        XCTAssertEqual(holders(), started, "the address is on that survivor's eth0 only")
    }

    /// The demo a newcomer runs: PostgreSQL + virtual IP on shared storage (Filesystem, pgsql,
    /// IPaddr2, all unchanged); a client queries through the virtual IP; the active node is cut off,
    /// fenced, and the group comes back on another node; the client's queries answer again.
    func testPostgresGroupFailsOverAfterFencing() throws {
        guard getuid() == 0 else { throw XCTSkip("lab tests need root") }
        guard FileManager.default.fileExists(atPath: "/usr/lib/ocf/resource.d/heartbeat/pgsql"),
              (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql"))?.isEmpty == false else {
            throw XCTSkip("postgresql and resource-agents missing: apt-get install postgresql resource-agents bc")
        }
        let name = "t" + String(String(UInt32.random(in: 0..<UInt32.max), radix: 36).prefix(6))
        addTeardownBlock { Lab.run(["down"], lab: name) }
        let r = Lab.run(["demo"], lab: name)
        print(r.output)
        XCTAssertEqual(r.status, 0, "the demo failed:\n\(r.output)")
        XCTAssertTrue(r.output.contains("answered again from n"), r.output)
        let answers = r.output.split(separator: "\n").filter { $0.hasPrefix("client ") && $0.contains("server up since") }
        XCTAssertGreaterThanOrEqual(answers.count, 8, "answers before and after the failover")
        // On the survivor that now runs it: the fence came before the group's first start there.
        let survivor = r.output.contains("answered again from n2") ? 2 : 3
        let events = Lab.run(["ctl", "\(survivor)", "events"], lab: name).output.split(separator: "\n")
            .compactMap { try? JSONDecoder().decode(ClusterEvent.self, from: Data($0.utf8)) }
        let fenced = try XCTUnwrap(events.first { $0.type == .fenceResult && $0.peer == "n1" && $0.result == "success" })
        let fsStarts = events.filter { $0.type == .resourceState && $0.resource == "fs" && $0.state == "starting" && $0.node == "n\(survivor)" }
        XCTAssertFalse(fsStarts.isEmpty)
        for e in fsStarts { XCTAssertGreaterThanOrEqual(e.time, fenced.time, "the shared disk is mounted only after n1 is fenced") }
        // What agents start runs at normal priority, never at vigild's SCHED_FIFO (it would compete
        // with the heartbeat thread; seen once as a node declared dead while its database started).
        let pids = Spawn.run(["/usr/sbin/ip", "netns", "pids", "\(name)-n\(survivor)"]).output.split(separator: "\n")
        var postgres = 0
        for p in pids {
            guard let stat = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8), stat.contains("(postgres)") else { continue }
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            postgres += 1
            XCTAssertEqual(fields.count > 38 ? fields[38] : "?", "0", "postgres \(p) runs SCHED_OTHER (policy 0): \(stat)")
        }
        XCTAssertGreaterThan(postgres, 0, "postgres runs on n\(survivor)")

        // A planned move of the whole group: stopped on the survivor in reverse order, one member
        // after the other (the database before its file system is unmounted), started on the
        // target in order, answering through the virtual IP again; nothing is fenced.
        let target = survivor == 2 ? 3 : 2
        let seq = events.map(\.seq).max() ?? 0
        let move = Lab.run(["ctl", "\(survivor)", "resource", "move", "db", "n\(target)"], lab: name)
        XCTAssertEqual(move.status, 0, move.output)
        func group(_ n: Int) -> [String]? {
            guard let out = Optional(Lab.run(["ctl", "\(n)", "status", "--json"], lab: name).output),
                  let st = try? JSONDecoder().decode(StatusSnapshot.self, from: Data(out.utf8)) else { return nil }
            return ["fs", "pg", "vip"].map { id in st.resources?.first { $0.id == id }?.activeOn.joined(separator: ",") ?? "?" }
        }
        XCTAssertTrue(Lab.waitUntil(within: 90) { group(target) == Array(repeating: "n\(target)", count: 3) },
                      "moved to n\(target): \(String(describing: group(target)))")
        let after = Lab.run(["ctl", "\(survivor)", "events"], lab: name).output.split(separator: "\n")
            .compactMap { try? JSONDecoder().decode(ClusterEvent.self, from: Data($0.utf8)) }.filter { $0.seq > seq }
        let stops = after.filter { $0.type == .resourceState && $0.node == "n\(survivor)" && ["stopping", "stopped"].contains($0.state ?? "") }
            .map { "\($0.resource ?? "?") \($0.state ?? "?")" }
        XCTAssertEqual(stops, ["vip stopping", "vip stopped", "pg stopping", "pg stopped", "fs stopping", "fs stopped"])
        XCTAssertFalse(after.contains { $0.type == .fenceResult }, "a planned move fences nothing")
        let psql = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted().last)
        let q = Spawn.run(["/usr/sbin/ip", "netns", "exec", "\(name)-client", "/usr/lib/postgresql/\(psql)/bin/psql", "-h", "198.18.0.200",
                           "-p", "5433", "-U", "postgres", "-d", "postgres", "-Atc", "select 41 + 1"])
        XCTAssertEqual(q.output.trimmingCharacters(in: .whitespacesAndNewlines), "42", "answers through the virtual IP from n\(target)")
    }
}
