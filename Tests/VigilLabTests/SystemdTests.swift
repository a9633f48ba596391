import Foundation
import Glibc
import XCTest

/// units/vigild.service under a real systemd, PID 1 of a private PID + mount namespace (see
/// ../shared/notes/systemd-in-namespace.md). The unit runs vigild for lab node n1 in its network
/// namespace (NetworkNamespacePath=); n2 and n3 are ordinary lab daemons.
final class SystemdTests: XCTestCase {
    func testNotifyStatusAndWatchdogUnderSystemd() throws {
        guard FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd") else { throw XCTSkip("no systemd installed") }
        // The unit's StateDirectory= makes /var/lib/vigil on this machine: remove it if we made it.
        if !FileManager.default.fileExists(atPath: "/var/lib/vigil") {
            addTeardownBlock { try? FileManager.default.removeItem(atPath: "/var/lib/vigil") }
        }
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

/// A systemd as PID 1 of a new PID + mount namespace, seeing only our units.
final class PrivateSystemd {
    let dir: String
    let unshare: pid_t
    let systemd: pid_t

    init(lab: Lab, _ test: XCTestCase) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-sd-\(lab.name)").path
        let units = dir + "/units"
        try FileManager.default.createDirectory(atPath: units + "/vigild.service.d", withIntermediateDirectories: true)
        let unit = Lab.root.appendingPathComponent("units/vigild.service").path
        _ = Spawn.run(["cp", unit, units + "/vigild.service"])
        let state = "/run/vigil-lab/\(lab.name)"
        // The unit's PrivateTmp= and ProtectHome= hide /tmp, /root and /home, where a checkout may
        // live: run a copy of the binary from the lab's state directory.
        _ = Spawn.run(["cp", Lab.bin + "/vigild", state + "/vigild"])
        try """
            [Service]
            ExecStart=
            ExecStart=\(state)/vigild --config \(state)/lab.conf --node n1 --control /run/vigil/vigild.sock --metrics off
            NetworkNamespacePath=/run/netns/\(lab.name)-n1
            WatchdogSec=1s
            """.write(toFile: units + "/vigild.service.d/test.conf", atomically: true, encoding: .utf8)
        try "[Unit]\nDescription=vigil test\nWants=vigild.service\n".write(toFile: units + "/test.target", atomically: true, encoding: .utf8)
        // Only our units are visible: stand-ins (named as such) for the targets that default
        // dependencies pull in, without which systemd cannot queue the restart job.
        for t in ["sysinit", "basic", "shutdown", "network-online", "sockets", "timers", "paths", "slices"] {
            try "[Unit]\nDescription=stand-in \(t).target for tests\n".write(toFile: units + "/\(t).target", atomically: true, encoding: .utf8)
        }
        // Inside: keep the lab's netns and state visible under a private /run, then become PID 1.
        try """
            set -e
            mkdir -p \(dir)/keep/netns \(dir)/keep/lab
            mount --rbind /run/netns \(dir)/keep/netns
            mount --rbind /run/vigil-lab \(dir)/keep/lab
            mount -t tmpfs tmpfs /run
            mkdir -p /run/systemd /run/netns /run/vigil-lab
            mount --rbind \(dir)/keep/netns /run/netns
            mount --rbind \(dir)/keep/lab /run/vigil-lab
            export SYSTEMD_UNIT_PATH=\(units)
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

    func show() -> [String: String] {
        let r = systemctl("show", "vigild.service", "-p", "ActiveState,SubState,StatusText,NRestarts,Result,MainPID")
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
