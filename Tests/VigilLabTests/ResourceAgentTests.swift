import Foundation
import VigilConfig
import VigilCore
import VigilDaemon
import XCTest

/// The resource agent executor (issue 6 groundwork) with Debian's unchanged resource-agents
/// (Dummy) and misbehaving test agents: exit codes, probes, timeouts, missing agents.
final class ResourceAgentTests: XCTestCase {
    let runner = ResourceAgentRunner()
    let dummy = AgentRef("ocf:heartbeat:Dummy")!

    func testDebianDummyLifecycle() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/heartbeat/Dummy") else {
            throw XCTSkip("resource-agents missing: apt-get install resource-agents")
        }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-dummy-\(UUID().uuidString).state").path
        addTeardownBlock { unlink(state) }
        let params = [("state", state)]
        func act(_ a: String) -> AgentResult { runner.run(dummy, action: a, instance: "d1", params: params, timeout: .seconds(20)).result }
        XCTAssertEqual(act("monitor"), .notRunning, "probe before start: not running (7)")
        XCTAssertEqual(act("start"), .ok)
        XCTAssertEqual(act("monitor"), .ok)
        XCTAssertEqual(act("stop"), .ok)
        XCTAssertEqual(act("monitor"), .notRunning)
        XCTAssertEqual(act("validate-all"), .ok)
        let meta = try XCTUnwrap(runner.parameters(dummy))
        XCTAssertNotNil(meta["state"])
        XCTAssertNotNil(meta["fake"])
    }

    func testMissingHangingAndOddAgents() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-ocf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/resource.d/test", withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        func agent(_ name: String, _ body: String) throws {
            let p = dir + "/resource.d/test/" + name
            try ("#!/bin/sh\n" + body + "\n").write(toFile: p, atomically: true, encoding: .utf8)
            chmod(p, 0o755)
        }
        try agent("Hang", "sleep 3600 & echo $! > \"$OCF_RESKEY_pidfile\"; sleep 3600")
        try agent("Odd", "exit 42")
        try agent("Env", "[ \"$OCF_RESOURCE_INSTANCE\" = web1 ] && [ \"$OCF_RESKEY_port\" = 8080 ] && [ \"$OCF_RESKEY_CRM_meta_timeout\" = 5000 ] && [ -n \"$OCF_ROOT\" ] && exit 0; exit 1")
        var r = ResourceAgentRunner()
        r.ocfRoot = dir
        let pidfile = dir + "/hang.pid"
        let hang = r.run(.ocf(provider: "test", type: "Hang"), action: "start", instance: "h", params: [("pidfile", pidfile)], timeout: .ms(500))
        XCTAssertEqual(hang.result, .timedOut)
        let child = Int32((try? String(contentsOfFile: pidfile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        XCTAssertGreaterThan(child, 0)
        // SIGKILL to the group is asynchronous: the child dies when next scheduled and is reaped
        // by whoever adopts it (a zombie or gone both count as dead).
        func dead() -> Bool {
            guard kill(child, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8) else { return true }
            return stat.contains(") Z ") || stat.contains(") X ")
        }
        XCTAssertTrue(Lab.waitUntil(within: 10, dead), "the agent's background child died with its process group")
        // What a successful agent leaves running (a daemon, IPaddr2's background ARP
        // announcements) survives, and its holding the agent's output does not hold up the call.
        try agent("Bg", "sleep 30 & echo $! > \"$OCF_RESKEY_pidfile\"; echo started; exit 0")
        let bgPidfile = dir + "/bg.pid"
        let bg = r.run(.ocf(provider: "test", type: "Bg"), action: "start", instance: "b", params: [("pidfile", bgPidfile)], timeout: .seconds(20))
        XCTAssertEqual(bg.result, .ok)
        XCTAssertTrue(bg.stdout.contains("started"), bg.stdout)
        let bgChild = Int32((try? String(contentsOfFile: bgPidfile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        XCTAssertGreaterThan(bgChild, 0)
        addTeardownBlock { if bgChild > 0 { kill(bgChild, SIGKILL) } }  // the test's own child, by PID
        let bgStat = (try? String(contentsOfFile: "/proc/\(bgChild)/stat", encoding: .utf8)) ?? ""
        XCTAssertTrue(kill(bgChild, 0) == 0 && !bgStat.contains(") Z "), "the background child still runs after the agent returned")
        XCTAssertEqual(r.run(.ocf(provider: "test", type: "Odd"), action: "monitor", instance: "o", params: [], timeout: .seconds(5)).result, .unknownCode(42))
        XCTAssertEqual(r.run(.ocf(provider: "test", type: "Missing"), action: "start", instance: "m", params: [], timeout: .seconds(5)).result, .notInstalled)
        XCTAssertEqual(r.run(.ocf(provider: "test", type: "Env"), action: "start", instance: "web1", params: [("port", "8080")], timeout: .seconds(5)).result, .ok)
        XCTAssertNil(AgentRef("ocf:../../bin:sh"), "no path tricks in agent names")
        XCTAssertEqual(AgentRef("lsb:nginx"), .lsb("nginx"))
    }

    /// `systemd:` where systemd is not PID 1 (a directory that does not exist stands for the
    /// missing /run/systemd/system): every action but stop says "not installed" with the reason,
    /// which the supervisor reads as "not running, never here"; the config check refuses
    /// parameters (file:line) and only warns about the missing systemd.
    func testSystemdUnitWithoutSystemd() throws {
        var r = ResourceAgentRunner()
        r.systemdRunDir = "/nonexistent/vigil-test/systemd/system"
        let unit = try XCTUnwrap(AgentRef("systemd:web"))
        let probe = r.run(unit, action: "monitor", instance: "web", params: [], timeout: .seconds(5))
        XCTAssertEqual(probe.result, .notInstalled)
        XCTAssertTrue(probe.stderr.contains("systemd is not PID 1 on this node"), probe.stderr)
        XCTAssertTrue(probe.stderr.contains("web.service"), "a bare name is a service: \(probe.stderr)")
        XCTAssertEqual(r.run(unit, action: "start", instance: "web", params: [], timeout: .seconds(5)).result, .notInstalled)

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-sdcheck-\(UUID().uuidString).conf").path
        let example = Lab.root.appendingPathComponent("docs/examples/lab3.conf").path
        let text = try String(contentsOfFile: example, encoding: .utf8) + "\n[[resource]]\nid = \"web\"\nagent = \"systemd:web\"\nparams = [\"port=80\"]\n"
        let c = try ClusterConfig.load(text: text, file: file).get()
        let found = ResourceCheck.validate(c, runner: r)
        let error = try XCTUnwrap(found.first { $0.severity == .error })
        XCTAssertTrue(error.description.contains("\(file):") && error.message.contains("systemd units take no parameters"), error.description)
        XCTAssertTrue(found.contains { $0.severity == .warning && $0.message.contains("systemd is not PID 1 here") }, "\(found)")
    }

    /// An LSB init script (TEST-ONLY, in a temporary init.d): monitor runs `status` (0 running,
    /// 3 stopped, 1 dead with a pid file -> failed), start/stop by their exit codes, no parameters.
    func testLSBScriptByExitCodes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-initd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try """
            #!/bin/sh
            s=\(dir)/svc.state
            case "$1" in
              start) [ -f \(dir)/broken ] && exit 1; touch $s; exit 0 ;;
              stop) rm -f $s; exit 0 ;;
              status) [ -f $s ] && exit 0; [ -f \(dir)/stale.pid ] && exit 1; exit 3 ;;
              *) exit 3 ;;
            esac
            """.write(toFile: dir + "/svc", atomically: true, encoding: .utf8)
        chmod(dir + "/svc", 0o755)
        var r = ResourceAgentRunner()
        r.lsbDir = dir
        let svc = try XCTUnwrap(AgentRef("lsb:svc"))
        func act(_ a: String) -> AgentResult { r.run(svc, action: a, instance: "svc", params: [], timeout: .seconds(5)).result }
        XCTAssertEqual(act("monitor"), .notRunning, "status 3: stopped")
        XCTAssertEqual(act("start"), .ok)
        XCTAssertEqual(act("monitor"), .ok, "status 0: running")
        XCTAssertEqual(act("stop"), .ok)
        FileManager.default.createFile(atPath: dir + "/stale.pid", contents: nil)
        XCTAssertEqual(act("monitor"), .genericError, "status 1: dead but a pid file remains")
        FileManager.default.createFile(atPath: dir + "/broken", contents: nil)
        XCTAssertEqual(act("start"), .genericError)
        XCTAssertEqual(r.run(.lsb("absent"), action: "start", instance: "a", params: [], timeout: .seconds(5)).result, .notInstalled)
    }

    /// `vigilctl validate` reads each OCF agent's meta-data: unknown and missing required parameters
    /// are errors at file:line.
    func testResourceParametersAreCheckedAgainstMetaData() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/heartbeat/IPaddr2") else {
            throw XCTSkip("resource-agents missing")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-res-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let base = """
            [cluster]
            id = 3
            key = "\(dir)/k"
            [[link]]
            mode = "unicast"
            [[node]]
            id = 1
            addresses = ["127.0.0.1"]
            [[resource]]
            id = "vip"
            agent = "ocf:heartbeat:IPaddr2"
            params = ["cidr_netmask=24", "colour=blue"]
            [[resource]]
            id = "d"
            agent = "ocf:heartbeat:Dummy"
            params = ["state=/tmp/x"]
            """
        try base.write(toFile: dir + "/r.conf", atomically: true, encoding: .utf8)
        let r = Spawn.run([Lab.bin + "/vigilctl", "validate", dir + "/r.conf"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("r.conf:12: error: resource 'vip' (ocf:heartbeat:IPaddr2): unknown parameter 'colour'"), r.output)
        XCTAssertTrue(r.output.contains("r.conf:9: error: resource 'vip' (ocf:heartbeat:IPaddr2): required parameter 'ip' is missing"), r.output)
        XCTAssertFalse(r.output.contains("resource 'd'"), "Dummy's parameters are fine: \(r.output)")
    }
}

