import ArgumentParser
import Foundation
import VigilConfig
import VigilCore
import VigilDaemon
import VigilStatus

/// `vigilctl attr`: node attributes (what the Pacemaker tool shims in agents/pacemaker call).
/// Exit status: 0 done; 1 refused, no such attribute, or not confirmed in time; 2 vigild
/// cannot be reached.
struct Attr: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set, read, delete and list node attributes (set and delete: root only).",
        discussion: """
            NODE defaults to this node. A set returns once every member of the view holds the
            value (so it reads back the same anywhere), or at once with --delay (dampening: the
            value is applied once it has held that long).
            vigilctl attr set pingd 1000 --delay 5s      transient (cleared when the node leaves)
            vigilctl attr set site east --lifetime forever --node n2
            vigilctl attr get pingd --node n2            prints the value
            vigilctl attr list [--node n2] [--json]
            """,
        subcommands: [Set.self, Get.self, Delete.self, List.self])

    struct NodeOption: ParsableArguments {
        @Option(name: .long, help: "The node the attribute belongs to (default: this one).") var node = "."
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set NAME to VALUE.")
        @OptionGroup var s: SocketOption
        @OptionGroup var n: NodeOption
        @Argument var name: String
        @Argument var value: String
        @Option(help: "reboot (transient, the default) or forever (saved, kept across restarts).") var lifetime = "reboot"
        @Option(help: "Apply only once the value has held this long (\"5s\", \"500ms\", or seconds).") var delay: String?
        @Flag(name: .customLong("private"), help: "Leave it out of status and lists (readable by name).") var isPrivate = false
        func run() throws {
            guard let l = AttributeLifetime.allCases.first(where: { $0.description == lifetime }) else {
                throw ValidationError("--lifetime is reboot or forever, not '\(lifetime)'")
            }
            let d = try delay.map { try attrDelay($0) } ?? .zero
            guard !value.contains("\n") else { throw ValidationError("a value is one line") }
            let verb = ControlRequest.AttributeVerb.set(value: value, lifetime: l, isPrivate: isPrivate, delayMs: Int(d.nanoseconds / 1_000_000))
            throw ExitCode(try attrChange(s.socket, .attribute(verb, node: n.node, name: name)))
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete NAME (whatever its lifetime).")
        @OptionGroup var s: SocketOption
        @OptionGroup var n: NodeOption
        @Argument var name: String
        func run() throws { throw ExitCode(try attrChange(s.socket, .attribute(.delete, node: n.node, name: name))) }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print NAME's value (exit 1 if there is none).")
        @OptionGroup var s: SocketOption
        @OptionGroup var n: NodeOption
        @Argument var name: String
        func run() throws {
            let a = try reach { try ControlClient.answer(s.socket, .attribute(.get, node: n.node, name: name)) }
            guard a.succeeded, let v = a.value else {
                eprint("vigilctl: \(a.error ?? "no such attribute")")
                throw ExitCode(1)
            }
            print(v)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The public attributes (of one node with --node).")
        @OptionGroup var s: SocketOption
        @Option(name: .long, help: "Only this node's.") var node: String?
        @Flag(help: "One JSON array of {node, name, value, lifetime}.") var json = false
        func run() throws {
            let text = try reach { try ControlClient.request(s.socket, .attributeList(node: node)) }
            if json { return print(text, terminator: "") }
            guard let rows = try? JSONDecoder().decode([StatusSnapshot.AttributeRow].self, from: Data(text.utf8)) else {
                eprint("vigilctl: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
                throw ExitCode(1)
            }
            for r in rows { print("\(r.node) \(r.name)=\(r.value) (\(r.lifetime))") }
        }
    }
}

func attrDelay(_ s: String) throws -> TimeSpan {
    guard let d = parseToolDuration(s) else { throw ValidationError("--delay: '\(s)' is not a duration (\"5s\", \"500ms\", or seconds)") }
    return d
}

/// Runs a control-socket call; vigild not answering is exit status 2 (the shims tell it apart).
func reach<T>(_ call: () throws -> T) throws -> T {
    do { return try call() } catch let e as ExitCode { throw e } catch {
        eprint("vigilctl: cannot reach vigild: \(error)")
        throw ExitCode(2)
    }
}

/// Sends an attribute write and waits for its outcome (ControlClient.changeAttribute).
func attrChange(_ socket: String, _ request: ControlRequest) throws -> Int32 {
    guard case let .attribute(verb, node, name) = request else { return 1 }
    let target = node == "." ? try reach { try ControlClient.localNode(socket) }.name : node
    switch try reach({ try ControlClient.changeAttribute(socket, verb, node: target, name: name) }) {
    case .confirmed: return 0
    case .held(let ms):
        print("held: applied in \(ms) ms if it still holds then")
        return 0
    case .refused(let why):
        eprint("vigilctl: refused: \(why)")
    case .cleared(let why):
        eprint("vigilctl: \(why)")
    case .noAnswer:
        eprint("vigilctl: not confirmed by every member within 10 s (see vigilctl events)")
    }
    return 1
}
