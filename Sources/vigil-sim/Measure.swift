import ArgumentParser
import VigilConfig
import VigilCore
import VigilSim

enum Scenario: String, ExpressibleByArgument, CaseIterable {
    case silentDeath = "silent-death"
    case frozen
    case steady
}

struct Percent: ExpressibleByArgument {
    var value: Double
    init(value: Double) { self.value = value }
    init?(argument: String) {
        let s = argument.hasSuffix("%") ? String(argument.dropLast()) : argument
        guard let v = Double(s), (0...100).contains(v) else { return nil }
        value = v / 100
    }
}

extension VigilSimCommand {
    func measure() throws {
        print("todo")
    }
}
