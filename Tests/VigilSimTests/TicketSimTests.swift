import VigilCore
import VigilSim
import XCTest

/// Site tickets over the real core in simulation: two sites of two nodes share one lease server;
/// `db` is bound to ticket t1 in both. Never in two sites at once (the double-active rule), the
/// ticket moves only after its lease expired or once a revoked ticket's resources stopped, standby
/// and revoke stop the resources; planted bugs (a stop margin shorter than the stop; a revoked
/// ticket released before its stop ended) are found.
final class TicketSimTests: XCTestCase {
    let n1 = NodeID(1), n3 = NodeID(3)

    private func holderSite(_ sim: Simulation) -> UInt32? { sim.node(n1)?.ticketStatus(at: sim.now).first?.holder?.site }

    func testTicketMovesToTheOtherSiteOnlyAfterItsLeaseExpired() {
        let sim = TicketExperiments.sites(seed: 3)
        sim.schedule(.ticket(on: n1, .grant("t1")), at: .seconds(2))
        sim.run(until: .seconds(4))
        XCTAssertEqual(sim.resourceActive["db"], [n1], "granted to site A: db runs there")
        XCTAssertEqual(sim.node(n3)?.ticketStatus(at: sim.now).first?.holder?.site, 1, "site B sees site A hold it")
        // Site B's operator cannot take it while site A holds it.
        var refused: String?
        sim.observer = { _, _, n in if case let .ticket(.refused(_, why)) = n { refused = why } }
        sim.schedule(.ticket(on: n3, .grant("t1")), at: sim.now)
        sim.run(until: sim.now + .ms(100))
        XCTAssertEqual(refused, "held by site 1: revoke it there, or wait until its lease expires")
        // Site A cut off from the server: it stops db before the lease can expire; site B grants
        // it once it is free, and db starts there.
        var stoppedAt: Instant?, startedAt: Instant?
        sim.observer = { t, node, n in
            if case let .resource(.state("db", .stopped, _)) = n, node == self.n1, stoppedAt == nil { stoppedAt = t }
            if case let .resource(.state("db", .running, _)) = n, node == self.n3, startedAt == nil { startedAt = t }
        }
        let cut = sim.now
        sim.schedule(.arbiterCut(n1, true), at: cut)
        sim.schedule(.arbiterCut(NodeID(2), true), at: cut)
        sim.schedule(.ticket(on: n3, .grant("t1")), at: cut + .seconds(6))
        sim.run(until: cut + .seconds(9))
        XCTAssertEqual(sim.resourceActive["db"], [n3])
        let (s, t) = (stoppedAt ?? .zero, startedAt ?? .zero)
        XCTAssertLessThan(s, t, "stopped in site A before it started in site B")
        XCTAssertGreaterThan(t - cut, .seconds(5), "site B waited for the lease (5 s) to expire")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    func testStandbyActivateAndRevoke() {
        let sim = TicketExperiments.sites(seed: 4)
        sim.schedule(.ticket(on: NodeID(2), .grant("t1")), at: .seconds(2))
        sim.run(until: .seconds(4))
        XCTAssertEqual(sim.resourceActive["db"], [n1])
        sim.schedule(.ticket(on: n1, .standby("t1")), at: sim.now)
        sim.run(until: sim.now + .seconds(2))
        XCTAssertEqual(sim.resourceActive["db"] ?? [], [], "standby: stopped")
        XCTAssertEqual(holderSite(sim), 1, "and still held")
        sim.schedule(.ticket(on: n1, .activate("t1")), at: sim.now)
        sim.run(until: sim.now + .seconds(2))
        XCTAssertEqual(sim.resourceActive["db"], [n1], "activated: runs again")
        let revoked = sim.now
        sim.schedule(.ticket(on: NodeID(2), .revoke("t1")), at: revoked)
        sim.run(until: revoked + .seconds(3))
        XCTAssertEqual(sim.resourceActive["db"] ?? [], [], "revoked: stopped")
        XCTAssertNil(holderSite(sim), "stopped everywhere: released, long before the 5 s lease could expire")
        sim.schedule(.ticket(on: n3, .grant("t1")), at: sim.now)
        sim.run(until: sim.now + .seconds(1))
        XCTAssertEqual(sim.resourceActive["db"], [n3], "site B took it at once")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    /// A revoked ticket whose resources take 3 s to stop: released only after the stop ended;
    /// site B's grants before are refused.
    func testRevokedTicketIsReleasedOnlyOnceStopped() {
        let sim = TicketExperiments.sites(seed: 5, ttl: .seconds(10))
        sim.stopTakes["db"] = .seconds(3)
        sim.schedule(.ticket(on: n1, .grant("t1")), at: .seconds(2))
        sim.run(until: .seconds(4))
        XCTAssertEqual(sim.resourceActive["db"], [n1])
        var stoppedAt: Instant?, grantedAt: Instant?, refusals = 0
        sim.observer = { t, node, n in
            if case let .resource(.state("db", .stopped, _)) = n, node == self.n1, stoppedAt == nil { stoppedAt = t }
            if case .ticket(.command(.grant)) = n, node == self.n3, grantedAt == nil { grantedAt = t }
            if case .ticket(.refused) = n, node == self.n3 { refusals += 1 }
        }
        let revoked = sim.now
        sim.schedule(.ticket(on: n1, .revoke("t1")), at: revoked)
        for ms in stride(from: 200, through: 5_000, by: 200) { sim.schedule(.ticket(on: n3, .grant("t1")), at: revoked + .ms(Int64(ms))) }
        sim.run(until: revoked + .seconds(7))
        XCTAssertEqual(sim.resourceActive["db"], [n3])
        let (s, g) = (stoppedAt ?? .zero, grantedAt ?? .zero)
        XCTAssertGreaterThan(s - revoked, TimeSpan.ms(2_999), "the stop took 3 s")
        XCTAssertLessThan(s, g, "granted to site B only after site A stopped db")
        XCTAssertLessThan(g - revoked, .seconds(5), "and long before the 10 s lease could expire")
        XCTAssertGreaterThan(refusals, 5, "site B's grants while db stopped were refused")
        XCTAssertTrue(sim.violations.isEmpty, "\(sim.violations.prefix(3))")
    }

    func testNeverInTwoSitesAtOnce() {
        let r = TicketExperiments.sweep(seeds: 1..<21)
        print("ticket sweep: \(r.runs) runs, the ticket changed sites \(r.moves) times, db ran in one site at the end of \(r.endedRunning)")
        for f in r.failures.prefix(3) { XCTFail("seed \(f.seed): \(f.violations.prefix(3))") }
        XCTAssertGreaterThan(r.moves, 30, "the ticket must move between sites in these runs")
        XCTAssertEqual(r.endedRunning, r.runs, "after each run db runs in exactly one site")
    }

    /// Site A cut off from the server with loss policy fence: db's node is fenced (by its own
    /// site) before the lease can expire, and site B runs db after; with freeze, db is left
    /// running at A (booth's freeze: nothing stopped, nothing started).
    func testLossPoliciesFenceAndFreezeInACutOffSite() {
        for loss in [TicketLoss.fence, .freeze] {
            let sim = TicketExperiments.sites(seed: 6, loss: loss)
            sim.schedule(.ticket(on: n1, .grant("t1")), at: .seconds(2))
            sim.run(until: .seconds(4))
            XCTAssertEqual(sim.resourceActive["db"], [n1], "\(loss)")
            var fencedAt: Instant?
            sim.observer = { t, _, n in
                if case let .fence(.finished(target, _, result, _, _)) = n, target.node == self.n1, result.isSuccess, fencedAt == nil { fencedAt = t }
            }
            let cut = sim.now
            for id in TicketExperiments.siteA { sim.schedule(.arbiterCut(id, true), at: cut) }
            if loss == .fence { sim.schedule(.ticket(on: n3, .grant("t1")), at: cut + .seconds(6)) }
            sim.run(until: cut + .seconds(9))
            XCTAssertFalse(sim.node(NodeID(2))?.ticketStatus(at: sim.now).first?.usable ?? true, "\(loss): site A may not use it")
            if loss == .fence {
                let f = fencedAt ?? .seconds(1_000)
                XCTAssertLessThan(f - cut, .seconds(5), "db's node fenced before the 5 s lease could expire")
                XCTAssertEqual(sim.resourceActive["db"], [n3], "site B runs db after")
            } else {
                XCTAssertNil(fencedAt, "freeze fences nobody")
                XCTAssertEqual(sim.resourceActive["db"], [n1], "freeze: db left running at A")
            }
            XCTAssertTrue(sim.violations.isEmpty, "\(loss): \(sim.violations.prefix(3))")
        }
    }

    /// The planted bug: a revoked ticket released at once, before its site stopped db.
    func testPlantedBugReleaseBeforeTheStopEndedIsFound() {
        let sim = TicketExperiments.sites(seed: 5, ttl: .seconds(10), releaseGate: false)
        sim.stopTakes["db"] = .seconds(3)
        sim.schedule(.ticket(on: n1, .grant("t1")), at: .seconds(2))
        sim.run(until: .seconds(4))
        XCTAssertEqual(sim.resourceActive["db"], [n1])
        for ms in stride(from: 200, through: 5_000, by: 200) { sim.schedule(.ticket(on: n3, .grant("t1")), at: sim.now + .ms(Int64(ms))) }
        sim.schedule(.ticket(on: n1, .revoke("t1")), at: sim.now)
        sim.run(until: sim.now + .seconds(7))
        print("planted bug (released at once): \(sim.violations.first.map { "\($0)" } ?? "none")")
        XCTAssertTrue(sim.violations.contains { $0.rule == .doubleActive }, "a ticket released while its site still stopped db went unnoticed")
    }

    func testPlantedBugStopMarginShorterThanTheStopIsFound() {
        let r = TicketExperiments.sweep(seeds: 1..<11, stopMargin: .zero, stopTakes: .seconds(3))
        print("planted bug: \(r.failures.count) of \(r.runs) seeds fail, first: \(r.failures.first.map { "seed \($0.seed) \($0.violations[0])" } ?? "none")")
        XCTAssertTrue(r.failures.contains { $0.violations.contains { $0.rule == .doubleActive } },
                      "a site still stopping db when its lease expired went unnoticed")
    }
}
