@testable import VigilCore
import XCTest

/// The failure detector alone: per-link liveness, death only when every link is silent, the
/// self-pause excuse, goodbyes and restarts.
final class FailureDetectorTests: XCTestCase {
    let n2 = NodeID(2), l0 = LinkID(0), l1 = LinkID(1)
    let deadline = TimeSpan.ms(40)

    func detector() -> FailureDetector {
        FailureDetector(local: NodeID(1), config: .uniform(nodes: 3, timing: Timing(interval: .ms(10), deadline: deadline)))
    }

    func at(_ ms: Int64) -> Instant { Instant(nanoseconds: ms * 1_000_000) }

    func testFirstFrameBringsLinkAndPeerUp() {
        var d = detector()
        XCTAssertEqual(d.heard(n2, incarnation: 1, linkIndex: 0, at: at(0)),
                       [.linkUp(peer: n2, link: l0), .peerAlive(Member(n2, 1))])
        XCTAssertEqual(d.heard(n2, incarnation: 1, linkIndex: 1, at: at(1)), [.linkUp(peer: n2, link: l1)])
        XCTAssertEqual(d.heard(n2, incarnation: 1, linkIndex: 1, at: at(2)), [])
    }

    /// Invariant 5: losing all but one link is a link event, never a death.
    func testOneSilentLinkIsALinkEventOnly() {
        var d = detector()
        _ = d.heard(n2, incarnation: 1, linkIndex: 0, at: at(0))
        _ = d.heard(n2, incarnation: 1, linkIndex: 1, at: at(0))
        _ = d.heard(n2, incarnation: 1, linkIndex: 1, at: at(30))
        XCTAssertEqual(d.expire(at: at(40)), [], "exactly the deadline: not yet")
        XCTAssertEqual(d.expire(at: at(41)), [.linkDown(peer: n2, link: l0)])
        XCTAssertEqual(d.aliveMembers, [Member(n2, 1)])
        XCTAssertEqual(d.expire(at: at(71)), [.linkDown(peer: n2, link: l1), .peerDead(Member(n2, 1), reason: .silent)])
        XCTAssertEqual(d.aliveMembers, [])
    }

    /// The self-pause rule: a stall of our own excuses that much silence (capped at now).
    func testExcuseShiftsSilence() {
        var d = detector()
        _ = d.heard(n2, incarnation: 1, linkIndex: 0, at: at(0))
        d.excuse(.ms(100), at: at(120))
        XCTAssertEqual(d.expire(at: at(121)), [], "0 + 100 ms excused: heard 'at 100 ms'")
        XCTAssertEqual(d.expire(at: at(141)), [.linkDown(peer: n2, link: l0), .peerDead(Member(n2, 1), reason: .silent)])
    }

    func testGoodbyeAndRestart() {
        var d = detector()
        _ = d.heard(n2, incarnation: 1, linkIndex: 0, at: at(0))
        XCTAssertEqual(d.left(n2, incarnation: 1), [.peerDead(Member(n2, 1), reason: .left), .linkDown(peer: n2, link: l0)])
        XCTAssertEqual(d.heard(n2, incarnation: 1, linkIndex: 0, at: at(5)), [], "a late frame of the incarnation that left")
        XCTAssertEqual(d.heard(n2, incarnation: 2, linkIndex: 0, at: at(6)),
                       [.linkUp(peer: n2, link: l0), .peerAlive(Member(n2, 2))], "restarted")
        XCTAssertEqual(d.heard(n2, incarnation: 3, linkIndex: 1, at: at(7)),
                       [.peerDead(Member(n2, 2), reason: .restarted), .linkDown(peer: n2, link: l0),
                        .linkUp(peer: n2, link: l1), .peerAlive(Member(n2, 3))])
    }
}
