import Glibc
import VigilConfig
import VigilCore

/// A resource agent reference as written in the config: `ocf:PROVIDER:TYPE`, `lsb:NAME`,
/// `systemd:UNIT`.
public enum AgentRef: Equatable, Sendable, CustomStringConvertible {
    case ocf(provider: String, type: String)
    case lsb(String)
    case systemd(String)

    public init?(_ s: String) {
        let p = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let ok = { (x: String) in !x.isEmpty && !x.contains("/") && x != "." && x != ".." }
        switch p.first {
        case "ocf" where p.count == 3 && ok(p[1]) && ok(p[2]): self = .ocf(provider: p[1], type: p[2])
        case "lsb" where p.count == 2 && ok(p[1]): self = .lsb(p[1])
        case "systemd" where p.count == 2 && ok(p[1]): self = .systemd(p[1])
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case let .ocf(p, t): "ocf:\(p):\(t)"
        case .lsb(let n): "lsb:\(n)"
        case .systemd(let u): "systemd:\(u)"
        }
    }
}

/// What an agent's exit code means (OCF resource agent API; LSB init scripts mapped onto it).
public enum AgentResult: Equatable, Sendable, CustomStringConvertible {
    case ok                    // 0
    case genericError          // 1
    case invalidArgument       // 2
    case unimplemented         // 3
    case insufficientPrivilege // 4
    case notInstalled          // 5
    case notConfigured         // 6
    case notRunning            // 7
    case runningPromoted       // 8 (recognised; promotable resources are not supported yet)
    case failedPromoted        // 9
    case unknownCode(Int32)
    case timedOut
    case killed(signal: Int32)
    case cannotRun(String)

    public static func ocf(_ code: Int32) -> AgentResult {
        switch code {
        case 0: .ok
        case 1: .genericError
        case 2: .invalidArgument
        case 3: .unimplemented
        case 4: .insufficientPrivilege
        case 5: .notInstalled
        case 6: .notConfigured
        case 7: .notRunning
        case 8: .runningPromoted
        case 9: .failedPromoted
        default: .unknownCode(code)
        }
    }

    /// LSB: `status` 0 running, 3 stopped (1-2 dead with pid/lock file: not running, but dirty);
    /// other actions 0 success, 5 not installed, 6 not configured, else generic error.
    public static func lsb(_ code: Int32, action: String) -> AgentResult {
        if action == "status" {
            switch code {
            case 0: return .ok
            case 3: return .notRunning
            case 1, 2: return .genericError
            case 4: return .unknownCode(4)
            default: return .unknownCode(code)
            }
        }
        switch code {
        case 0: return .ok
        case 2: return .invalidArgument
        case 3: return .unimplemented
        case 4: return .insufficientPrivilege
        case 5: return .notInstalled
        case 6: return .notConfigured
        case 7: return .notRunning
        default: return code == 1 ? .genericError : .unknownCode(code)
        }
    }

    public var description: String {
        switch self {
        case .ok: "ok"
        case .genericError: "generic error (1)"
        case .invalidArgument: "invalid argument (2)"
        case .unimplemented: "unimplemented (3)"
        case .insufficientPrivilege: "insufficient privilege (4)"
        case .notInstalled: "not installed (5)"
        case .notConfigured: "not configured (6)"
        case .notRunning: "not running (7)"
        case .runningPromoted: "running promoted (8)"
        case .failedPromoted: "failed promoted (9)"
        case .unknownCode(let c): "unknown exit code \(c)"
        case .timedOut: "timed out"
        case .killed(let s): "killed by signal \(s)"
        case .cannotRun(let why): "cannot run: \(why)"
        }
    }
}

