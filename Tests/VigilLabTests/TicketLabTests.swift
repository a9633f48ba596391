import Foundation
import Glibc
import VigilStatus
import XCTest

/// Site tickets with real daemons: two two-node Vigil clusters ("sites", cluster ids 7 and 8),
/// each in its own lab, sharing one etcd cluster (Debian's etcd-server, three members in the
/// first lab's namespaces). Ticket t1 binds `svc` (Debian's Dummy) at both sites.
final class TicketLabTests: XCTestCase {
    static let ticket = DummyResources.section("svc", on: 1) + """
        [[ticket]]
        name = "t1"
        resources = ["svc"]
        stop_margin = "1s"

        """

    private func sites() throws -> (Lab, Lab) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd") else {
            throw XCTSkip("etcd missing: apt-get install etcd-server etcd-client")
        }
        try DummyResources.require()
        let a = try Lab(nodes: 2, extra: ["--arbiter"], fenceConfig: Self.ticket, self)
        let b = try Lab(nodes: 2, extra: ["--arbiter-of", a.name, "--cluster-id", "8"], fenceConfig: Self.ticket, self)
        return (a, b)
    }

    private func runsAt(_ lab: Lab) -> Bool {
        (try? lab.status(1).resources?.first { $0.id == "svc" }?.activeOn) == ["n1"]
            && FileManager.default.fileExists(atPath: "\(lab.dir)/n1/svc.state")
    }

    private func eventTime(_ lab: Lab, _ node: Int, after seq: UInt64, _ match: (ClusterEvent) -> Bool) -> Date? {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return lab.ctl(node, "events").output.split(separator: "\n")
            .compactMap { try? JSONDecoder().decode(ClusterEvent.self, from: Data($0.utf8)) }
            .first { $0.seq > seq && match($0) }.flatMap { iso.date(from: $0.time) }
    }

    /// Retries the grant at `lab` until etcd lets it (the other site released it, or its lease expired).
    private func grant(_ lab: Lab, within seconds: Double) -> Bool {
        Lab.waitUntil(within: seconds) { lab.ctl(1, "ticket", "grant", "t1").status == 0 }
    }

    func testTicketMovesBetweenSitesAndACutOffSiteStopsFirst() throws {
        let (a, b) = try sites()
        XCTAssertEqual(a.ctl(1, "ticket", "grant", "t1").status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 15) { self.runsAt(a) }, "svc runs at site A")
        XCTAssertFalse(runsAt(b))
        let held = b.ctl(1, "ticket", "grant", "t1")
        XCTAssertNotEqual(held.status, 0, "site B cannot take a ticket site A holds")
        XCTAssertTrue(held.output.contains("held by site 7"), held.output)
        XCTAssertTrue(b.ctl(1, "ticket", "list").output.contains("held by site 7"))

        // Revoked at A: svc stops there, then A releases the ticket (its lease need not expire); B grants it.
        let (seqA, seqB) = (a.lastSeq(1), b.lastSeq(1))
        let revokedAt = Date()
        XCTAssertEqual(a.ctl(1, "ticket", "revoke", "t1").status, 0)
        XCTAssertTrue(grant(b, within: 15), "site B took the ticket")
        XCTAssertTrue(Lab.waitUntil(within: 15) { self.runsAt(b) }, "svc runs at site B")
        XCTAssertFalse(runsAt(a))
        let stoppedA = try XCTUnwrap(eventTime(a, 1, after: seqA) { $0.type == .resourceState && $0.resource == "svc" && $0.state == "stopped" })
        let startedB = try XCTUnwrap(eventTime(b, 1, after: seqB) { $0.type == .resourceState && $0.resource == "svc" && $0.state == "running" })
        XCTAssertLessThan(stoppedA, startedB)
        let logA = try String(contentsOfFile: "\(a.dir)/n1/vigild.log", encoding: .utf8)
        XCTAssertTrue(logA.contains("ticket t1: released"), "site A released the revoked ticket once svc stopped")
        print("revoke at A -> svc running at B: \(Int(startedB.timeIntervalSince(revokedAt) * 1000)) ms")

        // Site B cut off from etcd: it stops svc before its lease can expire; A takes the ticket after.
        let (seqA2, seqB2) = (a.lastSeq(1), b.lastSeq(1))
        let cutAt = Date()
        b.lab("arbiter-cut", "1")
        b.lab("arbiter-cut", "2")
        XCTAssertTrue(grant(a, within: 20), "site A took the ticket back")
        XCTAssertTrue(Lab.waitUntil(within: 15) { self.runsAt(a) }, "svc runs at site A again")
        let stoppedB = try XCTUnwrap(eventTime(b, 1, after: seqB2) { $0.type == .resourceState && $0.resource == "svc" && $0.state == "stopped" })
        let startedA = try XCTUnwrap(eventTime(a, 1, after: seqA2) { $0.type == .resourceState && $0.resource == "svc" && $0.state == "running" })
        XCTAssertLessThan(stoppedB, startedA, "the cut-off site stopped svc before the other started it")
        XCTAssertGreaterThan(startedA.timeIntervalSince(cutAt), 2, "site A waited for site B's lease to expire")
        print("site B cut off: svc stopped there after \(Int(stoppedB.timeIntervalSince(cutAt) * 1000)) ms, running at A after \(Int(startedA.timeIntervalSince(cutAt) * 1000)) ms")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(b.dir)/n1/svc.state"))
    }
}
