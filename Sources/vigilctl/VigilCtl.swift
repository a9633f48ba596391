import ArgumentParser
import Foundation
import VigilConfig
import VigilCore
import VigilDaemon
import VigilStatus

@main
struct VigilCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigilctl",
        abstract: "Inspect and operate a Vigil cluster node through its control socket.",
        version: VigilVersion.string,
        subcommands: [Status.self, Links.self, Events.self, Check.self, Keygen.self, Validate.self, Leave.self, Reload.self, Fence.self, Resource.self, NodeCommand.self, Attr.self, ConfigCommand.self,
                      TicketCommandGroup.self])
}

struct SocketOption: ParsableArguments {
    @Option(name: .long, help: "vigild's control socket (default: $VIGIL_SOCKET, else /run/vigil/vigild.sock).")
    var socket = ProcessInfo.processInfo.environment["VIGIL_SOCKET"] ?? "/run/vigil/vigild.sock"

    func snapshot() throws -> StatusSnapshot {
        let text = try ControlClient.request(socket, .status)
        guard let s = try? JSONDecoder().decode(StatusSnapshot.self, from: Data(text.utf8)) else {
            throw ValidationError("vigild answered something unexpected: \(text.prefix(200))")
        }
        return s
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Nodes, per-link state, view and quorum (--json: docs/status-json.md).")
    @OptionGroup var s: SocketOption
    @Flag(help: "Machine-readable output, schema 1.") var json = false
    @Flag(help: "A live view, like crm_mon: redrawn on every event; Ctrl-C to quit.") var watch = false
    func run() throws {
        if watch { WatchLoop.run(s) }
        if json {
            print(try ControlClient.request(s.socket, .status), terminator: "")
        } else {
            print(try s.snapshot().humanTable)
        }
    }
}

struct Links: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Per peer, per link: up/down, last heard, loss, round-trip time.")
    @OptionGroup var s: SocketOption
    func run() throws { print(try s.snapshot().linksTable) }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Membership, link and quorum events as JSON lines.")
    @OptionGroup var s: SocketOption
    @Flag(help: "Keep streaming new events.") var follow = false
    func run() throws {
        // Unbuffered, line by line: a follower piped into another tool sees each event at once.
        try ControlClient.stream(s.socket, .events(follow: follow), timeout: follow ? 0 : 5) {
            FileHandle.standardOutput.write(Data(($0 + "\n").utf8))
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Monitoring-plugin check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        discussion: "OK: quorate, all members present, all links up. WARNING: quorate, but a link is down or a node missing. CRITICAL: not quorate, or vigild unreachable.")
    @OptionGroup var s: SocketOption
    func run() throws {
        let r: CheckResult
        do {
            r = CheckResult(try s.snapshot())
        } catch let e as ValidationError {
            r = CheckResult(code: .unknown, text: "VIGIL UNKNOWN - \(e.message)")
        } catch {
            r = CheckResult(code: .critical, text: "VIGIL CRITICAL - vigild unreachable: \(error)")
        }
        print(r.text)
        throw ExitCode(r.code.rawValue)
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a new random cluster key (mode 0600). Copy it to every node.")
    @Argument(help: "Where to write it (must not exist).") var file = "/etc/vigil/cluster.key"
    func run() throws {
        do { try Files.writeNewKey(file) } catch {
            eprint("vigilctl keygen: \(error)")
            throw ExitCode(1)
        }
        print("wrote \(file) (mode 0600); copy it to every node of the cluster")
    }
}

struct Leave: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make this node leave the cluster gracefully and stop (root only).")
    @OptionGroup var s: SocketOption
    func run() throws { try report(ControlClient.answer(s.socket, .leave)) }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-read the config (as SIGHUP does; root only).")
    @OptionGroup var s: SocketOption
    func run() throws { try report(ControlClient.answer(s.socket, .reload)) }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a cluster config file and print the values it implies.",
        discussion: "Exit 0 if valid (warnings are printed), 1 with file:line and a fix if not.")
    @Argument(help: "The cluster config file.") var file = "/etc/vigil/vigil.conf"
    func run() throws {
        let status = Files.checkConfig(file)
        if status != 0 { throw ExitCode(status) }
    }
}

struct Fence: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fence a node, show the fence history, or confirm a node is off (root only for changes).",
        discussion: """
            vigilctl fence n3 [--off|--reboot|--on]   fence n3 now from this node (it must be quorate); waits for the result
            vigilctl fence history [--json]            every fence result this node saw
            vigilctl fence confirm n3 --yes            you swear n3 is off: it counts as fenced (recorded in history)
            """,
        subcommands: [FenceNode.self, FenceHistoryCommand.self, FenceConfirm.self], defaultSubcommand: FenceNode.self)
}

