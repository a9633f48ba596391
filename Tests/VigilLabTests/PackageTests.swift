import Foundation
import Glibc
import VigilStatus
import XCTest

/// The Debian package (tools/package: a release build with the Swift standard library linked
/// statically) installed with `apt-get install ./vigil_*.deb` under a private systemd, in a
/// mount namespace whose /usr, /etc, /var and /opt are overlays (this machine is untouched):
/// vigild.service starts from the installed unit and binary as node n1 of a lab and joins n2 and
/// n3, `man` finds every page, the installed vigilctl answers, and purge leaves nothing behind.
final class PackageTests: XCTestCase {
    /// The package, built once per test run (or given: VIGIL_DEB).
    static func deb() throws -> String {
        if let given = ProcessInfo.processInfo.environment["VIGIL_DEB"] { return given }
        let r = Spawn.run([Lab.root.appendingPathComponent("tools/package").path])
        guard r.status == 0, let path = r.output.split(separator: "\n").last.map(String.init), path.hasSuffix(".deb") else {
            throw Lab.LabError("tools/package failed: \(r.output.suffix(3000))")
        }
        return path
    }

    func testInstallRunAndPurgeTheDebianPackage() throws {
        guard FileManager.default.isExecutableFile(atPath: "/lib/systemd/systemd"), FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/man") else {
            throw XCTSkip("systemd, dpkg-deb or man missing: apt-get install systemd dpkg man-db")
        }
        let deb = try Self.deb()
        let lab = try Lab(nodes: 3, self)
        XCTAssertEqual(lab.lab("stop", "1").status, 0)
        let sd = try PrivateSystemd(lab: lab, installing: deb, self)
        let apt = (try? String(contentsOfFile: sd.dir + "/apt.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(apt.contains("Setting up vigil"), apt)
        XCTAssertEqual(sd.show()["ActiveState"], "inactive", "installing starts nothing")
        XCTAssertEqual(sd.systemctl("is-enabled", "vigild.service").output.trimmingCharacters(in: .whitespacesAndNewlines), "disabled")

        XCTAssertEqual(sd.systemctl("start", "vigild.service").status, 0, sd.systemctl("status", "vigild.service").output)
        guard let active = sd.waitFor(30, { $0["ActiveState"] == "active" }) else { return XCTFail("never active: \(sd.show())") }
        XCTAssertTrue(active["StatusText"]?.contains("3/3 members, quorate") == true, "\(active)")
        let exe = sd.nsenter(["readlink", "/proc/\(active["MainPID"] ?? "0")/exe"]).output
        XCTAssertEqual(exe.trimmingCharacters(in: .whitespacesAndNewlines), "/usr/sbin/vigild", "the installed binary runs")
        let status = sd.nsenter(["/usr/bin/vigilctl", "status"]).output
        XCTAssertTrue(status.contains("n3    3   member"), status)
        XCTAssertTrue(sd.nsenter(["/usr/bin/vigilctl", "--version"]).output.contains(VigilVersion.string))
        XCTAssertTrue(sd.nsenter(["ldd", "/usr/sbin/vigild"]).output.contains("libswift") == false, "no Swift library needed")

        for (page, expect) in [("vigild", "vigild"), ("vigilctl", "status"), ("vigil-sim", "vigil-sim"), ("5 vigil.conf", "deadline")] {
            let man = sd.nsenter(["sh", "-c", "MANWIDTH=80 man -P cat \(page) 2>&1"])
            XCTAssertEqual(man.status, 0, "man \(page): \(man.output.prefix(300))")
            XCTAssertTrue(man.output.contains(expect), "man \(page): \(man.output.prefix(300))")
        }
        let completion = sd.nsenter(["bash", "-c", ". /usr/share/bash-completion/completions/vigilctl && complete -p vigilctl"])
        XCTAssertEqual(completion.status, 0, completion.output)

        let listed = sd.nsenter(["dpkg", "-L", "vigil"]).output.split(separator: "\n").map(String.init)
        XCTAssertTrue(listed.contains("/usr/sbin/vigild") && listed.contains("/usr/lib/vigil/pacemaker/crm_attribute"), "\(listed)")
        // What the package put there (its files, and its own directories) and what the node made.
        let ours = sd.nsenter(["sh", "-c", "for f; do [ -f \"$f\" ] && echo \"$f\"; done; true", "sh"] + listed).output
            .split(separator: "\n").map(String.init)
            + ["/etc/vigil", "/var/lib/vigil", "/usr/lib/vigil", "/usr/share/vigil", "/usr/share/doc/vigil", "/usr/lib/ocf/resource.d/vigil"]
        XCTAssertTrue(ours.contains("/etc/vigil/vigil.conf.example"), "\(ours)")
        let purge = sd.nsenter(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "-q", "vigil"])
        XCTAssertEqual(purge.status, 0, purge.output)
        XCTAssertNotNil(sd.waitFor(30) { $0["ActiveState"] != "active" }, "removing the package stopped vigild: \(sd.show())")
        let left = sd.nsenter(["sh", "-c", "for f; do [ -e \"$f\" ] && echo \"$f\"; done; true", "sh"] + ours).output
        XCTAssertEqual(left.trimmingCharacters(in: .whitespacesAndNewlines), "", "left behind after purge")
        XCTAssertNotEqual(sd.nsenter(["dpkg", "-s", "vigil"]).status, 0, "dpkg no longer knows it")
    }
}
