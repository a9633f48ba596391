import VigilCore
import VigilSim
import XCTest

/// Promotable clones over the real core in simulation: the promoted role goes where the scores
/// say, moves only after the lost primary's fence, a failed-promoted instance is demoted and
/// recovered; over random seeds never two promoted, and a planted promote-before-fence is found.
final class PromotionSimTests: XCTestCase {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    private func cluster(notify: Bool = false) -> SteppedCluster {
        var resources = ResourcePolicy(units: [
            PlacementUnit(resources: ["pg"], stickiness: 1, clone: CloneSpec(id: "pg-clone", notify: notify, promotable: true)),
        ])
        resources.monitorInterval = ["pg": .ms(100)]
        resources.promotedMonitorInterval = ["pg": .ms(80)]
        let c = SteppedCluster(resources: resources, seed: 9)
        for (n, score) in [(n1, "5"), (n2, "10"), (n3, "1")] {
            c.step(.attribute(on: n, .set(AttributeKey(node: n, name: "master-pg"), value: score, lifetime: .forever, isPrivate: false,
                                          delay: .zero)), for: .ms(200))
        }
        c.step(.checkAgreement)
        return c
    }

    func testFailoverPromotesOnlyAfterTheFence() {
        let c = cluster(), sim = c.sim
        XCTAssertEqual(sim.resourceActive["pg"], [n1, n2, n3])
        XCTAssertEqual(sim.resourcePromoted["pg"], [n2], "the highest score")
        var fencedAt: Instant?, promotedAt: Instant?
        sim.observer = { t, _, n in
            if case let .fence(.finished(m, _, .success, _, _)) = n, m.node == self.n2 { fencedAt = fencedAt ?? t }
            if case .resource(.command("pg", self.n1, .promote)) = n { promotedAt = promotedAt ?? t }
        }
        c.step(.pause(n2), for: .seconds(2))  // alive, still promoted, silent: only its fence makes room
        XCTAssertEqual(sim.resourcePromoted["pg"], [n1], "the best standby left")
        XCTAssertNotNil(fencedAt)
        XCTAssertLessThan(fencedAt ?? .zero, promotedAt ?? .zero, "promoted after the fence")
        c.step(.start(n2), for: .seconds(2))  // powered on again (if the fence left it off)
        XCTAssertEqual(sim.resourceActive["pg"], [n1, n2, n3], "n2 rejoined as a standby")
        XCTAssertEqual(sim.resourcePromoted["pg"], [n2], "and, its score highest, took the role back (stickiness 1)")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    /// The primary's node leaves gracefully (a clean vigild restart): its instance is demoted
    /// before it stops, and the address ordered "demote pg, then stop pg-ip" stops after that
    /// demote, as Pacemaker does. Found by tools/chaos: the leaving node stopped PAF's primary
    /// without a demote and the address at the same time, and PostgreSQL's shutdown hung a minute
    /// for standbys it could no longer reach. The role goes to the best standby.
    func testLeavingPrimaryIsDemotedBeforeItsAddressAndItStop() {
        var resources = ResourcePolicy(units: [
            PlacementUnit(resources: ["pg"], stickiness: 1, clone: CloneSpec(id: "pg-clone", notify: true, promotable: true)),
        ])
        var ip = PlacementUnit(resources: ["pg-ip"], with: "pg")
        ip.withPromoted = true
        resources.units.append(ip)
        resources.orders = [OrderConstraint(first: "pg", then: "pg-ip", symmetrical: false, firstAction: .promote),
                             OrderConstraint(first: "pg", then: "pg-ip", symmetrical: false, firstAction: .demote, thenAction: .stop)]
        resources.monitorInterval = ["pg": .ms(100), "pg-ip": .ms(100)]
        resources.promotedMonitorInterval = ["pg": .ms(80)]
        let c = SteppedCluster(resources: resources, seed: 9), sim = c.sim
        for (n, score) in [(n1, "5"), (n2, "10"), (n3, "1")] {
            c.step(.attribute(on: n, .set(AttributeKey(node: n, name: "master-pg"), value: score, lifetime: .forever, isPrivate: false,
                                          delay: .zero)), for: .ms(200))
        }
        c.step(.checkAgreement)
        XCTAssertEqual(sim.resourcePromoted["pg"], [n2])
        XCTAssertEqual(sim.resourceActive["pg-ip"], [n2])
        var states: [String] = []
        sim.observer = { _, node, n in
            if node == self.n2, case let .resource(.state(id, st, _)) = n { states.append("\(id) \(st)") }
        }
        c.step(.leave(n2), for: .seconds(2))
        XCTAssertEqual(sim.resourcePromoted["pg"], [n1], "the best standby left took the role")
        XCTAssertEqual(sim.resourceActive["pg-ip"], [n1])
        let demoting = states.firstIndex(of: "pg demoting"), pgStop = states.firstIndex(of: "pg stopping")
        let ipStop = states.firstIndex(of: "pg-ip stopping"), demoted = states.firstIndex(of: "pg running")
        XCTAssertNotNil(demoting, "\(states)")
        XCTAssertLessThan(demoting ?? .max, pgStop ?? -1, "demoted before it stops: \(states)")
        XCTAssertLessThan(demoted ?? .max, ipStop ?? -1, "the address stops after the demote ended: \(states)")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    func testFailedPromotedIsDemotedThenRecovered() {
        let c = cluster(), sim = c.sim
        var commands: [String] = []
        sim.observer = { _, _, n in
            if case let .resource(.command(id, on, a)) = n { commands.append("\(id) \(a) \(on.rawValue)") }
        }
        c.step(.failPromoted(on: n2, "pg"))
        XCTAssertEqual(commands, ["pg demote 2", "pg stop 2", "pg start 2", "pg promote 2"])
        XCTAssertEqual(sim.resourcePromoted["pg"], [n2])
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    /// With notify: a switchover (n3's score raised) is one transition of two rounds, demote then
    /// promote, each told before and after to every instance, with the same lists.
    func testNotificationRoundsAroundASwitchover() {
        let c = cluster(notify: true), sim = c.sim
        XCTAssertEqual(sim.resourcePromoted["pg"], [n2])
        var log: [String] = []
        sim.observer = { _, node, n in
            switch n {
            case let .resource(.notified("pg", info, ok: true)):
                let lists = "promote \(info.promote) demote \(info.demote) promoted \(info.promoted) active \(info.active)"
                log.append("\(info.phase == .pre ? "pre" : "post")-\(info.operation.word) on \(node.rawValue): \(lists)")
            case let .resource(.command("pg", on, a)):
                log.append("\(a.word) \(on.rawValue)")
            default:
                break
            }
        }
        c.step(.attribute(on: n1, .set(AttributeKey(node: n3, name: "master-pg"), value: "50", lifetime: .forever, isPrivate: false,
                                       delay: .zero)))
        XCTAssertEqual(sim.resourcePromoted["pg"], [n3])
        let lists = "promote {3} demote {2} promoted {2} active {1,2,3}"
        func round(_ phase: String, _ op: String, _ l: String = lists) -> Set<String> { Set([n1, n2, n3].map { "\(phase)-\(op) on \($0.rawValue): \(l)" }) }
        XCTAssertEqual(log.count, 14, "\(log)")
        XCTAssertEqual(Set(log[0..<3]), round("pre", "demote", "promote {} demote {2} promoted {2} active {1,2,3}"), "\(log)")
        XCTAssertEqual(log[3], "demote 2")
        XCTAssertEqual(Set(log[4..<7]), round("post", "demote", "promote {} demote {2} promoted {2} active {1,2,3}"))
        XCTAssertEqual(Set(log[7..<10]), round("pre", "promote"), "the promote round carries the demote too (PAF's switchover check)")
        XCTAssertEqual(log[10], "promote 3")
        XCTAssertEqual(Set(log[11..<14]), round("post", "promote"))
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    func testRandomSeeds() {
        let r = Sweep.run(nodes: 3, seeds: 1..<16, fencing: true, promotable: true)
        for f in r.failures.prefix(3) {
            XCTFail("seed \(f.seed): \(f.violations[0]) -- replay: vigil-sim --nodes 3 --seed \(f.seed) --fencing --promotable --trace")
        }
        // Seeds that showed this change's fixes (the scenario has grown since; kept as
        // regressions): 20 (a lost promote held the role for good), 350 (a write of a learned
        // attribute value confirmed at once), 974 (a stale unacked start
        // unfroze a resource: double active), 17, 8 and 298 (notification rounds stuck across a
        // view, a skipped own copy, a fenced member), 64 (a resent notification run twice).
        let fixed = Sweep.run(nodes: 3, seeds: [20, 350, 974, 17, 8, 298, 64], fencing: true, promotable: true)
        for f in fixed.failures { XCTFail("seed \(f.seed): \(f.violations[0]) -- replay: vigil-sim --nodes 3 --seed \(f.seed) --fencing --promotable --trace") }
        let bug = Sweep.run(nodes: 3, seeds: [11, 22, 29], fencing: true, promotable: true, promoteGate: false)
        XCTAssertTrue(bug.failures.contains { $0.violations.contains { $0.rule == .doublePromoted } }, "a promote before the fence went unnoticed")
    }
}
