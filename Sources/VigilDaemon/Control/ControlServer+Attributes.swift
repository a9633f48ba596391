import VigilCore
import VigilStatus

extension ControlServer {
    /// `attr set|delete` are handed to the core (it answers with attribute events); `attr get`
    /// reads what the heartbeat loop last published (private attributes included).
    func attributeRequest(_ verb: ControlRequest.AttributeVerb, node: String, name: String) -> ControlAnswer {
        guard let id = nodes[node == "." ? me : node] else {
            return .refused("no such node '\(node)' (nodes: \(nodes.keys.sorted().joined(separator: ", ")))")
        }
        let key = AttributeKey(node: id, name: name)
        switch verb {
        case .get:
            guard let a = shared.attribute(key), let v = a.value else {
                return .refused("no such attribute: \(name) of \(node == "." ? me : node)")
            }
            return ControlAnswer(ok: true, value: v)
        case .delete:
            hand(.attribute(.delete(key)))
        case let .set(value, lifetime, isPrivate, delayMs):
            hand(.attribute(.set(key, value: value, lifetime: lifetime, isPrivate: isPrivate, delay: .ms(Int64(delayMs)))))
        }
        return .done
    }
}
