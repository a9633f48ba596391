/// The node's side of the attribute map: what status reads, and the routing of calls to it.
extension Node {
    /// Every attribute value this node holds, private ones included (status leaves those out).
    public var attributeValues: [AttributeKey: NodeAttribute] { attributes.values }
    /// Values changed here since start (a metric).
    public var attributeChanges: Int { attributes.changes }
    /// This node's writes not yet held by every member of its view.
    public var attributesUnconfirmed: Int { attributes.unconfirmed.count }
    /// This node's copy of one attribute, deletions included.
    public func attributeEntry(_ k: AttributeKey) -> NodeAttribute? { attributes.entry(k) }
    /// The public values by node: what location rules read.
    public var attributesByNode: [NodeID: [String: String]] { attributes.byNode }
    /// This node's map, values and deletions, in key order.
    public var attributeMap: [NodeAttribute] { attributes.sorted }

    var attributeContext: AttributeContext {
        AttributeContext(me: id, nodes: config.nodes, view: view,
                         resend: max(config.timing.interval * 4, .ms(50)), digestEvery: max(config.timing.interval * 25, .ms(250)))
    }

    /// One call into the attribute map; what it hands back is carried out in order (`carryOut`).
    mutating func attributing(_ out: inout [Effect], _ call: (inout Attributes, AttributeContext, inout Outbox) -> Void) {
        var box = Outbox()
        call(&attributes, attributeContext, &box)
        carryOut(box, &out)
    }
}
