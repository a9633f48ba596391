import ArgumentParser
import Foundation
import VigilConfig
import VigilDaemon
import VigilStatus

/// `vigilctl config show|export|apply|diff`: the cluster's replicated document (the resources,
/// fencing, nodes, quorum and alerts every member runs; docs/live-config.md).
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show, export, preview and apply the cluster's replicated configuration.",
        subcommands: [Show.self, Export.self, Apply.self, Diff.self])

    /// The document this node runs, as text (its first line names the version).
    static func current(_ s: SocketOption) throws -> String {
        let a = try ControlClient.answer(s.socket, .configShow)
        guard a.succeeded, let text = a.value else {
            eprint("vigilctl: \(a.error ?? "no document")")
            throw ExitCode(1)
        }
        return text
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the replicated document this node runs (root only).")
        @OptionGroup var s: SocketOption
        func run() throws { print(try ConfigCommand.current(s), terminator: "") }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the replicated document to a file, to edit and apply (root only).",
            discussion: "vigilctl config export /tmp/cluster.conf; edit it; vigilctl config apply /tmp/cluster.conf")
        @OptionGroup var s: SocketOption
        @Argument(help: "Where to write it.") var file: String
        func run() throws {
            try ConfigCommand.current(s).write(toFile: file, atomically: true, encoding: .utf8)
            print("wrote \(file)")
        }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a file's replicated sections the cluster's document (root only).",
            discussion: """
                The file holds the sections the cluster decides together ([[node]], [quorum], the
                fencing sections, resources, groups, clones, orders, [[alert]], [document]); a whole
                vigil.conf will do ([cluster], [[link]] and [timing] stay each node's own). It is
                validated first against this node's file (errors at FILE:line), then given the next
                version; the command returns when every member of the view runs it, or says which
                do not. Added resources start, removed ones stop, a changed parameter restarts only
                its resource. Refused without quorum, with an epoch older than the cluster's
                ([document] epoch), or while this node is still fetching a newer copy.
                With --dry-run: validate and print what would start, stop, restart or be placed again.
                """)
        @OptionGroup var s: SocketOption
        @Argument(help: "The file to apply.") var file: String
        @Flag(help: "Only validate and print what would change.") var dryRun = false
        @Option(help: "Seconds to wait for every member to run it.") var timeout = 10.0

        func run() throws {
            let path = URL(fileURLWithPath: file).standardizedFileURL.path
            let a = try ControlClient.answer(s.socket, .configApply(path: path, dryRun: dryRun), timeout: 30)
            guard a.succeeded, let v = a.value else {
                eprint("vigilctl: \(a.error ?? "refused")")
                throw ExitCode(1)
            }
            if dryRun || v.hasPrefix("unchanged") { return print(v) }
            let start = Date()
            while true {
                let st = try s.snapshot()
                let members = st.view?.members.map(\.name) ?? []
                let docs = st.document?.members ?? [:]
                let behind = members.filter { !(docs[$0]?.hasPrefix(v + " ") ?? false) }
                if behind.isEmpty {
                    return print("applied document \(v): \(members.joined(separator: ", ")) run it (\(String(format: "%.2f", Date().timeIntervalSince(start))) s)")
                }
                if Date().timeIntervalSince(start) > timeout {
                    eprint("vigilctl: document \(v) applied, but after \(Int(timeout)) s "
                           + behind.map { "\($0) runs \(docs[$0] ?? "nothing known")" }.joined(separator: ", ")
                           + " (see vigilctl events: document_refused)")
                    throw ExitCode(1)
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What changing to NEW would start, stop, restart or place again.",
            discussion: """
                With one file: NEW against the document the cluster runs (as config apply --dry-run).
                With two: NEW against OLD, both validated first (file:line), no daemon needed.
                Prints one line per resource that starts (added), stops (removed), restarts (agent,
                parameters or clone meta changed; a group's later members with it) or is placed again
                because its placement changed (it may move; where depends on the cluster's state),
                the orders added or removed, and the parts that take effect at a restart.
                vigilctl config diff /tmp/cluster.conf
                vigilctl config diff /etc/vigil/vigil.conf /tmp/vigil.conf.new
                """)
        @OptionGroup var s: SocketOption
        @Argument(help: "OLD NEW, or NEW alone.") var files: [String]

        func validate() throws {
            guard (1...2).contains(files.count) else { throw ValidationError("give NEW, or OLD and NEW") }
        }

        func run() throws {
            if files.count == 1 {
                let path = URL(fileURLWithPath: files[0]).standardizedFileURL.path
                return try report(ControlClient.answer(s.socket, .configApply(path: path, dryRun: true), timeout: 30), printing: true)
            }
            var configs: [ClusterConfig] = []
            for path in files {
                switch Files.loadConfig(path) {
                case .success(let c): configs.append(c)
                case .failure(let d):
                    FileHandle.standardError.write(Data((d.description + "\n").utf8))
                    throw ExitCode(1)
                }
            }
            print(ResourceChanges(from: configs[0], to: configs[1]).text)
        }
    }
}

/// An answer whose value is the output.
func report(_ a: ControlAnswer, printing: Bool) throws {
    guard a.succeeded else {
        eprint("vigilctl: \(a.error ?? "refused")")
        throw ExitCode(1)
    }
    print(a.value ?? "ok")
}
