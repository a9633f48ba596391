import ArgumentParser
import Foundation
import VigilConfig
import VigilDaemon

/// `vigilctl config diff OLD NEW`: what reloading NEW over OLD would do to the resources
/// (VigilConfig/ResourceChanges.swift), before anyone runs `systemctl reload vigild`.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Preview configuration changes.", subcommands: [Diff.self])

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What a reload of NEW over OLD would start, stop, restart or place again.",
            discussion: """
                Both files are validated first (file:line). Prints one line per resource that
                starts (added), stops (removed), restarts (agent, parameters or clone meta changed;
                a group's later members with it) or is placed again because its placement
                changed (it may move; where depends on the cluster's state), the orders added or
                removed, and the parts a reload does not apply. Exit 0 (no change or changes).
                vigilctl config diff /etc/vigil/vigil.conf /tmp/vigil.conf.new
                """)
        @Argument(help: "The file vigild runs (usually /etc/vigil/vigil.conf).") var old: String
        @Argument(help: "The changed file.") var new: String

        func run() throws {
            var configs: [ClusterConfig] = []
            for path in [old, new] {
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
