import VigilCore

/// `attr ...` lines of the control socket (node attributes; "." names the node that answers):
///
///     attr set NODE NAME reboot|forever public|private DELAY_MS VALUE...   (VALUE: the rest of the line)
///     attr delete NODE NAME
///     attr get NODE NAME        -> {"ok":true,"value":"..."} or {"error":"no such attribute ..."}
///     attr list [NODE]          -> one JSON array of StatusSnapshot.AttributeRow (private ones left out)
///
/// set and delete answer {"ok":true} once the core took the request; the outcome comes as
/// events (attribute_confirmed, attribute_held, attribute_refused).
extension ControlRequest {
    public enum AttributeVerb: Equatable, Sendable {
        case set(value: String, lifetime: AttributeLifetime, isPrivate: Bool, delayMs: Int)
        case delete
        case get
    }

    static func attributeLine(_ verb: AttributeVerb, node: String, name: String) -> String {
        switch verb {
        case let .set(value, lifetime, isPrivate, delay):
            "attr set \(node) \(name) \(lifetime) \(isPrivate ? "private" : "public") \(delay) \(value)"
        case .delete: "attr delete \(node) \(name)"
        case .get: "attr get \(node) \(name)"
        }
    }

    static func attributeRequest(_ line: String) -> ControlRequest? {
        let w = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: false).map(String.init)
        guard w.count >= 2, w[0] == "attr" else { return nil }
        switch (w[1], w.count) {
        case ("list", 2): return .attributeList(node: nil)
        case ("list", 3): return .attributeList(node: w[2])
        case ("get", 4): return .attribute(.get, node: w[2], name: w[3])
        case ("delete", 4): return .attribute(.delete, node: w[2], name: w[3])
        case ("set", 7...8):
            guard let l = AttributeLifetime.allCases.first(where: { $0.description == w[4] }),
                  w[5] == "private" || w[5] == "public", let d = Int(w[6]), d >= 0 else { return nil }
            return .attribute(.set(value: w.count == 8 ? w[7] : "", lifetime: l, isPrivate: w[5] == "private", delayMs: d),
                              node: w[2], name: w[3])
        default: return nil
        }
    }

    static let attributeUsage = "usage: attr set NODE NAME reboot|forever public|private DELAY_MS VALUE, attr delete NODE NAME, "
        + "attr get NODE NAME, attr list [NODE] (NODE \".\" is this node)"
}
