/// A config error or warning that points at the place and says what to do.
public struct Diagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public var file: String
    public var line: Int
    public var severity: Severity
    public var message: String
    public var fix: String?

    public init(file: String, line: Int, severity: Severity, message: String, fix: String?) {
        self.file = file
        self.line = line
        self.severity = severity
        self.message = message
        self.fix = fix
    }

    public var description: String {
        "\(file):\(line): \(severity.rawValue): \(message)" + (fix.map { " (\($0))" } ?? "")
    }
}

/// A value as written in the file.
public enum ConfigValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case array([ConfigValue])

    var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .bool: "true or false"
        case .array: "a list"
        }
    }
}

public struct ConfigEntry: Equatable, Sendable {
    public var key: String
    public var value: ConfigValue
    public var line: Int
}

/// `[name]` or `[[name]]` (one of several) with its `key = value` lines.
public struct ConfigSection: Equatable, Sendable {
    public var name: String
    public var isArrayItem: Bool
    public var line: Int
    public var entries: [ConfigEntry] = []
}

/// The parsed file, before any meaning is given to it: a subset of TOML (sections, arrays of
/// sections, strings, integers, booleans, flat lists, `#` comments).
public struct ConfigDocument: Equatable, Sendable {
    public var file: String
    public var sections: [ConfigSection] = []

    public static func parse(_ text: String, file: String) -> Result<ConfigDocument, Diagnostic> {
        var doc = ConfigDocument(file: file)
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = i + 1
            let line = stripComment(Substring(raw)).trimmingSpaces
            if line.isEmpty { continue }
            func err(_ m: String, _ fix: String) -> Result<ConfigDocument, Diagnostic> {
                .failure(Diagnostic(file: file, line: lineNo, severity: .error, message: m, fix: fix))
            }
            if line.hasPrefix("[") {
                let isArray = line.hasPrefix("[[")
                guard line.hasSuffix(isArray ? "]]" : "]") else { return err("unclosed section header", "write [name] or [[name]]") }
                let name = line.dropFirst(isArray ? 2 : 1).dropLast(isArray ? 2 : 1).trimmingSpaces
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0 == "_" || $0 == "-" }) else {
                    return err("bad section name '\(name)'", "use letters, '-' and '_'")
                }
                doc.sections.append(ConfigSection(name: String(name), isArrayItem: isArray, line: lineNo))
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { return err("expected 'key = value'", "or a [section] header") }
            let key = line[..<eq].trimmingSpaces
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                return err("bad key '\(key)'", "use letters, digits, '-' and '_'")
            }
            guard !doc.sections.isEmpty else { return err("'\(key)' outside any section", "put it under a [section]") }
            var rest = line[line.index(after: eq)...].trimmingSpaces
            guard let value = parseValue(&rest), rest.trimmingSpaces.isEmpty else {
                return err("cannot read the value of '\(key)'", "strings need \"quotes\"; lists look like [\"a\", \"b\"]")
            }
            if doc.sections[doc.sections.count - 1].entries.contains(where: { $0.key == key }) {
                return err("'\(key)' is set twice in this section", "keep one")
            }
            doc.sections[doc.sections.count - 1].entries.append(ConfigEntry(key: String(key), value: value, line: lineNo))
        }
        return .success(doc)
    }

    static func stripComment(_ s: Substring) -> Substring {
        var inString = false
        for i in s.indices {
            if s[i] == "\"" { inString.toggle() }
            if s[i] == "#" && !inString { return s[..<i] }
        }
        return s
    }

    private static func parseValue(_ s: inout Substring) -> ConfigValue? {
        s = s.trimmingSpaces
        guard let c = s.first else { return nil }
        if c == "\"" {
            guard let close = s.dropFirst().firstIndex(of: "\"") else { return nil }
            let v = String(s[s.index(after: s.startIndex)..<close])
            s = s[s.index(after: close)...]
            return .string(v)
        }
        if c == "[" {
            s = s.dropFirst()
            var items: [ConfigValue] = []
            while true {
                s = s.trimmingSpaces
                if s.first == "]" { s = s.dropFirst(); return .array(items) }
                guard let v = parseValue(&s) else { return nil }
                items.append(v)
                s = s.trimmingSpaces
                if s.first == "," { s = s.dropFirst() } else if s.first != "]" { return nil }
            }
        }
        let token = s.prefix { $0 != "," && $0 != "]" && $0 != " " && $0 != "\t" }
        s = s[token.endIndex...]
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: return Int64(token.replacingUnderscores).map(ConfigValue.integer)
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return s
    }
    var replacingUnderscores: String { String(filter { $0 != "_" }) }
}
