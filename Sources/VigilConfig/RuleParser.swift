import VigilCore

/// Location rules as written in `[[resource]] rules = [...]`, crmsh's compact form:
///
///     "SCORE: EXPRESSION"
///     SCORE       an integer, INFINITY, -INFINITY (or inf, -inf), or an attribute name (its
///                 value on each node is the score: Pacemaker's score-attribute)
///     EXPRESSION  TERM, joined by "and" / "or" ("and" binds tighter), with parentheses
///     TERM        defined ATTR | not_defined ATTR | ATTR [TYPE:]OP VALUE
///     OP          eq ne lt gt lte gte;  TYPE string integer number version
///
/// e.g. "-INFINITY: not_defined pingd or pingd lt 1", "pingd: defined pingd",
/// "100: #uname eq n1 and site eq east", "-inf: kernel version:lt 5.10".
public enum RuleParser {
    public static func parse(_ text: String) -> Result<LocationRule, RuleError> {
        guard let colon = text.firstIndex(of: ":") else { return .failure(RuleError("'SCORE: EXPRESSION' expected")) }
        let scoreText = String(text[..<colon].drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        let score: RuleScore
        if let s = Rules.score(scoreText) {
            score = .score(s)
        } else if !scoreText.isEmpty, !scoreText.contains(" ") {
            score = .attribute(scoreText)
        } else {
            return .failure(RuleError("score '\(scoreText)' is not a number, INFINITY, -INFINITY or an attribute name"))
        }
        var p = Parser(tokens: tokenize(String(text[text.index(after: colon)...])))
        do throws(RuleError) {
            let e = try p.or()
            if let t = p.peek { throw RuleError("unexpected '\(t)'") }
            return .success(LocationRule(score: score, expr: e))
        } catch { return .failure(error) }
    }

    public struct RuleError: Error, Equatable, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    static func tokenize(_ s: String) -> [String] {
        var out: [String] = [], cur = ""
        for ch in s {
            if ch == "(" || ch == ")" || ch == " " || ch == "\t" {
                if !cur.isEmpty { out.append(cur); cur = "" }
                if ch == "(" || ch == ")" { out.append(String(ch)) }
            } else {
                cur.append(ch)
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    struct Parser {
        var tokens: [String]
        var i = 0
        var peek: String? { i < tokens.count ? tokens[i] : nil }
        mutating func take() throws(RuleError) -> String {
            guard let t = peek else { throw RuleError("the expression ends too early") }
            i += 1
            return t
        }
        mutating func or() throws(RuleError) -> RuleExpr {
            var e = try and()
            while peek == "or" { i += 1; e = .or(e, try and()) }
            return e
        }
        mutating func and() throws(RuleError) -> RuleExpr {
            var e = try term()
            while peek == "and" { i += 1; e = .and(e, try term()) }
            return e
        }
        mutating func term() throws(RuleError) -> RuleExpr {
            let t = try take()
            switch t {
            case "(":
                let e = try or()
                guard try take() == ")" else { throw RuleError("')' expected") }
                return e
            case "defined", "not_defined":
                let name = try take()
                guard !RuleParser.keywords.contains(name) else { throw RuleError("an attribute name is expected after '\(t)'") }
                return t == "defined" ? .defined(name) : .notDefined(name)
            case ")", "and", "or": throw RuleError("unexpected '\(t)'")
            default:
                let opText = try take()
                let parts = opText.split(separator: ":").map(String.init)
                guard let op = RuleOp(rawValue: parts.last ?? "") else {
                    throw RuleError("'\(opText)' after '\(t)' is not an operator (eq, ne, lt, gt, lte, gte)")
                }
                var type: RuleType?
                if parts.count == 2 {
                    guard let ty = RuleType(rawValue: parts[0]) else {
                        throw RuleError("unknown type '\(parts[0])' (string, integer, number, version)")
                    }
                    type = ty
                } else if parts.count > 2 {
                    throw RuleError("'\(opText)' is not [TYPE:]OPERATOR")
                }
                let value = try take()
                if type == .integer, Int(value) == nil { throw RuleError("'\(value)' is not an integer") }
                if type == .number, Double(value) == nil { throw RuleError("'\(value)' is not a number") }
                return .compare(t, op, value, type)
            }
        }
    }

    static let keywords: Set<String> = ["and", "or", "(", ")", "defined", "not_defined"]
}

extension HealthStrategy {
    /// `[cluster] node_health_strategy`: none, migrate-on-red, only-green, progressive, custom
    /// (custom: health attributes only through rules, like none).
    static func named(_ s: String, red: Int, yellow: Int, green: Int) -> HealthStrategy? {
        switch s {
        case "none", "custom": HealthStrategy.none
        case "migrate-on-red": .migrateOnRed
        case "only-green": .onlyGreen
        case "progressive": .progressive(red: red, yellow: yellow, green: green)
        default: nil
        }
    }
}
