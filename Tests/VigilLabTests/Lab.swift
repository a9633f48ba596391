import Foundation
import Glibc
import VigilDaemon
import VigilStatus
import XCTest

/// A real lab (tools/lab): real vigild processes in network namespaces, removed at the end even
/// when the test fails. Waits are for conditions, with deadlines; nothing sleeps to synchronise.
final class Lab {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    /// The binaries `swift test` built next to the test bundle.
    static let bin: String = {
        var dir = Bundle(for: Lab.self).bundleURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("vigild").path) {
            dir = root.appendingPathComponent(".build/debug")
        }
        return dir.path
    }()

    let name: String
    let nodes: Int
    /// The lab's state directory (config, sockets, logs, histories).
    var dir: String { "/run/vigil-lab/\(name)" }

    /// `fenceConfig` is appended to the lab's config; `{LAB}`, `{DIR}` (the lab's state directory)
    /// and `{ROOT}` (the checkout) are replaced first.
    init(nodes: Int = 3, mode: String = "multicast", extra: [String] = [], fenceConfig: String? = nil, _ test: XCTestCase) throws {
        guard getuid() == 0 else { throw XCTSkip("lab tests need root (network namespaces)") }
        guard FileManager.default.fileExists(atPath: Lab.bin + "/vigild") else { throw XCTSkip("vigild not built in \(Lab.bin)") }
        name = "t" + String(String(UInt32.random(in: 0..<UInt32.max), radix: 36).prefix(6))
        self.nodes = nodes
        test.addTeardownBlock { [name] in _ = Lab.run(["down"], lab: name) }
        var extra = extra
        if let fenceConfig {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-\(name)-extra.conf")
            let text = fenceConfig.replacingOccurrences(of: "{LAB}", with: name).replacingOccurrences(of: "{DIR}", with: dir)
                .replacingOccurrences(of: "{ROOT}", with: Lab.root.path)
            try text.write(to: file, atomically: true, encoding: .utf8)
            test.addTeardownBlock { try? FileManager.default.removeItem(at: file) }
            extra += ["--fence-extra", file.path]
        }
        Lab.removeOrphans()
        let r = Lab.run(["up", "--nodes", "\(nodes)", "--mode", mode] + extra, lab: name)
        // Its owner: a lab whose test process died (killed, crashed: no teardown ran) is removed by
        // the next lab test (`removeOrphans`).
        try? String(getpid()).write(toFile: dir + "/owner", atomically: true, encoding: .utf8)
        guard r.status == 0 else { throw LabError("tools/lab up failed:\n\(r.output)") }
    }

    /// Labs (and PAF data directories, `/tmp/vigil-paf-PID-*`) whose owning test process is gone:
    /// removed with `tools/lab down`, which stops what runs in their namespaces by PID. A lab
    /// without an owner file (still coming up, or made by hand) is left alone.
    static func removeOrphans() {
        func dead(_ pid: String) -> Bool { Int32(pid).map { kill($0, 0) != 0 && errno == ESRCH } ?? false }
        for lab in (try? FileManager.default.contentsOfDirectory(atPath: "/run/vigil-lab")) ?? [] {
            guard let owner = try? String(contentsOfFile: "/run/vigil-lab/\(lab)/owner", encoding: .utf8),
                  dead(owner.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            _ = run(["down"], lab: lab)
        }
        for d in (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? [] where d.hasPrefix("vigil-paf-") {
            if let pid = d.split(separator: "-").dropFirst(2).first, dead(String(pid)) { try? FileManager.default.removeItem(atPath: "/tmp/" + d) }
        }
    }

    struct LabError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// Runs tools/lab for this lab.
    @discardableResult
    static func run(_ args: [String], lab: String) -> (status: Int32, output: String) {
        Spawn.run([root.appendingPathComponent("tools/lab").path] + args, env: ["VIGIL_LAB": lab, "VIGIL_BIN": bin])
    }

    @discardableResult
    func lab(_ args: String...) -> (status: Int32, output: String) { Lab.run(args, lab: name) }

    func ctl(_ node: Int, _ args: String...) -> (status: Int32, output: String) { Lab.run(["ctl", "\(node)"] + args, lab: name) }

    /// The node's Prometheus metrics (its metrics port, inside its namespace).
    static func metrics(_ lab: Lab, _ node: Int) -> String {
        lab.lab("exec", "\(node)", "python3", "-c",
                "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:9465/metrics').read().decode())").output
    }

    func status(_ node: Int) throws -> StatusSnapshot {
        let r = ctl(node, "status", "--json")
        guard r.status == 0 else { throw LabError("status of n\(node): \(r.output)") }
        return try JSONDecoder().decode(StatusSnapshot.self, from: Data(r.output.utf8))
    }

    /// Waits for the first event on `node` (from its buffered history onward) that matches, reading
    /// the control socket's event stream (the same client as vigilctl) until the deadline.
    func event(_ node: Int, within seconds: Double = 10, after seq: UInt64 = 0,
               _ match: (ClusterEvent) -> Bool) -> ClusterEvent? {
        var found: ClusterEvent?
        try? ControlClient.follow("/run/vigil-lab/\(name)/n\(node)/vigild.sock", after: seq, within: seconds) { e in
            if match(e) { found = e }
            return found == nil
        }
        return found
    }

    /// Polls `condition` every 20 ms until it holds or `seconds` pass; returns whether it held.
    /// (The one place lab tests poll; events are better waited for with `event`.)
    @discardableResult
    static func waitUntil(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < end else { return false }
            usleep(20_000)
        }
        return true
    }

    /// Latest event seq on a node (to wait only for what happens next).
    func lastSeq(_ node: Int) -> UInt64 {
        let r = ctl(node, "events")
        return r.output.split(separator: "\n").compactMap { try? JSONDecoder().decode(ClusterEvent.self, from: Data($0.utf8)).seq }.max() ?? 0
    }
}


/// Child processes by posix_spawn and waitpid (Foundation's Process can miss the exit of a child
/// that leaves background daemons behind). Output goes through a file.
enum Spawn {
    static func start(_ argv: [String], env extra: [String: String] = [:], output: String) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let env = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        return posix_spawnp(&pid, argv[0], &actions, nil, cArgs, cEnv) == 0 ? pid : nil
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    @discardableResult
    static func run(_ argv: [String], env: [String: String] = [:]) -> (status: Int32, output: String) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-spawn-\(UUID().uuidString)").path
        defer { unlink(out) }
        guard let pid = start(argv, env: env, output: out) else { return (127, "cannot spawn \(argv[0])") }
        let status = wait(pid)
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }
}