enum FenceActionFlag: String, EnumerableFlag {
    case off, reboot, on
    var fenceAction: FenceAction { FenceAction(rawValue: rawValue)! }
}

struct FenceNode: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "node", abstract: "Fence NODE now and wait for the result.")
    @OptionGroup var s: SocketOption
    @Argument(help: "The node's name.") var node: String
    @Flag(help: "Power action (default --off).") var action: FenceActionFlag = .off
    @Option(help: "Seconds to wait for the result.") var wait = 300
    func run() throws {
        let outcome = try sendAndFollow(s.socket, .fence(node: node, action.fenceAction), seconds: wait, what: "vigilctl fence") { e in
            guard e.peer == node else { return nil }
            switch e.type {
            case .fenceStarted:
                print("started: level \(e.level ?? 0) via \((e.devices ?? []).joined(separator: ", "))")
            case .fenceRefused:
                eprint("vigilctl fence: refused: \(e.reason ?? "?")")
                return 1
            case .fenceGaveUp:
                eprint("vigilctl fence: every level failed; \(node) may still be on (see vigilctl fence history)")
                return 1
            case .fenceResult where e.executor == e.node:
                print("\(node): \(e.result ?? "?") (level \(e.level ?? 0), \(e.tookMs.map { $0.rounded1 } ?? "?") ms)"
                      + (e.result == "success" ? "" : "; see vigilctl fence history"))
                // A failed level escalates to the next; only a success or the last failure ends it.
                if e.result == "success" { return 0 }
            default:
                break
            }
            return nil
        }
        if let outcome { throw ExitCode(outcome) }
        eprint("vigilctl fence: the event stream ended before a result")
        throw ExitCode(1)
    }

}

struct FenceHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Every fence result this node saw.")
    @OptionGroup var s: SocketOption
    @Flag(help: "JSON lines (the same objects as vigilctl events).") var json = false
    func run() throws {
        let text = try ControlClient.request(s.socket, .fenceHistory)
        if json { return print(text, terminator: "") }
        if text.hasPrefix("{\"error\"") { return print(text, terminator: "") }
        let events = text.split(separator: "\n").compactMap { try? JSONDecoder().decode(ClusterEvent.self, from: Data($0.utf8)) }
        print(FenceHistoryTable.render(events))
    }
}

struct FenceConfirm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Swear that NODE is powered off: the cluster counts it as fenced and recovers its resources.")
    @OptionGroup var s: SocketOption
    @Argument(help: "The node's name.") var node: String
    @Flag(help: "You checked that it is really off.") var yes = false
    func run() throws {
        eprint("""
            WARNING: confirming that \(node) is OFF without any device having done it.
            If \(node) is in fact running, the cluster will start its resources a second time
            (shared data may be corrupted). This is recorded in the fence history.
            """)
        guard yes else {
            eprint("vigilctl fence confirm: add --yes once you have checked that \(node) is off")
            throw ExitCode(1)
        }
        try report(ControlClient.answer(s.socket, .fenceConfirm(node: node)))
    }
}

/// Sends one operator change (`resource ...`, `node ...`) and waits for the core's answer
/// (resource_admin or resource_admin_refused) on the event stream.
func adminChange(_ socket: String, _ request: ControlRequest) throws {
    let outcome = try sendAndFollow(socket, request, seconds: 10, what: "vigilctl") { e in
        switch e.type {
        case .resourceAdmin:
            print("done: \(e.detail ?? request.line) (admin version \(e.epoch ?? 0)); see vigilctl status")
            return 0
        case .resourceAdminRefused:
            eprint("vigilctl: refused: \(e.reason ?? "?")")
            return 1
        default:
            return nil
        }
    }
    if let outcome { throw ExitCode(outcome) }
    eprint("vigilctl: the event stream ended before an answer")
    throw ExitCode(1)
}

