import FoundationEssentials
import Glibc
import VigilConfig
import VigilCore
import VigilDaemon
import VigilStatus

/// To standard error, unbuffered.
func eprint(_ s: String) {
    let b = Array(s.utf8)
    _ = b.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Pacemaker's exit codes (crm_exit_t) that the tools return and agents test.
enum PcmkExit: Int32 {
    case ok = 0, error = 1, invalidParam = 2, unimplemented = 3, insufficientPrivileges = 4
    case usage = 64, disconnect = 102, noSuchThing = 105, timeout = 124
}

/// What every tool shares: the control socket of the local vigild, and how to say what failed.
struct Shim {
    let tool: String
    /// `$VIGIL_SOCKET` (the resource runner sets it for agents), else the packaged path.
    let socket = ProcessInfo.processInfo.environment["VIGIL_SOCKET"] ?? "/run/vigil/vigild.sock"

    func fail(_ code: PcmkExit, _ message: String) -> Never {
        eprint("\(tool): \(message)\n")
        exit(code.rawValue)
    }

    /// Runs a call to vigild; not reaching it is Pacemaker's "disconnected" (102).
    func reach<T>(_ call: () throws -> T) -> T {
        do { return try call() } catch { fail(.disconnect, "could not connect to vigild at \(socket): \(error)") }
    }

    func status() -> StatusSnapshot {
        let text = reach { try ControlClient.request(socket, .status) }
        guard let s = try? JSONDecoder().decode(StatusSnapshot.self, from: Data(text.utf8)) else {
            fail(.error, "vigild answered something unexpected: \(text.prefix(200))")
        }
        return s
    }

    /// The node a request is about: the one named, else this one.
    func node(_ given: String?) -> String { given ?? status().node.name }

    /// An attribute's value, or nil when there is none (unknown nodes included).
    func get(_ name: String, of node: String) -> String? {
        let a = reach { try ControlClient.answer(socket, .attribute(.get, node: node, name: name)) }
        return a.succeeded ? a.value : nil
    }

    /// A write, waited for until every member holds it (or it is dampened): the exit status.
    func write(_ verb: ControlRequest.AttributeVerb, _ name: String, of node: String, what: String) -> Never {
        switch reach({ try ControlClient.changeAttribute(socket, verb, node: node, name: name) }) {
        case .confirmed, .held: exit(0)
        case .refused(let why): fail(.error, "could not \(what): \(why)")
        case .cleared(let why): fail(.error, "could not \(what): \(why)")
        case .noAnswer: fail(.timeout, "could not \(what): not held by every member within 10 s")
        }
    }
}

/// `-l`/`--lifetime` (and crm_attribute's `-t`): reboot/status is transient, forever/nodes permanent.
func lifetime(_ s: String?, type: String?, default d: AttributeLifetime, _ shim: Shim) -> AttributeLifetime {
    switch (s, type) {
    case ("reboot", _), (nil, "status"): return .reboot
    case ("forever", _), (nil, "nodes"): return .forever
    case (nil, nil): return d
    case (let l?, _): shim.fail(.invalidParam, "invalid lifetime '\(l)' (reboot or forever)")
    case (nil, let t?): shim.fail(.unimplemented, "--type \(t): only node attributes (nodes, status) are supported")
    }
}
