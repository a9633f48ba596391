import Foundation
import Glibc
import VigilStatus
import XCTest

/// Fencing with real vigild processes and real agents (fence_lab, Debian's fence_dummy, a
/// misbehaving test-only agent), as root in network namespaces.
final class FenceLabTests: XCTestCase {
    /// Runs one fence-agents call of the lab's power switch for node `i`; returns the exit code.
    func power(_ lab: Lab, _ i: Int, _ action: String) -> Int32 { lab.lab("power", "\(i)", action).status }

    func history(_ lab: Lab, _ node: Int) -> [ClusterEvent] {
        lab.ctl(node, "fence", "history", "--json").output.split(separator: "\n")
            .compactMap { try? JSONDecoder().decode(ClusterEvent.self, from: Data($0.utf8)) }
    }

    /// The acceptance case: cut every link of n3; the survivors power it off with fence_lab, and
    /// both keep a history entry saying who fenced it and how long it took.
    func testCutOffNodeIsPoweredOffByFenceLab() throws {
        let lab = try Lab(self)
        XCTAssertEqual(power(lab, 3, "status"), 0, "n3 is on")
        let pid = try XCTUnwrap(Int32(String(contentsOfFile: "\(lab.dir)/n3/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let seq = lab.lastSeq(1)
        lab.lab("cut", "3")
        let result = lab.event(1, within: 20, after: seq) { $0.type == .fenceResult && $0.peer == "n3" }
        XCTAssertEqual(result?.result, "success")
        XCTAssertEqual(result?.executor, "n1", "the lowest member of the quorate view fences")
        XCTAssertEqual(power(lab, 3, "status"), 2, "fence_lab status says off")
        XCTAssertTrue(kill(pid, 0) != 0 || isZombie(pid), "n3's vigild is gone")
        for n in [1, 2] {
            let h = history(lab, n).filter { $0.peer == "n3" }
            XCTAssertEqual(h.last?.result, "success", "history on n\(n)")
            XCTAssertEqual(h.last?.executor, "n1")
            XCTAssertNotNil(h.last?.tookMs)
            print("n\(n) history: n3 fenced by \(h.last?.executor ?? "?") in \(h.last?.tookMs ?? -1) ms; \(h.last?.detail ?? "")")
        }
        XCTAssertEqual(try lab.status(1).needsFencing.count, 0, "nothing left to fence")
        // The history survives a restart of the daemon.
        lab.lab("stop", "2")
        lab.lab("start", "2")
        XCTAssertEqual(lab.lab("wait-formed", "20").status, 0, "n2 rejoined")
        XCTAssertEqual(history(lab, 2).last { $0.peer == "n3" }?.result, "success", "history kept across restart")
    }

    /// Two nodes, n1 the static favourite (fence_delay 2s), the service (priority 10) on n2, as
    /// after a failover: with priority_delay 6s, a full split ends with n2 powering n1 off and the
    /// service never stopping on n2 (without it, n1 would win and fence the service's node).
    func testTwoNodeSplitTheServicesSideWins() throws {
        try DummyResources.require()
        let lab = try Lab(nodes: 2, extra: ["--priority-delay", "6s"],
                          fenceConfig: DummyResources.section("svc", on: 2) + "priority = 10\n", self)
        XCTAssertTrue(DummyResources.running(lab, "svc", on: 2), "svc runs on n2")
        let seq = lab.lastSeq(2)
        lab.lab("cut", "2")
        let result = lab.event(2, within: 30, after: seq) { $0.type == .fenceResult && $0.peer == "n1" }
        XCTAssertEqual(result?.result, "success", "n2 fenced n1")
        XCTAssertEqual(result?.executor, "n2")
        XCTAssertEqual(power(lab, 1, "status"), 2, "n1 is off")
        XCTAssertEqual(power(lab, 2, "status"), 0, "n2, running the service, is on")
        let scheduled = history(lab, 2).last { $0.peer == "n1" }
        print("n1 fenced by \(scheduled?.executor ?? "?") in \(scheduled?.tookMs ?? -1) ms")
        let svc = try lab.status(2).resources?.first { $0.id == "svc" }
        XCTAssertEqual(svc?.activeOn, ["n2"], "the service stayed on n2")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(lab.dir)/n2/svc.state"), "and never stopped there")
    }

    func isZombie(_ pid: Int32) -> Bool {
        ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "").split(separator: " ").dropFirst(2).first == "Z"
    }

    /// Debian's fence_dummy through the fence-agents protocol: as the only level of n2 (manual
    /// fence, the status file turns "off"), and with type=fail as level 1 of n3, which escalates to
    /// fence_lab at level 2.
    func testDebianFenceDummyAndEscalation() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/fence_dummy") else {
            throw XCTSkip("fence_dummy missing: apt-get install fence-agents")
        }
        let lab = try Lab(fenceConfig: """
            [[fence_device]]
            name = "dummy_file"
            agent = "fence_dummy"
            params = ["type=file", "status_file={DIR}/dummy-n2.status"]
            nodes = ["n2"]
            [[fence_device]]
            name = "dummy_fail"
            agent = "fence_dummy"
            params = ["type=fail", "power_timeout=1"]
            nodes = ["n3"]
            monitor_interval = "0s"
            [[fence_level]]
            node = "n2"
            level = 1
            devices = ["dummy_file"]
            [[fence_level]]
            node = "n3"
            level = 1
            devices = ["dummy_fail"]
            [[fence_level]]
            node = "n3"
            level = 2
            devices = ["labpower"]
            """, self)
        try "on".write(toFile: "\(lab.dir)/dummy-n2.status", atomically: true, encoding: .utf8)
        let manual = lab.ctl(1, "fence", "n2", "--off")
        XCTAssertEqual(manual.status, 0, manual.output)
        XCTAssertTrue(manual.output.contains("n2: success"), manual.output)
        XCTAssertEqual(try String(contentsOfFile: "\(lab.dir)/dummy-n2.status", encoding: .utf8), "off")

        let seq = lab.lastSeq(1)
        lab.lab("cut", "3")
        let done = lab.event(1, within: 30, after: seq) { $0.type == .fenceResult && $0.peer == "n3" && $0.result == "success" }
        XCTAssertEqual(done?.level, 2, "succeeded at level 2")
        let n3 = history(lab, 1).filter { $0.peer == "n3" }
        XCTAssertEqual(n3.map { $0.result ?? "" }, ["failed", "success"], "\(n3)")
        XCTAssertEqual(n3.map { $0.level ?? 0 }, [1, 2])
        XCTAssertTrue(n3.first?.detail?.contains("dummy_fail") ?? false, n3.first?.detail ?? "no detail")
        XCTAssertEqual(power(lab, 3, "status"), 2)
    }

