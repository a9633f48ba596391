/// Why the core turned an operator's request down, or why a node fences itself: typed, with the
/// message people read. In traces (`String(describing:)` of a notice) each reads as its quoted
/// message, as it did when these were strings, so trace digests are unchanged by the typing.
public protocol ReasonText: CustomStringConvertible, CustomDebugStringConvertible {}

extension ReasonText {
    public var debugDescription: String { "\"\(description)\"" }
}

/// A manual fence (`vigilctl fence`) or confirmation refused.
public enum FenceRefusal: Equatable, Sendable, ReasonText {
    case notEnabled, noSuchNode, itself, notQuorate, alreadyRunning

    public var description: String {
        switch self {
        case .notEnabled: "fencing is not enabled in the config"
        case .noSuchNode: "no such node"
        case .itself: "a node does not fence itself"
        case .notQuorate: "this node is not in a quorate view"
        case .alreadyRunning: "an attempt is already running"
        }
    }
}

/// Why this node stops feeding its hardware watchdog.
public enum SelfFenceReason: Equatable, Sendable, ReasonText {
    /// The cluster wants this node fenced and no device of its can do it.
    case noDevice
    /// Inquorate for this long (at least the watchdog's quorum-loss bound).
    case inquorate(TimeSpan)
    /// Quorate only with the arbiter's vote, and the lease can no longer be proven alive long
    /// enough for the board to reset before it expires on the server.
    case arbiterLapsed

    public var description: String {
        switch self {
        case .noDevice: "the cluster must fence this node and no device can"
        case .inquorate(let t): "inquorate for \(t)"
        case .arbiterLapsed: "quorate only with the arbiter's vote, which could no longer be renewed in time"
        }
    }
}

/// An operator's resource or node change refused (`vigilctl resource|node ...`).
public enum AdminRefusal: Equatable, Sendable, ReasonText {
    case noResources
    case notQuorate
    case unknownNode(NodeID)
    case unknownResource(String)
    /// `move` or `ban` without a node, of a resource that runs nowhere.
    case runsNowhere(String, ban: Bool)
    case notRunning(String)
    case inMaintenance(String, NodeID)
    case notPromotable(String)

    public var description: String {
        switch self {
        case .noResources: "no resources are configured"
        case .notQuorate: "this node is not in a quorate view: changes are made on the quorate side"
        case .unknownNode(let n): "unknown node \(n.rawValue)"
        case .unknownResource(let r): "unknown resource '\(r)'"
        case let .runsNowhere(r, ban): "'\(r)' runs nowhere now: " + (ban ? "say which node to ban it from" : "say where to move it")
        case .notRunning(let r): "'\(r)' is not running anywhere: nothing to restart"
        case let .inMaintenance(r, n): "'\(r)' runs on n\(n.rawValue), which is in maintenance"
        case .notPromotable(let r): "'\(r)' is not a promotable clone's resource: --promoted moves a promoted role"
        }
    }
}
