/// Location rules over node attributes, and node health (pure). Before each placement the owner
/// turns them into location scores per node (`Rules.apply`), so the placer itself knows only
/// scores. Pacemaker's semantics:
/// - A rule adds its score on every node where its expression holds; `-INFINITY` forbids the node.
///   A score attribute (`pingd: defined pingd`) adds that node's value of the attribute instead
///   (not a number or absent: nothing).
/// - Comparisons with an attribute the node does not have are false; `not_defined` is true.
/// - Without a type, two numbers compare as numbers, anything else as strings; `version` compares
///   dot-separated numbers (5.10 > 5.9).
/// - Built-ins: `#uname` (the node's name), `#id`, `#kind` (always "cluster"), `#cluster-name`.
/// - Scores add up, saturating at ±INFINITY (1,000,000); -INFINITY anywhere wins.
public indirect enum RuleExpr: Equatable, Sendable {
    case defined(String)
    case notDefined(String)
    case compare(String, RuleOp, String, RuleType?)
    case and(RuleExpr, RuleExpr)
    case or(RuleExpr, RuleExpr)
}

public enum RuleOp: String, Equatable, Sendable, CaseIterable { case eq, ne, lt, gt, lte, gte }
public enum RuleType: String, Equatable, Sendable, CaseIterable { case string, integer, number, version }

public enum RuleScore: Equatable, Sendable {
    /// A fixed score; `PlacementUnit.never` is -INFINITY.
    case score(Int)
    /// The node's value of this attribute.
    case attribute(String)
}

public struct LocationRule: Equatable, Sendable {
    public var score: RuleScore
    public var expr: RuleExpr
    public init(score: RuleScore, expr: RuleExpr) {
        self.score = score
        self.expr = expr
    }
}

/// Pacemaker's node-health-strategy over `#health*` attributes (red, yellow, green or a number).
public enum HealthStrategy: Equatable, Sendable {
    case none
    /// A red attribute forbids the node.
    case migrateOnRed
    /// Red or yellow forbids it.
    case onlyGreen
    /// Every health attribute adds a score: red, yellow and green as given, a number as itself.
    case progressive(red: Int, yellow: Int, green: Int)
}

extension RuleExpr {
    public func holds(_ a: [String: String]) -> Bool {
        switch self {
        case .defined(let n): return a[n] != nil
        case .notDefined(let n): return a[n] == nil
        case let .and(x, y): return x.holds(a) && y.holds(a)
        case let .or(x, y): return x.holds(a) || y.holds(a)
        case let .compare(n, op, v, type):
            guard let have = a[n] else { return false }
            let c = RuleExpr.order(have, v, type)
            guard let c else { return op == .ne }
            switch op {
            case .eq: return c == 0
            case .ne: return c != 0
            case .lt: return c < 0
            case .gt: return c > 0
            case .lte: return c <= 0
            case .gte: return c >= 0
            }
        }
    }

    /// -1, 0, 1; nil when the values cannot be compared as the type says (never equal then).
    static func order(_ a: String, _ b: String, _ type: RuleType?) -> Int? {
        func sign<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : x > y ? 1 : 0 }
        switch type {
        case .string?: return sign(a, b)
        case .integer?:
            guard let x = Int(a), let y = Int(b) else { return nil }
            return sign(x, y)
        case .number?:
            guard let x = Double(a), let y = Double(b) else { return nil }
            return sign(x, y)
        case .version?:
            let x = a.split(separator: ".").map { Int($0) ?? 0 }, y = b.split(separator: ".").map { Int($0) ?? 0 }
            for i in 0..<max(x.count, y.count) where (i < x.count ? x[i] : 0) != (i < y.count ? y[i] : 0) {
                return sign(i < x.count ? x[i] : 0, i < y.count ? y[i] : 0)
            }
            return 0
        case nil:
            if let x = Double(a), let y = Double(b) { return sign(x, y) }
            return sign(a, b)
        }
    }
}

public enum Rules {
    public static let infinity = 1_000_000

    /// Adds `b` to a location score, saturating: -INFINITY (never) wins, ±INFINITY caps.
    public static func add(_ a: Int, _ b: Int) -> Int {
        if a == PlacementUnit.never || b == PlacementUnit.never { return PlacementUnit.never }
        let s = a.addingReportingOverflow(b).partialValue
        return s <= -infinity ? PlacementUnit.never : s
    }

    /// A score as an attribute carries it: a number, or ±INFINITY.
    public static func score(_ s: String) -> Int? {
        switch s.uppercased() {
        case "INFINITY", "+INFINITY", "INF", "+INF": return infinity
        case "-INFINITY", "-INF": return PlacementUnit.never
        default: return Int(s).map { min(max($0, -infinity), infinity) }.map { $0 <= -infinity ? PlacementUnit.never : $0 }
        }
    }

    /// The attributes a rule sees on `node`: the public ones, and the built-ins.
    static func view(_ node: NodeID, _ attributes: [NodeID: [String: String]], _ p: ResourcePolicy) -> [String: String] {
        var a = attributes[node] ?? [:]
        a["#uname"] = p.nodeNames[node] ?? "node\(node.rawValue)"
        a["#id"] = String(node.rawValue)
        a["#kind"] = "cluster"
        a["#cluster-name"] = p.clusterName
        return a
    }

    /// The score health adds on a node (nil: none); `PlacementUnit.never` forbids it.
    static func health(_ a: [String: String], _ s: HealthStrategy) -> Int? {
        let values = a.filter { $0.key.hasPrefix("#health") }.sorted { $0.key < $1.key }.map(\.value)
        guard !values.isEmpty else { return nil }
        switch s {
        case .none: return nil
        case .migrateOnRed: return values.contains("red") ? PlacementUnit.never : nil
        case .onlyGreen: return values.contains { $0 == "red" || $0 == "yellow" } ? PlacementUnit.never : nil
        case let .progressive(red, yellow, green):
            return values.reduce(0) { sum, v in
                add(sum, v == "red" ? red : v == "yellow" ? yellow : v == "green" ? green : score(v) ?? 0)
            }
        }
    }

    /// The units with their rules and the health strategy turned into location scores on `nodes`.
    public static func apply(_ units: [PlacementUnit], attributes: [NodeID: [String: String]], nodes: NodeSet,
                             policy p: ResourcePolicy) -> [PlacementUnit] {
        guard p.health != HealthStrategy.none || units.contains(where: { !$0.rules.isEmpty }) else { return units }
        let views = Dictionary(uniqueKeysWithValues: nodes.map { ($0, view($0, attributes, p)) })
        return units.map { u in
            var u = u
            for n in nodes {
                let a = views[n]!
                var s = u.location[n] ?? 0
                for r in u.rules where r.expr.holds(a) {
                    switch r.score {
                    case .score(let v): s = add(s, v)
                    case .attribute(let name): s = add(s, a[name].flatMap(score) ?? 0)
                    }
                }
                if let h = health(a, p.health) { s = add(s, h) }
                if s != 0 || u.location[n] != nil { u.location[n] = s }
            }
            return u
        }
    }
}