/// Sends a request that the core answers with events, then follows the events after it until
/// `decide` returns an exit status, or `seconds` pass (exit 1, said on stderr). Nil: the stream ended.
func sendAndFollow(_ socket: String, _ request: ControlRequest, seconds: Int, what: String,
                   _ decide: (ClusterEvent) -> Int32?) throws -> Int32? {
    let last = try ControlClient.lastEventSeq(socket)
    let answer = try ControlClient.answer(socket, request)
    guard answer.succeeded else {
        eprint("\(what): \(answer.error ?? "refused")")
        throw ExitCode(1)
    }
    let started = Date()
    var outcome: Int32?
    try? ControlClient.follow(socket, after: last, within: Double(seconds)) { e in
        outcome = decide(e)
        return outcome == nil
    }
    if outcome == nil && Date().timeIntervalSince(started) >= Double(seconds) {
        eprint("\(what): no answer within \(seconds) s" + (request.line.hasPrefix("fence") ? " (see vigilctl fence history)" : ""))
        return 1
    }
    return outcome
}

/// Prints a short answer; a refusal goes to stderr with exit status 1.
func report(_ a: ControlAnswer) throws {
    guard a.succeeded else {
        eprint("vigilctl: \(a.error ?? "refused")")
        throw ExitCode(1)
    }
    print("ok")
}

/// A `vigilctl resource|node ...` subcommand: the line it sends.
protocol AdminCommand: ParsableCommand {
    var s: SocketOption { get }
    var request: ControlRequest { get }
}

extension AdminCommand {
    func run() throws { try adminChange(s.socket, request) }
}

struct Resource: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move, ban, clear, clean up or restart a resource (root only).",
        discussion: """
            ID is a resource id or a group's name (the whole group).
            vigilctl resource move db n2    prefer n2 above every configured score (until cleared)
            vigilctl resource move db       ban db from the node it runs on now (until cleared)
            vigilctl resource move pg n2 --promoted
                                            switchover: pg's promoted role to n2 (until cleared)
            vigilctl resource ban db [n1]   never run db on n1 (default: where it runs now)
            vigilctl resource clear db      remove the move/ban constraints of db
            vigilctl resource cleanup db    forget db's failures on every node; re-probe where it failed
            vigilctl resource restart db    stop and start db where it runs
            """,
        subcommands: [Move.self, Ban.self, Clear.self, Cleanup.self, Restart.self])

    struct Move: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Prefer NODE (or leave the current node).")
        @OptionGroup var s: SocketOption
        @Argument var id: String
        @Argument var node: String?
        @Flag(help: "A promotable clone: move its promoted role to NODE (a switchover).") var promoted = false
        var request: ControlRequest { .resource(promoted ? .movePromoted : .move, id: id, node: node) }
    }
    struct Ban: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Never on NODE (default: the node it runs on).")
        @OptionGroup var s: SocketOption
        @Argument var id: String
        @Argument var node: String?
        var request: ControlRequest { .resource(.ban, id: id, node: node) }
    }
    struct Clear: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the operator's move/ban constraints of ID.")
        @OptionGroup var s: SocketOption
        @Argument var id: String
        var request: ControlRequest { .resource(.clear, id: id, node: nil) }
    }
    struct Cleanup: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Forget ID's failures everywhere; re-probe it where it failed.")
        @OptionGroup var s: SocketOption
        @Argument var id: String
        var request: ControlRequest { .resource(.cleanup, id: id, node: nil) }
    }
    struct Restart: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "Stop and start ID in place.")
        @OptionGroup var s: SocketOption
        @Argument var id: String
        var request: ControlRequest { .resource(.restart, id: id, node: nil) }
    }
}

struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Put a node in standby (it runs no resource) or maintenance (its resources are left alone), or back (root only).",
        subcommands: [Standby.self, Online.self, Maintenance.self, Ready.self])

    struct Standby: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "NODE runs no resource: they move away (stopped there first).")
        @OptionGroup var s: SocketOption
        @Argument var node: String
        var request: ControlRequest { .node(.standby, node: node) }
    }
    struct Online: AdminCommand {
        static let configuration = CommandConfiguration(abstract: "NODE may run resources again.")
        @OptionGroup var s: SocketOption
        @Argument var node: String
        var request: ControlRequest { .node(.online, node: node) }
    }
    struct Maintenance: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "Leave what runs on NODE alone: not monitored, stopped, restarted or moved; nothing new starts there.")
        @OptionGroup var s: SocketOption
        @Argument var node: String
        var request: ControlRequest { .node(.maintenance, node: node) }
    }
    struct Ready: AdminCommand {
        static let configuration = CommandConfiguration(
            abstract: "End NODE's maintenance: it probes every resource again and the cluster manages them from what it finds.")
        @OptionGroup var s: SocketOption
        @Argument var node: String
        var request: ControlRequest { .node(.ready, node: node) }
    }
}
