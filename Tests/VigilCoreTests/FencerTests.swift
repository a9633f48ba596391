@testable import VigilCore
import XCTest

/// The fencing sub-machine alone (Fencing/Fencer.swift): given a context, what it orders.
final class FencerTests: XCTestCase {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)
    let timing = Timing(interval: .ms(10), deadline: .ms(40))

    func policy(levels: [[String]] = [["ipmi"]], delay: TimeSpan = .zero) -> FencingPolicy {
        var p = FencingPolicy()
        p.enabled = true
        for n in [n1, n2, n3] { p.levels[n] = levels }
        p.delay[n3] = delay
        p.retryBackoff = .ms(100)
        return p
    }

    /// n1's context: a quorate view of n1 and n2 (n3 lost), n1 the owner unless told otherwise.
    func context(quorate: Bool = true, me: NodeID? = nil) -> FenceContext {
        let members = [Member(n1, 1), Member(n2, 1)]
        let view = View(id: ViewID(epoch: 2, coordinator: n1), members: members, quorate: quorate, installedAt: .zero)
        return FenceContext(me: Member(me ?? n1, 1), nodes: NodeSet([n1, n2, n3]), view: view, owner: quorate ? n1 : nil,
                            peers: PeerTable(), timing: timing, leaving: false)
    }

    func effects(_ box: Outbox) -> [Effect] { box.items.compactMap { if case .effect(let e) = $0 { e } else { nil } } }
    func orders(_ box: Outbox) -> [FenceOrder] { effects(box).compactMap { if case .fence(let o) = $0 { o } else { nil } } }
    func at(_ ms: Int64) -> Instant { Instant(nanoseconds: ms * 1_000_000) }

    func lose(_ f: inout Fencer) {
        var box = Outbox()
        f.recordUnclean(ViewChange(lostUncleanly: [Member(n3, 1)]), quorate: true, at(0), &box)
        XCTAssertEqual(f.pending, [n3: 1])
    }

    func testOwnerFencesAfterTheDelayAndSuccessClearsPending() {
        var f = Fencer(policy: policy(delay: .ms(50)), seed: 1)
        lose(&f)
        var box = Outbox()
        f.step(context(), at(10), &box)
        XCTAssertEqual(orders(box), [], "the static delay first")
        box = Outbox()
        f.step(context(), at(60), &box)
        XCTAssertEqual(orders(box).map(\.devices), [["ipmi"]])
        let order = orders(box)[0]
        box = Outbox()
        f.done(order.id, .success, context(), at(90), &box)
        XCTAssertEqual(f.pending, [:])
        XCTAssertTrue(f.isFenced(Member(n3, 1)))
        XCTAssertTrue(box.placementChanged, "the owner places again")
    }

    func testOnlyTheOwnerFences() {
        var f = Fencer(policy: policy(), seed: 1)
        lose(&f)
        var box = Outbox()
        f.step(context(me: n2), at(10), &box)
        XCTAssertEqual(orders(box), [])
    }

    func testFailedLevelEscalatesThenBacksOff() {
        var f = Fencer(policy: policy(levels: [["flaky"], ["power"]]), seed: 1)
        lose(&f)
        var box = Outbox()
        f.step(context(), at(0), &box)
        let first = orders(box)[0]
        XCTAssertEqual(first.level, 1)
        box = Outbox()
        f.done(first.id, .failed, context(), at(20), &box)
        let second = orders(box)[0]
        XCTAssertEqual(second.level, 2, "the next level at once")
        box = Outbox()
        f.done(second.id, .timeout, context(), at(40), &box)
        XCTAssertEqual(orders(box), [], "round two waits the backoff")
        box = Outbox()
        f.step(context(), at(140), &box)
        XCTAssertEqual(orders(box).map(\.level), [1])
    }

    func testLosingQuorumAbortsRunningAttempts() {
        var f = Fencer(policy: policy(), seed: 1)
        lose(&f)
        var box = Outbox()
        f.step(context(), at(0), &box)
        let order = orders(box)[0]
        box = Outbox()
        f.step(context(quorate: false), at(10), &box)
        XCTAssertTrue(effects(box).contains { if case .abortFence(order.id) = $0 { true } else { false } })
        XCTAssertEqual(f.pending, [n3: 1], "still to fence once quorate again")
    }

    /// Self-fencing: armed by a quorate view; inquorate for the bound, it stops feeding.
    func testWatchdogArmsAndStopsFeeding() {
        var p = policy()
        p.watchdog = WatchdogPolicy(timeout: .seconds(5), quorumLossBound: .ms(200))
        var f = Fencer(policy: p, seed: 1)
        var box = Outbox()
        f.step(context(), at(0), &box)
        XCTAssertTrue(effects(box).contains { if case .watchdog(.arm) = $0 { true } else { false } })
        box = Outbox()
        f.step(context(quorate: false), at(100), &box)
        f.step(context(quorate: false), at(250), &box)
        XCTAssertFalse(effects(box).contains { if case .watchdog(.stopFeeding) = $0 { true } else { false } })
        f.step(context(quorate: false), at(301), &box)
        XCTAssertTrue(effects(box).contains { if case .watchdog(.stopFeeding) = $0 { true } else { false } })
    }

    func testManualFenceRefusals() {
        var f = Fencer(policy: policy(), seed: 1)
        var box = Outbox()
        f.command(n1, .off, context(), at(0), &box)
        f.command(NodeID(9), .off, context(), at(0), &box)
        f.command(n3, .off, context(quorate: false), at(0), &box)
        let refused = effects(box).compactMap { if case .notice(.fence(.refused(_, let why))) = $0 { why.description } else { nil } }
        XCTAssertEqual(refused, ["a node does not fence itself", "no such node", "this node is not in a quorate view"])
    }
}
