import ArgumentParser
import Foundation
import VigilConfig

@main
struct VigilCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigilctl",
        abstract: "Inspect and operate a Vigil cluster.",
        subcommands: [Validate.self])
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a cluster config file and print the values it implies.",
        discussion: "Exit 0 if valid (warnings are printed), 1 with file:line and a fix if not.")

    @Argument(help: "The cluster config file.") var file = "/etc/vigil/vigil.conf"

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            FileHandle.standardError.write(Data("\(file): cannot read the file\n".utf8))
            throw ExitCode(1)
        }
        switch ClusterConfig.load(text: text, file: file) {
        case .failure(let d):
            FileHandle.standardError.write(Data("\(d)\n".utf8))
            throw ExitCode(1)
        case .success(let c):
            for w in c.warnings { print(w) }
            print("\(file): OK")
            for line in c.derivedValues { print(line) }
        }
    }
}
