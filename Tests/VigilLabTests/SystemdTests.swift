import Foundation
import Glibc
import VigilStatus
import XCTest

/// units/vigild.service under a real systemd, PID 1 of a private PID + mount namespace (see
/// ../shared/notes/systemd-in-namespace.md). The unit runs vigild for lab node n1 in its network
/// namespace (NetworkNamespacePath=); n2 and n3 are ordinary lab daemons.
final class SystemdTests: XCTestCase {
    private func requireSystemd() throws {
        guard FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd") else { throw XCTSkip("no systemd installed") }
        // The unit's StateDirectory= makes /var/lib/vigil on this machine: remove it if we made it.
        if !FileManager.default.fileExists(atPath: "/var/lib/vigil") {
            addTeardownBlock { try? FileManager.default.removeItem(atPath: "/var/lib/vigil") }
        }
    }

    func testNotifyStatusAndWatchdogUnderSystemd() throws {
        try requireSystemd()
        // A long deadline makes the join wait (deadline + 2 intervals) long enough to see "activating".
        let lab = try Lab(nodes: 3, extra: ["--interval", "100ms", "--deadline", "2s"], self)
        XCTAssertEqual(lab.lab("stop", "1").status, 0)
        let sd = try PrivateSystemd(lab: lab, self)

        let first = sd.waitFor(30) { $0["ActiveState"] == "activating" || $0["ActiveState"] == "active" }
        XCTAssertEqual(first?["ActiveState"], "activating", "not ready before a view exists: \(String(describing: first))")
        guard let active = sd.waitFor(30, { $0["ActiveState"] == "active" && Int($0["MainPID"] ?? "") ?? 0 > 0 }) else {
            return XCTFail("never active: \(sd.show())")
        }
        XCTAssertTrue(active["StatusText"]?.hasPrefix("view ") == true, "\(active)")
        XCTAssertTrue(active["StatusText"]?.contains("3/3 members, quorate, links 2/2 up") == true, "\(active)")
        let status = sd.systemctl("status", "vigild.service").output
        XCTAssertTrue(status.contains("Status: \"view"), status)

        // Freeze the daemon: the watchdog must fire, and systemd restarts it. (Never `kill 0`:
        // that would stop our own process group.)
        let pid = active["MainPID"]!
        XCTAssertEqual(sd.nsenter(["kill", "-STOP", pid]).status, 0)
        XCTAssertNotNil(sd.waitFor(20) { $0["Result"] == "watchdog" }, "killed for the watchdog: \(sd.show())")
        XCTAssertNotNil(sd.waitFor(20) { Int($0["NRestarts"] ?? "0") ?? 0 >= 1 }, "\(sd.show())")
        XCTAssertNotNil(sd.waitFor(30) { $0["ActiveState"] == "active" && $0["MainPID"] != pid }, "restarted: \(sd.show())")
    }
}

extension SystemdTests {
    /// A `systemd:` resource: n1 and n2 each run vigild under their own systemd (with
    /// units/vigild-agents.conf, as the docs ask of nodes that run resources), n3 is an ordinary
    /// lab node without systemd. The unit (TEST-ONLY, `sleep infinity`) starts on n1 through n1's
    /// systemd, gets the cluster's drop-in (Restart=no), is restarted in place after it is killed
    /// behind the cluster's back, and moves to n2's systemd on `vigilctl resource move`. On n3
    /// the probe says "not installed" (no systemd): fail count INFINITY there, never started.
    func testSystemdUnitResource() throws {
        try requireSystemd()
        let lab = try Lab(nodes: 3, extra: ["--no-start"], fenceConfig: """
            [[resource]]
            id = "web"
            agent = "systemd:vigil-test-web"
            prefer = ["n1:200"]
            monitor_interval = "1s"
            migration_threshold = 3
            """, self)
        XCTAssertEqual(lab.lab("start", "3").status, 0)
        let unit = """
            [Unit]
            Description=TEST-ONLY service, run as a vigil systemd: resource
            [Service]
            ExecStart=/bin/sleep infinity
            Restart=always
            """
        let sd = try [1, 2].map { try PrivateSystemd(lab: lab, node: $0, agents: true, units: ["vigil-test-web.service": unit], self) }
        func web() -> StatusSnapshot.ResourceInfo? { try? lab.status(3).resources?.first { $0.id == "web" } }
        func state(_ i: Int) -> String { sd[i].show("vigil-test-web.service", "ActiveState")["ActiveState"] ?? "?" }

        XCTAssertTrue(Lab.waitUntil(within: 40) { web()?.activeOn == ["n1"] && state(0) == "active" },
                      "started on n1 by n1's systemd: \(String(describing: web())), n1 \(state(0)), n2 \(state(1))")
        XCTAssertEqual(state(1), "inactive")
        XCTAssertEqual(web()?.failCounts["n3"], 255, "n3 has no systemd: not installed there (INFINITY)")
        let props = sd[0].show("vigil-test-web.service", "Restart,DropInPaths,MainPID")
        XCTAssertEqual(props["Restart"], "no", "the cluster's drop-in: \(props)")
        XCTAssertTrue(props["DropInPaths"]?.contains("/run/systemd/system/vigil-test-web.service.d/50-vigil.conf") == true, "\(props)")

        // Killed behind the cluster's back: systemd leaves it (Restart=no), the monitor sees it.
        XCTAssertEqual(sd[0].systemctl("kill", "--signal=SIGKILL", "vigil-test-web.service").status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 20) {
            web()?.failCounts["n1"] == 1 && web()?.activeOn == ["n1"] && state(0) == "active"
                && sd[0].show("vigil-test-web.service", "MainPID")["MainPID"] != props["MainPID"]
        }, "restarted in place with fail count 1: \(String(describing: web())), n1 \(state(0))")

