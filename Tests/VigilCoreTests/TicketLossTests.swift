import VigilCore
import XCTest

/// A site ticket this site may not use: each loss policy as the owner applies it (pure), and the
/// arbiter's and tickets' keepers (the proof, the fresh-answer rule, heuristics).
extension OwnerDecisionTests {
    func testTicketLossPolicies() {
        var i = inputs([n2: ["r": .running]])
        i.ticketLoss = ["r": .stop]
        XCTAssertEqual(decide(i), [.stop("r", on: n2)], "stop: placed nowhere")
        i.ticketLoss = ["r": .fence]
        XCTAssertEqual(decide(i), [.fence(n2), .stop("r", on: n2)], "fence: its node fenced (and it is placed nowhere)")
        i.ticketLoss = ["r": .freeze]
        XCTAssertEqual(decide(i), [], "freeze: left as it is")
        var stopped = inputs()
        stopped.ticketLoss = ["r": .freeze]
        XCTAssertEqual(decide(stopped), [], "freeze: nothing started either")
        stopped.ticketLoss = [:]
        XCTAssertEqual(decide(stopped), [.start("r", on: n1)], "usable: started")
    }

    func testTicketLossDemoteKeepsAPromotableCloneUnpromoted() {
        var u = PlacementUnit(resources: ["pg"])
        u.clone = CloneSpec(id: "pg-clone", max: 3, promotable: true, promotedMax: 1)
        var i = inputs(units: [u], [n1: ["pg": .promoted], n2: ["pg": .running], n3: ["pg": .running]])
        i.ticketLoss = ["pg": .demote]
        XCTAssertEqual(decide(i), [.demote("pg", on: n1)])
    }
}

final class LeaseKeeperTests: XCTestCase {
    let me = Member(NodeID(1), 1), other = Member(NodeID(2), 1)

    func testProofAllowsForClockRatesAndTheWatchdog() {
        let p = ArbiterPolicy(ttl: .seconds(10), rateBoundPPM: 10_000)
        // 10 s said remaining, sent at 100 s: proven until 100 + 10 * 0.99 / 1.01 s.
        XCTAssertEqual(p.provenUntil(sentAt: .seconds(100), remaining: .seconds(10)), Instant(nanoseconds: 100_000_000_000 + 9_801_980_198))
        XCTAssertEqual(p.watchdogMargin(.seconds(5)), TimeSpan(nanoseconds: 5_101_010_101))
        XCTAssertEqual(p.renewEvery, .seconds(2))
    }

    /// The vote counts in a view only with an answer to a request sent since the view was
    /// installed; heuristics that fail keep the node from taking a free key.
    func testVoteNeedsAFreshAnswerAndHeuristics() {
        var config = CoreConfig.uniform(nodes: 2)
        config.quorum = QuorumPolicy(votes: [NodeID(1): 1, NodeID(2): 1], twoNode: false)
        config.quorum.arbiterVotes = 1
        config.arbiter = ArbiterPolicy(ttl: .seconds(10), heuristics: true)
        var node = Node(id: NodeID(1), incarnation: 1, config: config, key: try! ClusterKey(bytes: [UInt8](repeating: 7, count: 32)))
        var out = node.handle(.start, at: .seconds(1))
        func requests(_ e: [Effect]) -> [ArbiterRequest] { e.compactMap { if case .arbiter(let r) = $0 { r } else { nil } } }
        // Alone (no peer heard): a view of itself after the join wait; the first request reads.
        var t = Instant.seconds(1)
        var sent: [ArbiterRequest] = requests(out)
        while node.view.id == .none || sent.isEmpty {
            t = t + .ms(10)
            out = node.handle(.tick, at: t)
            sent += requests(out)
        }
        XCTAssertFalse(node.view.quorate, "one of three votes")
        XCTAssertTrue(node.awaitingArbiter, "awaiting the arbiter's first answer in this view")
        let first = sent.last!
        out = node.handle(.arbiterAnswer(id: first.id, .holder(nil, remaining: .zero)), at: t + .ms(5))
        XCTAssertFalse(node.view.quorate)
        // Free, but the heuristics fail: only reads.
        out = node.handle(.arbiterHeuristics(pass: false), at: t + .ms(6))
        var kinds: [ArbiterRequest.Kind] = []
        for k in 1...300 {
            let e = node.handle(.tick, at: t + .ms(10 * Int64(k)))
            for r in requests(e) {
                kinds.append(r.kind)
                _ = node.handle(.arbiterAnswer(id: r.id, .holder(nil, remaining: .zero)), at: t + .ms(10 * Int64(k) + 1))
            }
        }
        XCTAssertFalse(kinds.contains(.acquire), "\(kinds)")
        // Heuristics pass: it takes the key, and the answer (sent after the view's install) counts.
        t = t + .seconds(3)
        _ = node.handle(.arbiterHeuristics(pass: true), at: t)
        var took: ArbiterRequest?
        for k in 1...300 where took == nil {
            took = requests(node.handle(.tick, at: t + .ms(10 * Int64(k)))).first { $0.kind == .acquire }
        }
        let r = try! XCTUnwrap(took)
        _ = node.handle(.arbiterAnswer(id: r.id, .holder(me, remaining: .seconds(10))), at: t + .seconds(4))
        XCTAssertTrue(node.view.quorate, "two of three votes")
        XCTAssertEqual(node.arbiterStatus(at: t + .seconds(4))?.holder, me)
        XCTAssertTrue(node.hasArbiterVote)
    }
}
