import FoundationEssentials
import VigilCore
import VigilStatus

/// How an attribute write ended, as the client sees it.
public enum AttributeOutcome: Equatable, Sendable {
    /// Every member of the writer's view holds it.
    case confirmed
    /// Dampened: applied after this many milliseconds if the value still holds.
    case held(ms: Int)
    case refused(String)
    /// Its node left the view meanwhile (a transient attribute).
    case cleared(String)
    /// No answer in time (the write may still be confirmed later).
    case noAnswer
}

extension ControlClient {
    /// This node as its daemon names it (status), for requests about "this node".
    public static func localNode(_ socket: String) throws -> StatusSnapshot.NodeRef {
        let text = try request(socket, .status)
        guard let s = try? JSONDecoder().decode(StatusSnapshot.self, from: Data(text.utf8)) else {
            throw SystemError("vigild answered something unexpected: \(text.prefix(200))")
        }
        return s.node
    }

    /// Sends a request the core answers with events, then follows the events after it until
    /// `decide` returns a value or `seconds` pass (nil). `.failure`: vigild refused the line.
    /// Throws when vigild cannot be reached.
    public static func send<T>(_ socket: String, _ r: ControlRequest, awaiting seconds: Double,
                               _ decide: (ClusterEvent) -> T?) throws -> Result<T?, AnswerRefused> {
        let last = try lastEventSeq(socket)
        let a = try answer(socket, r)
        guard a.succeeded else { return .failure(AnswerRefused(reason: a.error ?? "refused")) }
        var found: T?
        try follow(socket, after: last, within: seconds) { e in
            found = decide(e)
            return found == nil
        }
        return .success(found)
    }

    public struct AnswerRefused: Error, Equatable {
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// Sends `attr set|delete` for `node` (a name, not ".") and waits on the event stream for its
    /// outcome. Throws when vigild cannot be reached.
    public static func changeAttribute(_ socket: String, _ verb: ControlRequest.AttributeVerb, node: String, name: String,
                                       seconds: Double = 10) throws -> AttributeOutcome {
        let r = try send(socket, .attribute(verb, node: node, name: name), awaiting: seconds) { e -> AttributeOutcome? in
            guard e.attribute == name, e.peer == node else { return nil }
            switch e.type {
            case .attributeConfirmed: return .confirmed
            case .attributeHeld: return .held(ms: Int(e.delayMs ?? 0))
            case .attributeRefused: return .refused(e.reason ?? "refused")
            case .attributeCleared: return .cleared(e.detail ?? "cleared")
            default: return nil
            }
        }
        switch r {
        case .failure(let why): return .refused(why.reason)
        case .success(let o): return o ?? .noAnswer
        }
    }
}
