import ArgumentParser
import Foundation
import VigilConfig
import VigilDaemon
import VigilStatus

@main
struct VigilCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigilctl",
        abstract: "Inspect and operate a Vigil cluster node through its control socket.",
        subcommands: [Status.self, Links.self, Events.self, Check.self, Keygen.self, Validate.self, Leave.self, Reload.self])
}

struct SocketOption: ParsableArguments {
    @Option(name: .long, help: "vigild's control socket.") var socket = "/run/vigil/vigild.sock"

    func snapshot() throws -> StatusSnapshot {
        let text = try ControlClient.request(socket, "status")
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
    func run() throws {
        if json {
            print(try ControlClient.request(s.socket, "status"), terminator: "")
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
        try ControlClient.stream(s.socket, follow ? "events follow" : "events", timeout: follow ? 0 : 5) {
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
    func run() throws { print(try ControlClient.request(s.socket, "leave"), terminator: "") }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-read the config (as SIGHUP does; root only).")
    @OptionGroup var s: SocketOption
    func run() throws { print(try ControlClient.request(s.socket, "reload"), terminator: "") }
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