    /// Bad plugins: one hangs (killed with its child at the timeout), one floods garbage, one exits
    /// with an undefined code. Each is a clear failure in history, the next level is tried, the
    /// heartbeat path keeps running (no membership change among the survivors).
    func testBadPluginsFailClearlyAndEscalate() throws {
        let lab = try Lab(fenceConfig: """
            [[fence_device]]
            name = "hangs"
            agent = "{ROOT}/Tests/VigilLabTests/plugins/fence_test_bad"
            params = ["mode=hang", "pidfile={DIR}/hang.pids"]
            nodes = ["n3"]
            timeout = "2s"
            [[fence_device]]
            name = "garbage"
            agent = "{ROOT}/Tests/VigilLabTests/plugins/fence_test_bad"
            params = ["mode=garbage"]
            nodes = ["n3"]
            [[fence_device]]
            name = "badexit"
            agent = "{ROOT}/Tests/VigilLabTests/plugins/fence_test_bad"
            params = ["mode=badexit"]
            nodes = ["n3"]
            [[fence_level]]
            node = "n3"
            level = 1
            devices = ["hangs"]
            [[fence_level]]
            node = "n3"
            level = 2
            devices = ["garbage"]
            [[fence_level]]
            node = "n3"
            level = 3
            devices = ["badexit"]
            [[fence_level]]
            node = "n3"
            level = 4
            devices = ["labpower"]
            """, self)
        let epoch = try lab.status(1).view?.epoch ?? 0
        let seq = lab.lastSeq(1)
        lab.lab("cut", "3")
        let done = lab.event(1, within: 40, after: seq) { $0.type == .fenceResult && $0.peer == "n3" && $0.result == "success" }
        XCTAssertEqual(done?.level, 4)
        let h = history(lab, 1).filter { $0.peer == "n3" }
        XCTAssertEqual(h.map { $0.result ?? "" }, ["timeout", "failed", "failed", "success"], "\(h.map { $0.detail ?? "" })")
        XCTAssertTrue(h[safe: 0]?.detail?.contains("timed out") ?? false, h[safe: 0]?.detail ?? "")
        XCTAssertTrue(h[safe: 2]?.detail?.contains("exit 77") ?? false, h[safe: 2]?.detail ?? "")
        XCTAssertTrue(h[safe: 2]?.detail?.contains("not an exit code the protocol defines") ?? false)
        // The hanging agent and its child were killed as a process group.
        let pids = ((try? String(contentsOfFile: "\(lab.dir)/hang.pids", encoding: .utf8)) ?? "").split(separator: " ")
            .compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(pids.count, 2)
        for p in pids { XCTAssertTrue(kill(p, 0) != 0 || isZombie(p), "pid \(p) of the hung agent is gone") }
        // The survivors never lost each other while plugins misbehaved.
        for n in [1, 2] {
            XCTAssertNil(lab.event(n, within: 0.5, after: 0) { $0.type == .peerDead && $0.peer != "n3" })
            XCTAssertEqual(try lab.status(n).view?.members.map(\.name), ["n1", "n2"])
        }
        XCTAssertGreaterThan(try lab.status(1).view?.epoch ?? 0, epoch)
        let lateness = Lab.metrics(lab, 1).split(separator: "\n").filter { $0.hasPrefix("vigil_loop_lateness_seconds") }
        print("n1 heartbeat-loop lateness while plugins misbehaved:\n" + lateness.joined(separator: "\n"))
    }
}