/// Runs resource agents: never through a shell, in their own process group, killed whole at the
/// timeout, with the environment OCF agents expect.
public struct ResourceAgentRunner: Sendable {
    public var ocfRoot = "/usr/lib/ocf"
    public var lsbDir = "/etc/init.d"
    /// `systemd:` resources: the systemctl to run and the directory whose presence says systemd
    /// is PID 1 (sd_booted(3)); run-time drop-ins go there too.
    public var systemctlPath = "/bin/systemctl"
    public var systemdRunDir = "/run/systemd/system"
    /// What Pacemaker's environment adds for OCF agents (nil: not set, as in `vigilctl validate`).
    public var context: AgentContext?
    public init() {}

    public struct Outcome: Sendable {
        public var result: AgentResult
        public var stdout: String
        public var stderr: String
        public var duration: TimeSpan
    }

    public func path(_ agent: AgentRef) -> String? {
        switch agent {
        case let .ocf(p, t): "\(ocfRoot)/resource.d/\(p)/\(t)"
        case .lsb(let n): "\(lsbDir)/\(n)"
        case .systemd: nil
        }
    }

    /// `action`: start, stop, monitor (also the probe), meta-data, validate-all (OCF); LSB scripts
    /// get start, stop, status. `interval` is the monitor's interval (0 for probes and one-offs).
    public func run(_ agent: AgentRef, action: String, instance: String, params: [(String, String)],
                    timeout: TimeSpan, interval: TimeSpan = .zero) -> Outcome {
        if case .systemd(let unit) = agent { return runSystemd(unit, action: action, timeout: timeout) }
        guard let path = path(agent) else { return Outcome(result: .cannotRun("no agent path"), stdout: "", stderr: "", duration: .zero) }
        // A missing agent is "not installed" (5), as Pacemaker reports it, without running anything.
        guard access(path, X_OK) == 0 else {
            return Outcome(result: .notInstalled, stdout: "", stderr: "\(path): not found or not executable", duration: .zero)
        }
        switch agent {
        case .lsb:
            let act = action == "monitor" ? "status" : action
            let r = Plugin.run(path, args: [act], timeout: timeout, keepDescendants: true)
            return outcome(r, code: { AgentResult.lsb($0, action: act) })
        default:
            var env: [(String, String)] = [
                ("OCF_ROOT", ocfRoot), ("OCF_FUNCTIONS_DIR", "\(ocfRoot)/lib/heartbeat"),
                ("OCF_RA_VERSION_MAJOR", "1"), ("OCF_RA_VERSION_MINOR", "1"),
                ("OCF_RESOURCE_INSTANCE", instance), ("OCF_RESOURCE_TYPE", path.split(separator: "/").last.map(String.init) ?? ""),
                ("OCF_RESKEY_CRM_meta_timeout", String(timeout.nanoseconds / 1_000_000)),
                ("OCF_RESKEY_CRM_meta_interval", String(interval.nanoseconds / 1_000_000)),
            ]
            if case let .ocf(provider, _) = agent { env.append(("OCF_RESOURCE_PROVIDER", provider)) }
            env += context?.environment(action: action) ?? []
            env += params.map { ("OCF_RESKEY_\($0.0)", $0.1) }
            let r = Plugin.run(path, args: [action], env: env, timeout: timeout, keepDescendants: true)
            return outcome(r, code: AgentResult.ocf)
        }
    }

    private func outcome(_ r: PluginRun, code: (Int32) -> AgentResult) -> Outcome {
        let result: AgentResult
        if let e = r.spawnError { result = .cannotRun(e) }
        else if r.timedOut { result = .timedOut }
        else if let s = r.signal { result = .killed(signal: s) }
        else { result = code(r.exitCode ?? -1) }
        return Outcome(result: result, stdout: r.stdout, stderr: r.stderr, duration: r.duration)
    }

    /// The agent's parameters from its `meta-data` (name -> required).
    public func parameters(_ agent: AgentRef) -> [String: Bool]? {
        let o = run(agent, action: "meta-data", instance: "meta-data", params: [], timeout: .seconds(10))
        guard o.result == .ok else { return nil }
        return Dictionary(AgentMetadata.parameters(o.stdout).map { ($0.name, $0.required) }) { a, b in a || b }
    }
}

