import Glibc
import VigilCore

/// `systemd:UNIT` resources: the unit is started, stopped and watched through `systemctl` of the
/// node's own systemd (PID 1), as Pacemaker's systemd class does over D-Bus. `systemctl start`
/// and `stop` wait for their job to finish; the monitor reads the unit's ActiveState.
///
/// Before the first start a run-time drop-in (`/run/systemd/system/UNIT.d/50-vigil.conf`) orders
/// the unit before vigild.service, so that at shutdown systemd stops vigild (which stops its
/// resources itself) before it touches the unit, and sets `Restart=no`, so that a crash is seen
/// and counted by the cluster rather than hidden by systemd restarting it in place.
extension ResourceAgentRunner {
    /// A bare name means a service, as in `systemctl`: `postgresql` is `postgresql.service`.
    static func unitName(_ u: String) -> String { u.contains(".") ? u : u + ".service" }

    /// `systemctl show --property=...` output (KEY=VALUE lines) as a dictionary.
    static func unitProperties(_ stdout: String) -> [String: String] {
        var p: [String: String] = [:]
        for line in stdout.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            p[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return p
    }

    func runSystemd(_ name: String, action: String, timeout: TimeSpan) -> Outcome {
        let unit = Self.unitName(name)
        let deadline = Clock.monotonic() + timeout
        var out = Outcome(result: .ok, stdout: "", stderr: "", duration: .zero)
        func note(_ s: String) { if !s.isEmpty { out.stderr += (out.stderr.isEmpty ? "" : "\n") + s } }
        func finish(_ r: AgentResult, _ why: String = "") -> Outcome {
            out.result = r
            note(why)
            return out
        }
        // sd_booted(3): systemd as PID 1 creates this directory; in a container or a lab node
        // without it there is no systemd to ask.
        guard access(systemdRunDir, F_OK) == 0 else {
            return finish(.notInstalled, "systemd is not PID 1 on this node (no \(systemdRunDir)): \(unit) cannot run here")
        }
        func systemctl(_ args: [String]) -> PluginRun? {
            let left = deadline - Clock.monotonic()
            guard left > .zero else { return nil }
            let r = Plugin.run(systemctlPath, args: ["--no-ask-password"] + args, timeout: left)
            out.duration = out.duration + r.duration
            note(r.stderr.trimmed)
            return r.timedOut ? nil : r
        }
        func properties() -> [String: String]? {
            guard let r = systemctl(["show", "--property=LoadState,ActiveState,SubState,UnitFileState", "--", unit]),
                  r.exitCode == 0 else { return nil }
            return Self.unitProperties(r.stdout)
        }
        guard let p = properties() else { return finish(deadline <= Clock.monotonic() ? .timedOut : .genericError, "systemctl show \(unit) failed") }
        let load = p["LoadState"] ?? "", active = p["ActiveState"] ?? ""
        let missing = load == "not-found" || load == "masked"
        let describe = "\(unit): \(load), \(active)/\(p["SubState"] ?? "")"
        switch action {
        case "monitor":
            switch active {
            case "active", "reloading": return finish(.ok)
            case "inactive", "failed": return finish(missing ? .notInstalled : .notRunning, missing ? describe : "")
            default: return finish(.genericError, "\(describe) (between states)")  // activating, deactivating
            }
        case "start":
            guard !missing else { return finish(.notInstalled, describe) }
            installDropIn(unit, systemctl: { systemctl($0) }, note: { note($0) })
            guard let r = systemctl(["start", "--", unit]) else { return finish(.timedOut) }
            guard r.exitCode == 0 else { return finish(.genericError, "systemctl start \(unit): exit \(r.exitCode ?? -1)") }
            // A service that exits at once (Type=simple) still "started": look again.
            guard let after = properties() else { return finish(.timedOut) }
            switch after["ActiveState"] {
            case "active", "reloading", "activating": return finish(.ok)
            default: return finish(.genericError, "\(unit) is \(after["ActiveState"] ?? "?")/\(after["SubState"] ?? "?") right after its start")
            }
        case "stop":
            if missing && (active == "inactive" || active == "failed") { return finish(.ok, "\(describe): nothing to stop") }
            guard let r = systemctl(["stop", "--", unit]) else { return finish(.timedOut) }
            return finish(r.exitCode == 0 ? .ok : .genericError, r.exitCode == 0 ? "" : "systemctl stop \(unit): exit \(r.exitCode ?? -1)")
        case "validate-all":
            return finish(missing ? .notInstalled : .ok, missing ? describe : "")
        case "meta-data":
            return finish(.ok)  // units take no parameters
        default:
            return finish(.unimplemented)
        }
    }

    /// Writes the cluster's drop-in if it is missing or different, then reloads systemd.
    /// Failing to (a read-only /run under a sandbox) is reported, not fatal.
    private func installDropIn(_ unit: String, systemctl: ([String]) -> PluginRun?, note: (String) -> Void) {
        let dir = "\(systemdRunDir)/\(unit).d"
        let path = dir + "/50-vigil.conf"
        var text = """
            # Written by vigild: this unit is a cluster resource (systemd:\(unit)).
            # Stop vigild before the unit at shutdown (vigild stops its resources itself).
            [Unit]
            Before=vigild.service

            """
        if unit.hasSuffix(".service") {
            text += "# A crash is the cluster's to see and count, not systemd's to hide.\n[Service]\nRestart=no\n"
        }
        if let old = readFile(path), String(decoding: old, as: UTF8.self) == text { return }
        mkdir(dir, 0o755)
        guard Files.replace(path, with: text) else {
            return note("cannot write \(path): \(String(cString: strerror(errno))) (the unit keeps its own Restart= and ordering)")
        }
        if let r = systemctl(["daemon-reload"]), r.exitCode == 0 { return }
        note("systemctl daemon-reload failed: \(path) takes effect at the next reload")
    }
}