extension FenceLabTests {
    /// Unchanged Debian agents against a simulated BMC per node (OpenIPMI's ipmi_sim): cut n3, the
    /// survivors fence it through its BMC at level 1 (the BMC's chassis power-off kills n3 for
    /// real), then an IPMI power-on from n1 boots n3's vigild again and it rejoins.
    func bmcFencing(agent: String) throws {
        for tool in ["/usr/bin/ipmi_sim", "/usr/bin/ipmitool", "/usr/sbin/fence_ipmilan", "/usr/lib/stonith/plugins/external/ipmi"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) missing: apt-get install openipmi ipmitool fence-agents cluster-glue")
        }
        let lab = try Lab(extra: ["--bmc", "--bmc-agent", agent], self)
        let before = try lab.status(1).nodes.first { $0.name == "n3" }?.incarnation ?? 0
        let seq = lab.lastSeq(1)
        lab.lab("cut", "3")
        let done = lab.event(1, within: 60, after: seq) { $0.type == .fenceResult && $0.peer == "n3" }
        XCTAssertEqual(done?.result, "success", done?.detail ?? "no result")
        XCTAssertEqual(done?.level, 1, "fenced through the BMC, not the fallback")
        XCTAssertEqual(power(lab, 3, "status"), 2, "n3 is off")
        let h = history(lab, 1).last { $0.peer == "n3" }
        print("\(agent): n3 fenced in \(h?.tookMs ?? -1) ms: \(h?.detail ?? "")")
        // Power it on through the BMC: the chassis control boots n3 and its daemon rejoins.
        lab.lab("heal", "3")
        let on = lab.lab("exec", "1", "ipmitool", "-I", "lanplus", "-C", "3", "-H", "198.18.9.103", "-U", "admin", "-P", "lab",
                         "chassis", "power", "on")
        XCTAssertEqual(on.status, 0, on.output)
        let back = lab.event(1, within: 30, after: seq) { $0.type == .view && $0.members == ["n1", "n2", "n3"] }
        XCTAssertNotNil(back, "n3 rejoined after IPMI power-on")
        XCTAssertGreaterThan(try lab.status(1).nodes.first { $0.name == "n3" }?.incarnation ?? 0, before)
        XCTAssertEqual(try lab.status(1).needsFencing.count, 0, "a new life is clean")
    }

    func testFenceIpmilanThroughSimulatedBMC() throws { try bmcFencing(agent: "fence_ipmilan") }
    func testClusterGlueExternalIpmiThroughSimulatedBMC() throws { try bmcFencing(agent: "external/ipmi") }
}