/// Config check for `[[resource]]`: the agent must exist, and its meta-data must know every
/// parameter given and get every required one (errors at file:line, as for fence devices).
public enum ResourceCheck {
    public static func validate(_ c: ClusterConfig, runner: ResourceAgentRunner = ResourceAgentRunner()) -> [Diagnostic] {
        var out: [Diagnostic] = []
        for r in c.resources {
            guard let agent = AgentRef(r.agent) else { continue }  // the config parser already refused it
            if case .systemd(let unit) = agent {
                out += systemdUnit(unit, r, c, runner)
                continue
            }
            guard let path = runner.path(agent) else { continue }
            guard access(path, X_OK) == 0 else {
                out.append(Diagnostic(file: c.file, line: r.line, severity: .error,
                                      message: "resource '\(r.id)': agent \(r.agent) not found at \(path)",
                                      fix: "install it (Debian: resource-agents) or fix 'agent'"))
                continue
            }
            guard case .ocf = agent else { continue }  // LSB scripts have no meta-data
            guard let meta = runner.parameters(agent) else {
                out.append(Diagnostic(file: c.file, line: r.line, severity: .error,
                                      message: "resource '\(r.id)': \(r.agent) meta-data failed", fix: "run it by hand: \(path) meta-data"))
                continue
            }
            for (k, _) in r.params where meta[k] == nil {
                out.append(Diagnostic(file: c.file, line: r.paramsLine, severity: .error,
                                      message: "resource '\(r.id)' (\(r.agent)): unknown parameter '\(k)'",
                                      fix: "its parameters are " + meta.keys.sorted().joined(separator: ", ")))
            }
            let given = Set(r.params.map(\.0))
            for (k, required) in meta.sorted(by: { $0.key < $1.key }) where required && !given.contains(k) {
                out.append(Diagnostic(file: c.file, line: r.line, severity: .error,
                                      message: "resource '\(r.id)' (\(r.agent)): required parameter '\(k)' is missing",
                                      fix: "add \"\(k)=...\" to params"))
            }
        }
        return out
    }

    /// A unit takes no parameters (an error). Warnings: systemd not PID 1 here, the unit not found
    /// here (either way this node cannot run it), or enabled (systemd would start it at boot,
    /// beside the cluster's copy).
    static func systemdUnit(_ name: String, _ r: ResourceSpec, _ c: ClusterConfig, _ runner: ResourceAgentRunner) -> [Diagnostic] {
        let unit = ResourceAgentRunner.unitName(name)
        func diag(_ line: Int, _ sev: Diagnostic.Severity, _ msg: String, _ fix: String) -> Diagnostic {
            Diagnostic(file: c.file, line: line, severity: sev, message: "resource '\(r.id)' (systemd:\(name)): " + msg, fix: fix)
        }
        var out: [Diagnostic] = []
        if !r.params.isEmpty {
            out.append(diag(r.paramsLine, .error, "systemd units take no parameters", "put them in the unit or a drop-in, and remove 'params'"))
        }
        guard access(runner.systemdRunDir, F_OK) == 0 else {
            return out + [diag(r.line, .warning, "systemd is not PID 1 here: this node cannot run it (its probe bans it here)", "run it where systemd runs")]
        }
        let show = Plugin.run(runner.systemctlPath, args: ["show", "--property=LoadState,UnitFileState", "--", unit], timeout: .seconds(10))
        let props = ResourceAgentRunner.unitProperties(show.stdout)
        if props["LoadState"] == "not-found" {
            // A warning: nodes may differ in what they have installed; the probe bans it where missing.
            out.append(diag(r.line, .warning, "\(unit) not found by systemd here: this node cannot run it",
                            "install the unit or fix 'agent' (systemctl status \(unit))"))
        } else if props["UnitFileState"] == "enabled" {
            out.append(diag(r.line, .warning, "\(unit) is enabled: systemd starts it at boot beside the cluster", "systemctl disable \(unit)"))
        }
        return out
    }
}