        XCTAssertEqual(lab.ctl(3, "resource", "move", "web", "n2").status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 20) { web()?.activeOn == ["n2"] && state(1) == "active" && state(0) != "active" },
                      "moved to n2's systemd: \(String(describing: web())), n1 \(state(0)), n2 \(state(1))")
    }
}

/// A systemd as PID 1 of a new PID + mount namespace, seeing only our units (and run-time units
/// and drop-ins in its own /run/systemd/system): it runs units/vigild.service for lab node
/// `node`, with units/vigild-agents.conf if `agents`, and the test's `units` (file name -> text).
/// With `installing` (a .deb), /usr, /etc, /var and /opt are overlays on a tmpfs (this machine's
/// files and dpkg database stay untouched), the package is installed there with apt-get, and the
/// unit and binary run are the installed ones.
final class PrivateSystemd {
    let dir: String
    let unshare: pid_t
    let systemd: pid_t

    init(lab: Lab, node: Int = 1, agents: Bool = false, units extraUnits: [String: String] = [:], installing deb: String? = nil,
         _ test: XCTestCase) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-sd-\(lab.name)-n\(node)").path
        let units = dir + "/units"
        try FileManager.default.createDirectory(atPath: units + "/vigild.service.d", withIntermediateDirectories: true)
        let unit = Lab.root.appendingPathComponent("units/vigild.service").path
        if deb == nil { _ = Spawn.run(["cp", unit, units + "/vigild.service"]) }
        let state = "/run/vigil-lab/\(lab.name)"
        // The unit's PrivateTmp= and ProtectHome= hide /tmp, /root and /home, where a checkout may
        // live: run a copy of the binary from the lab's state directory.
        if !FileManager.default.fileExists(atPath: state + "/vigild") { _ = Spawn.run(["cp", Lab.bin + "/vigild", state + "/vigild"]) }
        if agents {
            _ = Spawn.run(["cp", Lab.root.appendingPathComponent("units/vigild-agents.conf").path, units + "/vigild.service.d/agents.conf"])
        }
        for (file, text) in extraUnits { try text.write(toFile: units + "/" + file, atomically: true, encoding: .utf8) }
        try (deb != nil ? "[Service]\nNetworkNamespacePath=/run/netns/\(lab.name)-n\(node)\n" : """
            [Service]
            ExecStart=
            ExecStart=\(state)/vigild --config \(state)/lab.conf --node n\(node) --control /run/vigil/vigild.sock --metrics off
            NetworkNamespacePath=/run/netns/\(lab.name)-n\(node)
            WatchdogSec=1s
            """).write(toFile: units + "/vigild.service.d/test.conf", atomically: true, encoding: .utf8)
        // The package: installed into overlays, its config the lab's (for node `node`, found by address).
        let dir = dir
        let install = deb.map { deb in """
            mount -t tmpfs tmpfs \(dir)/ov
            for d in usr etc var opt; do
              mkdir -p \(dir)/ov/$d/up \(dir)/ov/$d/work
              mount -t overlay overlay -o lowerdir=/$d,upperdir=\(dir)/ov/$d/up,workdir=\(dir)/ov/$d/work /$d
            done
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \(deb) > \(dir)/apt.log 2>&1
            cp /lib/systemd/system/vigild.service \(units)/vigild.service
            cp \(state)/lab.conf /etc/vigil/vigil.conf
            """ } ?? ""
        // (An installed package starts nothing: its test starts the unit itself.)
        try "[Unit]\nDescription=vigil test\n\(deb == nil ? "Wants=vigild.service\n" : "")".write(toFile: units + "/test.target", atomically: true, encoding: .utf8)
        // Only our units are visible: stand-ins (named as such) for the targets that default
        // dependencies pull in, without which systemd cannot queue the restart job.
        for t in ["sysinit", "basic", "shutdown", "network-online", "sockets", "timers", "paths", "slices"] {
            try "[Unit]\nDescription=stand-in \(t).target for tests\n".write(toFile: units + "/\(t).target", atomically: true, encoding: .utf8)
        }
        // Inside: keep the lab's netns and state visible under a private /run, then become PID 1.
        try """
            set -e
            mkdir -p \(dir)/keep/netns \(dir)/keep/lab \(dir)/ov
            mount --rbind /run/netns \(dir)/keep/netns
            mount --rbind /run/vigil-lab \(dir)/keep/lab
            mount -t tmpfs tmpfs /run
            mkdir -p /run/systemd /run/netns /run/vigil-lab
            mount --rbind \(dir)/keep/netns /run/netns
            mount --rbind \(dir)/keep/lab /run/vigil-lab
            \(install)
            export SYSTEMD_UNIT_PATH=\(units):/run/systemd/system
            exec /lib/systemd/systemd --system --unit=test.target --log-target=null
            """.write(toFile: dir + "/inner.sh", atomically: true, encoding: .utf8)
        guard let u = Spawn.start(["unshare", "--pid", "--fork", "--mount-proc", "--mount", "--uts", "sh", dir + "/inner.sh"],
                                  output: dir + "/unshare.log")
        else { throw Lab.LabError("cannot start unshare") }
        unshare = u
        var child: pid_t = 0
        let deadline = Date().addingTimeInterval(10)
        while child == 0 && Date() < deadline {
            let text = (try? String(contentsOfFile: "/proc/\(u)/task/\(u)/children", encoding: .utf8)) ?? ""
            child = pid_t(text.split(separator: " ").first ?? "") ?? 0
        }
        systemd = child
        let tmp = FileManager.default.temporaryDirectory.path
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [])
        test.addTeardownBlock { [self] in
            // systemd as PID 1 ignores SIGTERM: SIGKILL ends it and the whole namespace.
            if systemd > 0 { kill(systemd, SIGKILL) }
            _ = Spawn.wait(unshare)
            // PrivateTmp= directories the killed systemd could not remove itself.
            for d in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
            where !before.contains(d) && d.hasPrefix("systemd-private-") && d.contains("vigild.service") {
                _ = Spawn.run(["rm", "-rf", tmp + "/" + d])
            }
            if ProcessInfo.processInfo.environment["VIGIL_KEEP_TEST_DIRS"] == nil { _ = Spawn.run(["rm", "-rf", dir]) }
        }
        guard child > 0 else { throw Lab.LabError("systemd did not start: \(output())") }
        // systemd answers once its private socket exists.
        guard waitFor(20, { _ in true }) != nil else { throw Lab.LabError("systemd not answering: \(output())") }
    }

    func nsenter(_ argv: [String]) -> (status: Int32, output: String) {
        Spawn.run(["nsenter", "-t", "\(systemd)", "-m", "-p"] + argv)
    }
    func systemctl(_ args: String...) -> (status: Int32, output: String) { nsenter(["systemctl", "--no-pager"] + args) }

    func show(_ unit: String = "vigild.service", _ props: String = "ActiveState,SubState,StatusText,NRestarts,Result,MainPID") -> [String: String] {
        let r = systemctl("show", unit, "-p", props)
        guard r.status == 0 else { return [:] }
        var out: [String: String] = [:]
        for line in r.output.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }

    /// Polls systemd's view of the unit until `cond` holds or the deadline passes; returns the
    /// properties that satisfied it.
    @discardableResult
    func waitFor(_ seconds: Double, _ cond: ([String: String]) -> Bool) -> [String: String]? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let s = show()
            if !s.isEmpty && cond(s) { return s }
        } while Date() < deadline
        return nil
    }

    func output() -> String { (try? String(contentsOfFile: dir + "/unshare.log", encoding: .utf8)) ?? "" }
}