extension FenceLabTests {
    /// Self-fencing with a watchdog STAND-IN (no watchdog device exists here): each daemon feeds a
    /// FIFO served by watchdog_standin.py, which logs pings and when a real board would reset.
    /// Cut n3: it loses quorum, stops feeding after the bound (the stand-in logs would-reset), and
    /// the survivors, with no device for n3, count it fenced only after the safe wait. A clean
    /// stop disarms with the magic close.
    func testWatchdogSelfFencingAgainstStandIn() throws {
        guard getuid() == 0 else { throw XCTSkip("lab tests need root") }
        let prefix = "/tmp/vigil-wd-\(UInt32.random(in: 0..<UInt32.max))"
        let script = Lab.root.appendingPathComponent("Tests/VigilLabTests/watchdog_standin.py").path
        var pids: [pid_t] = []
        addTeardownBlock {
            for p in pids { kill(p, SIGKILL); _ = Spawn.wait(p) }
            for i in 1...3 { for suffix in ["", ".log", ".out"] { unlink("\(prefix)-n\(i)\(suffix)") } }
        }
        for i in 1...3 {
            let p = try XCTUnwrap(Spawn.start(["python3", script, "\(prefix)-n\(i)", "2"], output: "\(prefix)-n\(i).out"))
            pids.append(p)
        }
        func log(_ i: Int) -> [String] {
            ((try? String(contentsOfFile: "\(prefix)-n\(i).log", encoding: .utf8)) ?? "").split(separator: "\n").map { String($0.split(separator: " ").last ?? "") }
        }
        func waitFor(_ what: String, _ i: Int, within: Double) -> Bool { Lab.waitUntil(within: within) { log(i).contains(what) } }
        Lab.waitUntil(within: 10) { (1...3).allSatisfy { FileManager.default.fileExists(atPath: "\(prefix)-n\($0)") } }
        let lab = try Lab(extra: ["--no-fencing"], fenceConfig: """
            [fencing]
            enabled = true
            history = "{DIR}/%n/fence-history.jsonl"
            watchdog = "\(prefix)-%n"
            watchdog_timeout = "2s"
            quorum_loss_bound = "1s"
            """, self)
        for i in 1...3 { XCTAssertTrue(waitFor("ping", i, within: 10), "n\(i) armed and feeds its watchdog") }
        XCTAssertEqual(try lab.status(1).fencing?.watchdog, "armed, fed")
        let seq1 = lab.lastSeq(1), seq3 = lab.lastSeq(3)
        lab.lab("cut", "3")
        XCTAssertNotNil(lab.event(3, within: 10, after: seq3) { $0.type == .selfFence }, "n3 decides to self-fence")
        XCTAssertTrue(waitFor("would-reset", 3, within: 10), "n3 stopped feeding: a real board resets it")
        let counted = lab.event(1, within: 20, after: seq1) { $0.type == .fenceResult && $0.peer == "n3" }
        XCTAssertEqual(counted?.result, "watchdog-safe-wait")
        // Safe wait: 2 x 2 s + 1 s bound + detection and install bounds.
        XCTAssertGreaterThanOrEqual(counted?.tookMs ?? 0, 5000)
        XCTAssertFalse(log(1).contains("would-reset"), "the quorate side keeps feeding")
        XCTAssertFalse(log(2).contains("would-reset"))
        lab.lab("stop", "2")
        XCTAssertTrue(waitFor("magic-close", 2, within: 10), "a clean stop disarms the watchdog")
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
