/// Which copy of a node's report is news (seed 171: a late copy from the other link rolled the
/// owner's picture back). Reports of an older incarnation, and older or repeated versions of the
/// same incarnation, are ignored.
public struct ReportVersion: Equatable, Sendable {
    public var incarnation: Incarnation
    public var version: UInt32
    public init(incarnation: Incarnation, version: UInt32) {
        self.incarnation = incarnation
        self.version = version
    }
    public func isNewer(than last: ReportVersion) -> Bool {
        incarnation == last.incarnation ? version > last.version : incarnation > last.incarnation
    }
}

extension CommandAck {
    /// A command already obeyed (seed 221: two commands sent together may arrive in either order,
    /// and the owner can change within one view when a pending node is fenced, so the sender counts).
    public func covers(_ c: CommandAck) -> Bool { view == c.view && from == c.from && seq >= c.seq }
}
