/// Command-line options as Pacemaker's tools take them (GLib's rules): `-n NAME`, `-nNAME`,
/// `--name NAME`, `--name=NAME`, flags grouped (`-qG`), `--` ends the options. An option with an
/// optional value (`--promotion[=RSC]`) takes one only when attached (`--promotion=db`, `-pdb`).
struct OptionSpec {
    enum Value { case none, required, optional }
    var short: Character?
    var long: String
    var value: Value
    init(_ short: Character?, _ long: String, _ value: Value = .none) {
        self.short = short
        self.long = long
        self.value = value
    }
}

struct ParsedOptions {
    /// By long name, in order given; a flag's entry is "".
    private(set) var given: [(String, String)] = []
    var operands: [String] = []

    func has(_ long: String) -> Bool { given.contains { $0.0 == long } }
    /// The last value given (tools take the last of a repeated option).
    func value(_ long: String) -> String? { given.last { $0.0 == long }?.1 }
    mutating func add(_ long: String, _ v: String) { given.append((long, v)) }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension ParsedOptions {
    init(_ args: [String], _ specs: [OptionSpec]) throws(UsageError) {
        var i = 0
        func next(_ what: String) throws(UsageError) -> String {
            i += 1
            guard i < args.count else { throw UsageError("missing argument for \(what)") }
            return args[i]
        }
        while i < args.count {
            let a = args[i]
            if a == "--" {
                operands += args[(i + 1)...]
                break
            }
            if a.hasPrefix("--") {
                let body = a.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                let attached = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
                guard let s = specs.first(where: { $0.long == name }) else { throw UsageError("unknown option --\(name)") }
                switch s.value {
                case .none:
                    guard attached == nil else { throw UsageError("--\(name) takes no value") }
                    add(s.long, "")
                case .required:
                    if let attached { add(s.long, attached) } else { add(s.long, try next("--\(name)")) }
                case .optional: add(s.long, attached ?? "")
                }
            } else if a.hasPrefix("-") && a.count > 1 {
                var rest = Substring(a.dropFirst())
                while let c = rest.first {
                    rest = rest.dropFirst()
                    guard let s = specs.first(where: { $0.short == c }) else { throw UsageError("unknown option -\(c)") }
                    switch s.value {
                    case .none: add(s.long, "")
                    case .required:
                        if rest.isEmpty { add(s.long, try next("-\(c)")) } else { add(s.long, String(rest)) }
                        rest = ""
                    case .optional:
                        add(s.long, String(rest))
                        rest = ""
                    }
                }
            } else {
                operands.append(a)
            }
            i += 1
        }
    }
}
