import VigilCore

/// Typed access to one section's keys, with errors that point at the line.
struct SectionReader {
    let section: ConfigSection
    let file: String

    func line(_ key: String) -> Int { section.entries.first { $0.key == key }?.line ?? section.line }
    func has(_ key: String) -> Bool { section.entries.contains { $0.key == key } }

    private func value(_ key: String, required: Bool) throws(Diagnostic) -> ConfigEntry? {
        if let e = section.entries.first(where: { $0.key == key }) { return e }
        if required {
            throw Diagnostic(file: file, line: section.line, severity: .error,
                             message: "[\(section.name)] needs '\(key)'", fix: "add \(key) = ...")
        }
        return nil
    }

    private func wrongType(_ e: ConfigEntry, _ want: String, _ example: String) -> Diagnostic {
        Diagnostic(file: file, line: e.line, severity: .error,
                   message: "'\(e.key)' must be \(want), found \(e.value.typeName)", fix: "e.g. \(e.key) = \(example)")
    }

    func string(_ key: String, required: Bool = false) throws(Diagnostic) -> String? {
        guard let e = try value(key, required: required) else { return nil }
        guard case .string(let s) = e.value else { throw wrongType(e, "a string", "\"...\"") }
        return s
    }

    func strings(_ key: String, required: Bool = false) throws(Diagnostic) -> [String]? {
        guard let e = try value(key, required: required) else { return nil }
        guard case .array(let items) = e.value else { throw wrongType(e, "a list of strings", "[\"a\", \"b\"]") }
        var out: [String] = []
        for i in items {
            guard case .string(let s) = i else { throw wrongType(e, "a list of strings", "[\"a\", \"b\"]") }
            out.append(s)
        }
        return out
    }

    func integer(_ key: String, in range: ClosedRange<Int64>, required: Bool = false) throws(Diagnostic) -> Int64? {
        guard let e = try value(key, required: required) else { return nil }
        guard case .integer(let v) = e.value else { throw wrongType(e, "an integer", "\(range.lowerBound)") }
        guard range.contains(v) else {
            throw Diagnostic(file: file, line: e.line, severity: .error, message: "'\(key)' = \(v) is out of range",
                             fix: "use \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// A score: an integer, or a string "INFINITY", "-INFINITY" or a number.
    func score(_ key: String) throws(Diagnostic) -> Int? {
        guard let e = try value(key, required: false) else { return nil }
        switch e.value {
        case .integer(let v): return Rules.score(String(v))
        case .string(let t): if let v = Rules.score(t) { return v }
        default: break
        }
        throw wrongType(e, "a score", "-100 or \"-INFINITY\"")
    }

    func bool(_ key: String) throws(Diagnostic) -> Bool? {
        guard let e = try value(key, required: false) else { return nil }
        guard case .bool(let b) = e.value else { throw wrongType(e, "true or false", "true") }
        return b
    }

    /// "10ms", "1.5s", "500us".
    func duration(_ key: String) throws(Diagnostic) -> TimeSpan? {
        guard let e = try value(key, required: false) else { return nil }
        guard case .string(let s) = e.value, let d = SectionReader.parseDuration(s) else {
            throw wrongType(e, "a duration string", "\"50ms\"")
        }
        return d
    }

    static func parseDuration(_ s: String) -> TimeSpan? {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("s", 1e9)]
        for (u, scale) in units where s.hasSuffix(u) {
            guard let v = Double(s.dropLast(u.count)), v >= 0, v < 3600 else { return nil }
            return TimeSpan(nanoseconds: Int64((v * scale).rounded()))
        }
        return nil
    }
}

/// A duration as the command-line tools take it: "500ms", "5s", "2m", "1.5min", or a bare number
/// of seconds (Pacemaker's crm_get_msec default). Nil when it is none of these.
public func parseToolDuration(_ s: String) -> TimeSpan? {
    if let v = Double(s), v >= 0, v < 3600 { return TimeSpan(nanoseconds: Int64((v * 1e9).rounded())) }
    for (u, scale) in [("min", 60e9), ("m", 60e9)] where s.hasSuffix(u) {
        guard let v = Double(s.dropLast(u.count)), v >= 0, v < 60 else { return nil }
        return TimeSpan(nanoseconds: Int64((v * scale).rounded()))
    }
    return SectionReader.parseDuration(s.hasSuffix("sec") ? String(s.dropLast(2)) : s)  // "5sec", "5msec"
}
