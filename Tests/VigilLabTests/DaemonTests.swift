import Foundation
import Glibc
import XCTest

/// vigild's refusals at start-up: bad config (file:line), and a key others can read.
final class DaemonTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigild-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { [dir] in try? FileManager.default.removeItem(atPath: dir) }
    }

    func config(key: String, extra: String = "") -> String {
        """
        [cluster]
        id = 3
        key = "\(key)"
        \(extra)
        [[link]]
        mode = "unicast"
        [[node]]
        id = 1
        name = "a"
        addresses = ["127.0.0.1"]
        [[node]]
        id = 2
        name = "b"
        addresses = ["127.0.0.2"]
        """
    }

    func vigild(_ args: String...) -> (status: Int32, output: String) {
        Spawn.run([Lab.bin + "/vigild"] + args + ["--metrics", "off", "--control", dir + "/sock", "--realtime-priority", "0"])
    }

    func testConfigErrorNamesFileAndLine() throws {
        let path = dir + "/bad.conf"
        try config(key: dir + "/k", extra: "bogus = 1").write(toFile: path, atomically: true, encoding: .utf8)
        let r = vigild("--config", path, "--node", "a")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("\(path):4: error: unknown key 'bogus' in [cluster]"), r.output)
    }

    func testKeyReadableByOthersIsRefused() throws {
        let key = dir + "/cluster.key"
        XCTAssertEqual(Spawn.run([Lab.bin + "/vigilctl", "keygen", key]).status, 0)
        var st = stat()
        XCTAssertEqual(stat(key, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600, "keygen writes mode 0600")
        chmod(key, 0o644)
        let path = dir + "/ok.conf"
        try config(key: key).write(toFile: path, atomically: true, encoding: .utf8)
        let r = vigild("--config", path, "--node", "a")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("mode 644 lets group or others read the cluster key; refusing"), r.output)
        XCTAssertNotEqual(Spawn.run([Lab.bin + "/vigilctl", "keygen", key]).status, 0, "keygen never overwrites a key")
    }

    func testCheckConfigPrintsDerivedValues() throws {
        let path = dir + "/ok.conf"
        try config(key: dir + "/k").write(toFile: path, atomically: true, encoding: .utf8)
        let r = Spawn.run([Lab.bin + "/vigild", "--config", path, "--check-config"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("detection bound"), r.output)
    }

    /// Config check runs each fence agent's metadata: unknown and missing required parameters are
    /// errors at the device's lines (fence-agents and cluster-glue), a missing agent too.
    func testFenceDeviceParametersAreCheckedAgainstMetadata() throws {
        let root = Lab.root.path
        func check(_ device: String) -> (status: Int32, output: String) {
            let path = dir + "/fence.conf"
            try? (config(key: dir + "/k") + "\n" + device).write(toFile: path, atomically: true, encoding: .utf8)
            return Spawn.run([Lab.bin + "/vigilctl", "validate", path])
        }
        let lines = config(key: dir + "/k").split(separator: "\n", omittingEmptySubsequences: false).count
        var r = check("""
            [[fence_device]]
            name = "sw"
            agent = "\(root)/agents/stonith/fence_example"
            params = ["state_dir=/tmp", "bogus=1"]
            """)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("fence.conf:\(lines + 4): error: fence device 'sw'"), r.output)
        XCTAssertTrue(r.output.contains("unknown parameter 'bogus'"), r.output)
        r = check("""
            [[fence_device]]
            name = "sw"
            agent = "\(root)/agents/stonith/fence_example"
            """)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("fence.conf:\(lines + 1): error: fence device 'sw'"), r.output)
        XCTAssertTrue(r.output.contains("required parameter 'state_dir' is missing"), r.output)
        r = check("""
            [[fence_device]]
            name = "glue"
            agent = "\(root)/agents/stonith/external/example"
            protocol = "cluster-glue"
            params = ["state_dir=/tmp", "colour=red"]
            """)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("unknown parameter 'colour'"), r.output)
        r = check("""
            [[fence_device]]
            name = "ghost"
            agent = "fence_does_not_exist"
            """)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.output.contains("fence.conf:\(lines + 1): error: fence device 'ghost': agent 'fence_does_not_exist' not found"), r.output)
        r = check("""
            [[fence_device]]
            name = "sw"
            agent = "\(root)/agents/stonith/fence_example"
            params = ["state_dir=/tmp"]
            """)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("fence device sw:"), r.output)
    }
}
