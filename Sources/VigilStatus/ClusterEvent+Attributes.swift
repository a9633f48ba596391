import VigilCore

extension ClusterEvent {
    /// The event fields of an attribute notice.
    mutating func describe(_ a: AttributeNotice, _ name: (NodeID) -> String) {
        func key(_ k: AttributeKey) { (attribute, peer) = (k.name, name(k.node)) }
        switch a {
        case .changed(let e):
            key(e.key)
            (type, lifetime, version) = (.attribute, e.lifetime.description, e.version)
            value = e.isPrivate ? nil : e.value
            detail = e.value == nil ? "deleted" : e.isPrivate ? "private" : nil
        case .cleared(let k):
            key(k)
            type = .attributeCleared
            detail = "\(name(k.node)) left the view: its transient attribute \(k.name) is cleared"
        case let .confirmed(k, v):
            key(k)
            (type, version) = (.attributeConfirmed, v)
        case let .held(k, _, delay):
            key(k)
            (type, delayMs) = (.attributeHeld, delay.milliseconds)
        case let .refused(k, why):
            key(k)
            (type, reason) = (.attributeRefused, why.description)
        }
    }

    var attributeLogLine: String {
        let what = "\(attribute ?? "?") of \(peer ?? "?")"
        switch type {
        case .attribute:
            return "attribute \(what) = " + (value.map { "\"\($0)\"" } ?? detail ?? "?") + " (\(lifetime ?? "?"), version \(version ?? 0))"
        case .attributeConfirmed: return "attribute \(what): held by every member (version \(version ?? 0))"
        case .attributeHeld: return "attribute \(what): dampened, applied in \(delayMs.map(format3ms) ?? "?") if it holds"
        case .attributeRefused: return "attribute \(what) refused: \(reason ?? "?")"
        default: return "attribute \(what) cleared" + (detail.map { ": " + $0 } ?? "")
        }
    }
}
