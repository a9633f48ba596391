import Glibc
import VigilConfig
import VigilCore

/// The `<parameter name=... required=... obsoletes=...>` tags of an agent's XML metadata (the same
/// shape in fence-agents and OCF resource agents).
enum AgentMetadata {
    struct Parameter {
        var name: String
        var required: Bool
        var obsoletes: String?
    }

    static func parameters(_ xml: String) -> [Parameter] {
        xml.split(separator: "<parameter ", omittingEmptySubsequences: false).dropFirst().compactMap { tag in
            let head = String(tag.prefix { $0 != ">" })
            guard let name = attribute("name", head) else { return nil }
            return Parameter(name: name, required: attribute("required", head) == "1", obsoletes: attribute("obsoletes", head))
        }
    }

    private static func attribute(_ name: String, _ tag: String) -> String? {
        guard let r = tag.firstRange(of: " " + name + "=\"") ?? (tag.hasPrefix(name + "=\"") ? tag.firstRange(of: name + "=\"") : nil) else { return nil }
        let rest = tag[r.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

/// A plugin's output into the log, line by line (at most `lines` per stream), under `prefix`.
func logOutput(_ log: Log, _ prefix: String, stdout: String, stderr: String, peer: String? = nil, lines: Int = 50) {
    for (stream, text) in [("stdout", stdout), ("stderr", stderr)] {
        for line in text.split(separator: "\n").prefix(lines) where !line.trimmingSpaces.isEmpty {
            log.log(.info, "\(prefix) \(stream): \(line.prefix(300))", peer: peer)
        }
    }
}

struct Problem: Error {
    let message: String
    init(_ m: String) { message = m }
}

/// One operation on a fence device, in either plugin protocol (see docs/fencing.md).
enum DeviceOp: String, Sendable {
    case off, on, reboot, status, monitor, list, metadata
}

/// The answer of a device operation, read from the plugin's exit code and output.
struct DeviceAnswer: Sendable {
    enum Verdict: Sendable, Equatable { case ok, failed, timeout }
    var verdict: Verdict
    /// For `status`: the target's power, when the plugin said.
    var powerOn: Bool?
    /// One line for history and logs.
    var message: String
    var run: PluginRun
}

/// A configured device with its program found on disk.
struct FenceDevice: Sendable {
    let spec: FenceDeviceSpec
    let path: String
    /// Whether to send `plug=` (fence-agents whose metadata knows neither plug nor port do not take one).
    var takesPlug = true

    /// Finds the program: `external/NAME` in cluster-glue's plugin directory; a bare name in the
    /// usual sbin/bin directories; a relative path next to the config file.
    static func resolve(_ spec: FenceDeviceSpec, configFile: String) -> Result<FenceDevice, Problem> {
        var candidates: [String] = []
        if spec.kind == .external && spec.agent.hasPrefix("external/") {
            candidates = ["/usr/lib/stonith/plugins/", "/usr/lib64/stonith/plugins/", "/usr/local/lib/stonith/plugins/"]
                .map { $0 + spec.agent }
        } else if spec.agent.hasPrefix("/") {
            candidates = [spec.agent]
        } else if spec.agent.contains("/") {
            let dir = configFile.lastIndex(of: "/").map { String(configFile[..<$0]) } ?? "."
            candidates = [dir + "/" + spec.agent]
        } else {
            candidates = ["/usr/sbin/", "/sbin/", "/usr/bin/", "/usr/local/sbin/"].map { $0 + spec.agent }
        }
        for c in candidates where access(c, X_OK) == 0 { return .success(FenceDevice(spec: spec, path: c)) }
        return .failure(Problem("agent '\(spec.agent)' not found or not executable (looked at \(candidates.joined(separator: ", ")))"))
    }

    /// Runs one operation. `target` is the node's plug (fence-agents) or host name (external).
    func run(_ op: DeviceOp, target: String? = nil, nodeName: String? = nil, timeout: TimeSpan? = nil,
             onStart: ((pid_t) -> Void)? = nil) -> DeviceAnswer {
        let limit = timeout ?? spec.timeout
        let r: PluginRun
        switch spec.kind {
        case .fenceAgent:
            // fence-agents: everything as name=value lines on stdin, nothing on the command line.
            var lines = ["action=\(op.rawValue)"]
            if let target, takesPlug { lines.append("plug=\(target)") }
            if let nodeName { lines.append("nodename=\(nodeName)") }
            lines += spec.params.map { "\($0.0)=\($0.1)" }
            r = Plugin.run(path, stdin: lines.joined(separator: "\n") + "\n", timeout: limit, onStart: onStart)
        case .external:
            // cluster-glue: parameters in the environment, the command and host as arguments.
            let cmd: [String] = switch op {
            case .off: ["off", target ?? ""]
            case .on: ["on", target ?? ""]
            case .reboot: ["reset", target ?? ""]
            case .status, .monitor: ["status"]
            case .list: ["gethosts"]
            case .metadata: ["getconfignames"]
            }
            // cluster-glue's helpers (ha_log.sh) live in /usr/share/cluster-glue, as under stonithd.
            let env = [("PATH", "/usr/share/cluster-glue:/usr/sbin:/usr/bin:/sbin:/bin")] + spec.params
            r = Plugin.run(path, args: cmd, env: env, timeout: limit, onStart: onStart)
        }
        return DeviceFence.interpret(op, r, kind: spec.kind)
    }
}

enum DeviceFence {
    /// Exit codes to verdicts. fence-agents `status`: 0 on, 2 off, anything else an error; other
    /// actions: 0 success. cluster-glue: 0 success. Anything else, a signal or a timeout: failure,
    /// with the last line the plugin printed.
    static func interpret(_ op: DeviceOp, _ r: PluginRun, kind: PluginKind) -> DeviceAnswer {
        func last(_ t: String) -> String? {
            t.split(separator: "\n").map { String($0).trimmed }.last { !$0.isEmpty }.map { String($0.prefix(200)) }
        }
        // Successes speak on stdout ("Success: Powered OFF"); failures explain on stderr.
        let ok = r.exitCode == 0
        let lastLine = (ok ? last(r.stdout) ?? last(r.stderr) : last(r.stderr) ?? last(r.stdout)) ?? ""
        let why = r.summary + (lastLine.isEmpty ? "" : ": " + lastLine)
        if r.timedOut { return DeviceAnswer(verdict: .timeout, message: why, run: r) }
        guard let code = r.exitCode else { return DeviceAnswer(verdict: .failed, message: why, run: r) }
        if op == .status && kind == .fenceAgent {
            switch code {
            case 0: return DeviceAnswer(verdict: .ok, powerOn: true, message: "on", run: r)
            case 2: return DeviceAnswer(verdict: .ok, powerOn: false, message: "off", run: r)
            default: return DeviceAnswer(verdict: .failed, message: why, run: r)
            }
        }
        if code == 0 { return DeviceAnswer(verdict: .ok, message: lastLine.isEmpty ? "ok" : lastLine, run: r) }
        let known: Set<Int32> = [1]
        let note = known.contains(code) ? "" : " (not an exit code the protocol defines)"
        return DeviceAnswer(verdict: .failed, message: why + note, run: r)
    }

    /// A device's parameters as its metadata describes them.
    struct Metadata: Sendable {
        var known: Set<String>
        var required: Set<String>
        /// name -> the newer name that replaces it (`obsoletes`), either satisfies a requirement.
        var aliases: [String: String]
    }

    /// fence-agents `metadata` (XML) or cluster-glue `getconfignames` (one name per line).
    static func metadata(_ d: FenceDevice) -> Result<Metadata, Problem> {
        let a = d.run(.metadata, timeout: .seconds(10))
        guard a.verdict == .ok else { return .failure(Problem("\(d.spec.agent) metadata: \(a.message)")) }
        switch d.spec.kind {
        case .external:
            let names = a.run.stdout.split(whereSeparator: { $0 == "\n" || $0 == " " }).map(String.init)
            return .success(Metadata(known: Set(names), required: [], aliases: [:]))
        case .fenceAgent:
            var m = Metadata(known: [], required: [], aliases: [:])
            for p in AgentMetadata.parameters(a.run.stdout) {
                m.known.insert(p.name)
                if p.required { m.required.insert(p.name) }
                if let old = p.obsoletes { m.aliases[old] = p.name }
            }
            guard !m.known.isEmpty else { return .failure(Problem("\(d.spec.agent) metadata: no <parameter> in its output")) }
            return .success(m)
        }
    }

    /// Checks the configured parameters against the metadata: unknown or missing required ones are
    /// errors at the `params` line.
    static func check(_ d: FenceDevice, _ m: Metadata, file: String) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let given = Set(d.spec.params.map(\.0))
        for (k, _) in d.spec.params where !m.known.contains(k) {
            out.append(Diagnostic(file: file, line: d.spec.paramsLine, severity: .error,
                                  message: "fence device '\(d.spec.name)' (\(d.spec.agent)): unknown parameter '\(k)'",
                                  fix: "its parameters are " + m.known.sorted().joined(separator: ", ")))
        }
        let setByUs: Set<String> = ["action", "plug", "port", "nodename"]
        for r in m.required.sorted() where !setByUs.contains(r) && !given.contains(r) {
            let alias = m.aliases.first { $0.value == r }?.key
            if let alias, given.contains(alias) { continue }
            out.append(Diagnostic(file: file, line: d.spec.line, severity: .error,
                                  message: "fence device '\(d.spec.name)' (\(d.spec.agent)): required parameter '\(r)' is missing",
                                  fix: "add \"\(r)=...\" to params"))
        }
        return out
    }

    /// Resolves every device and checks it against its metadata (config check and daemon start).
    static func validate(_ c: ClusterConfig) -> (devices: [FenceDevice], errors: [Diagnostic]) {
        var devices: [FenceDevice] = []
        var errors: [Diagnostic] = []
        for spec in c.fencing.devices {
            switch FenceDevice.resolve(spec, configFile: c.file) {
            case .failure(let why):
                errors.append(Diagnostic(file: c.file, line: spec.line, severity: .error,
                                         message: "fence device '\(spec.name)': \(why.message)", fix: "install it or fix 'agent'"))
            case .success(var d):
                switch metadata(d) {
                case .failure(let why):
                    errors.append(Diagnostic(file: c.file, line: spec.line, severity: .error,
                                             message: "fence device '\(spec.name)': \(why.message)", fix: "the agent must answer its metadata action"))
                case .success(let m):
                    errors += check(d, m, file: c.file)
                    if spec.kind == .fenceAgent { d.takesPlug = m.known.contains("plug") || m.known.contains("port") }
                }
                devices.append(d)
            }
        }
        return (devices, errors)
    }
}
