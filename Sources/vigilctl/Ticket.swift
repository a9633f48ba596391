import ArgumentParser
import Foundation
import VigilDaemon
import VigilStatus

/// `vigilctl ticket list|grant|revoke|standby|activate`: site tickets (docs/arbiter.md).
struct TicketCommandGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticket",
        abstract: "Site tickets: list them, grant one to this site, revoke, standby or activate it (root only but list).",
        discussion: """
            vigilctl ticket list            every ticket: the site holding it, its state, whether it is usable here
            vigilctl ticket grant t1        take t1 for this site if no site holds it (etcd refuses otherwise)
            vigilctl ticket revoke t1       this site gives t1 up: its resources stop, then it is released
            vigilctl ticket standby t1      keep t1 but stop its resources; `activate` starts them again
            """,
        subcommands: [List.self, Grant.self, Revoke.self, Standby.self, Activate.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every ticket as this node sees it.")
        @OptionGroup var s: SocketOption
        @Flag(help: "JSON, as in status --json.") var json = false
        func run() throws {
            let snap = try s.snapshot()
            let tickets = snap.tickets ?? []
            if json {
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys]
                print(String(decoding: try e.encode(tickets), as: UTF8.self))
            } else if tickets.isEmpty {
                print("no [[ticket]] is configured")
            } else {
                print(snap.ticketTable)
            }
        }
    }

    struct Grant: TicketVerbCommand {
        static let configuration = CommandConfiguration(abstract: "Take NAME for this site, if no site holds it.")
        @OptionGroup var s: SocketOption
        @Argument var name: String
        var verb: ControlRequest.TicketVerb { .grant }
    }
    struct Revoke: TicketVerbCommand {
        static let configuration = CommandConfiguration(abstract: "Give NAME up: its resources stop here, then this site releases it (else its lease expires).")
        @OptionGroup var s: SocketOption
        @Argument var name: String
        var verb: ControlRequest.TicketVerb { .revoke }
    }
    struct Standby: TicketVerbCommand {
        static let configuration = CommandConfiguration(abstract: "Keep NAME but stop its resources.")
        @OptionGroup var s: SocketOption
        @Argument var name: String
        var verb: ControlRequest.TicketVerb { .standby }
    }
    struct Activate: TicketVerbCommand {
        static let configuration = CommandConfiguration(abstract: "End NAME's standby: its resources may run again.")
        @OptionGroup var s: SocketOption
        @Argument var name: String
        var verb: ControlRequest.TicketVerb { .activate }
    }
}

/// A ticket command: sent, then answered by a ticket_command or ticket_refused event.
protocol TicketVerbCommand: ParsableCommand {
    var s: SocketOption { get }
    var name: String { get }
    var verb: ControlRequest.TicketVerb { get }
}

extension TicketVerbCommand {
    func run() throws {
        let outcome = try sendAndFollow(s.socket, .ticket(verb, name: name), seconds: 10, what: "vigilctl") { e in
            switch e.type {
            case .ticketCommand where e.resource == name:
                print("done: \(e.detail ?? verb.rawValue); see vigilctl ticket list")
                return 0
            case .ticketRefused where e.resource == name:
                eprint("vigilctl: refused: \(e.reason ?? "?")")
                return 1
            default:
                return nil
            }
        }
        if let outcome { throw ExitCode(outcome) }
        throw ExitCode(1)
    }
}
