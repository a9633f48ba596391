/// Vote-based quorum. Two-node mode is corosync's `two_node`: one vote of two is quorate,
/// but only after both nodes were seen together once (wait-for-all).
public struct QuorumPolicy: Equatable, Sendable {
    public var votes: [NodeID: Int]
    public var expectedVotes: Int
    public var twoNode: Bool
    public var waitForAll: Bool
    /// What a node that loses quorum does with its resources: stop them (Pacemaker's default) or
    /// leave them as they are (freeze). Either way the quorate side fences it before recovering them.
    public var stopResourcesWithoutQuorum = true
    /// The external vote (`[arbiter]`, Membership/Arbiter.swift): 1 when configured. It counts in
    /// the expected votes; a partition has it only while its arbiter says so.
    public var arbiterVotes = 0

    public init(votes: [NodeID: Int], expectedVotes: Int? = nil, twoNode: Bool = false, waitForAll: Bool? = nil) {
        self.votes = votes
        self.expectedVotes = expectedVotes ?? votes.values.reduce(0, +)
        self.twoNode = twoNode
        self.waitForAll = waitForAll ?? twoNode
    }

    public func votes(of members: NodeSet) -> Int {
        members.reduce(0) { $0 + (votes[$1] ?? 0) }
    }

    /// The majority rule (and the two-node rule), given whether all nodes were once seen together
    /// and whether this partition has the arbiter's vote.
    public func isQuorate(_ members: NodeSet, allSeenTogether: Bool, arbiterVote: Bool = false) -> Bool {
        if waitForAll && !allSeenTogether { return false }
        let v = votes(of: members) + (arbiterVote ? arbiterVotes : 0)
        if twoNode { return v >= 1 }
        return v * 2 > expectedVotes + arbiterVotes
    }

    /// All configured voters present at once: lifts wait-for-all for the rest of this incarnation.
    public func isComplete(_ members: NodeSet) -> Bool {
        votes.keys.allSatisfy { members.contains($0) }
    }
}
