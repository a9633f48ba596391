import Foundation
import Glibc
import VigilStatus
import XCTest

/// The external vote with real daemons and a real etcd cluster (Debian's etcd-server: three
/// members in the lab's own namespaces, on a network of their own): a two-node cluster split,
/// etcd stopped, the holder cut off from everything. As root (network namespaces).
final class ArbiterLabTests: XCTestCase {
    private func arbiterLab() throws -> Lab {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd") else {
            throw XCTSkip("etcd missing: apt-get install etcd-server etcd-client")
        }
        try DummyResources.require()
        let lab = try Lab(nodes: 2, extra: ["--arbiter"], fenceConfig: DummyResources.section("svc", on: 1), self)
        XCTAssertTrue(DummyResources.running(lab, "svc", on: 1), "svc runs on n1")
        XCTAssertTrue(Lab.waitUntil(within: 10) { self.arbiter(lab, 1)?.counted == true && self.arbiter(lab, 2)?.counted == true },
                      "both count the arbiter's vote")
        return lab
    }

    private func arbiter(_ lab: Lab, _ n: Int) -> StatusSnapshot.Arbiter? { try? lab.status(n).arbiter }

    private func events(_ lab: Lab, _ n: Int) -> [ClusterEvent] {
        lab.ctl(n, "events").output.split(separator: "\n").compactMap { try? JSONDecoder().decode(ClusterEvent.self, from: Data($0.utf8)) }
    }

    /// The holder's side keeps quorum and ends with the service; the other side loses quorum and
    /// is fenced: one fence, no race, no delay. (Whichever node took the vote first holds it: a
    /// node that booted alone a moment earlier may.)
    func testSplitTheHolderKeepsTheServiceWithoutARace() throws {
        let lab = try arbiterLab()
        let holder = try XCTUnwrap(arbiter(lab, 1)?.holder?.id)
        let other = 3 - holder
        let seq = lab.lastSeq(holder)
        lab.lab("cut", "\(other)")
        let result = lab.event(holder, within: 20, after: seq) { $0.type == .fenceResult && $0.peer == "n\(other)" }
        XCTAssertEqual(result?.result, "success")
        XCTAssertEqual(result?.executor, "n\(holder)")
        let scheduled = events(lab, holder).last { $0.type == .fenceScheduled && $0.peer == "n\(other)" }
        XCTAssertEqual(scheduled?.delayMs, 0, "no fence delay is needed")
        XCTAssertEqual(lab.lab("power", "\(holder)", "status").status, 0, "the holder is on")
        XCTAssertEqual(lab.lab("power", "\(other)", "status").status, 2, "the other node is off")
        XCTAssertTrue(try lab.status(holder).quorum.quorate)
        XCTAssertTrue(Lab.waitUntil(within: 15) { (try? lab.status(holder).resources?.first { $0.id == "svc" }?.activeOn) == ["n\(holder)"] },
                      "the service runs on the holder")
        XCTAssertFalse(events(lab, holder).contains { $0.type == .quorum && $0.seq > seq }, "the holder never lost quorum")
    }

    /// etcd with TLS and client certificates (`tools/lab up --arbiter-tls`: a private CA, etcd with
    /// --client-cert-auth; [arbiter] ca_file, cert_file, key_file): both nodes count the vote over
    /// https, and the same etcd refuses a client without a certificate of that CA.
    func testTLSWithClientCertificates() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd"), FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw XCTSkip("etcd or openssl missing: apt-get install etcd-server etcd-client openssl")
        }
        let lab = try Lab(nodes: 2, extra: ["--arbiter-tls"], self)
        let conf = try String(contentsOfFile: "\(lab.dir)/lab.conf", encoding: .utf8)
        XCTAssertTrue(conf.contains("\"https://198.18.5.201:2379\"") && conf.contains("cert_file = "), conf)
        XCTAssertTrue(Lab.waitUntil(within: 15) { [1, 2].allSatisfy { self.arbiter(lab, $0).map { $0.reachable && $0.counted } ?? false } },
                      "both count the vote over TLS: \(String(describing: arbiter(lab, 1)))")
        let tls = "\(lab.dir)/etcd-tls"
        func get(_ auth: String...) -> Int32 {
            Lab.run(["exec", "1", "etcdctl", "--endpoints=https://198.18.5.201:2379", "--cacert=\(tls)/ca.crt",
                     "--dial-timeout=2s", "--command-timeout=2s"] + auth + ["get", "--prefix", "/vigil"], lab: lab.name).status
        }
        XCTAssertEqual(get("--cert=\(tls)/client.crt", "--key=\(tls)/client.key"), 0, "a client with the lab's certificate is served")
        XCTAssertNotEqual(get(), 0, "a client without a certificate is refused")
    }

    /// Heuristics with a real command (`tools/lab up --arbiter-heuristics`: ping the lab's gateway on
    /// link 0): the holder's daemon dies while the other node's link 0 is cut (membership holds on
    /// link 1, its ping fails); the other node does not take the free vote, so it stays inquorate
    /// and fences nobody. Link 0 back, its ping passes: it takes the vote and fences the holder.
    func testFailingHeuristicsKeepANodeFromTakingTheVote() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd"), FileManager.default.isExecutableFile(atPath: "/usr/bin/ping") else {
            throw XCTSkip("etcd or ping missing: apt-get install etcd-server etcd-client iputils-ping")
        }
        let lab = try Lab(nodes: 2, extra: ["--arbiter-heuristics"], self)
        XCTAssertTrue(Lab.waitUntil(within: 15) { [1, 2].allSatisfy { self.arbiter(lab, $0).map { $0.counted && $0.heuristicsPass } ?? false } },
                      "both count the vote, both pass their heuristics: \(String(describing: arbiter(lab, 1)))")
        let h = try XCTUnwrap(arbiter(lab, 1)?.holder?.id), o = 3 - h
        lab.lab("cut", "\(o)", "0")
        XCTAssertTrue(Lab.waitUntil(within: 10) { self.arbiter(lab, o)?.heuristicsPass == false }, "n\(o)'s ping of the gateway fails")
        XCTAssertEqual(try lab.status(o).view?.members.count, 2, "one link cut is no membership change")
        let seq = lab.lastSeq(o)
        lab.lab("kill", "\(h)")
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(o).quorum.quorate) == false }, "n\(o) alone, without the vote: inquorate")
        // The lease (3 s) expires; n\(o) must still not take the key: watched for twice the lease.
        XCTAssertFalse(Lab.waitUntil(within: 6) { self.arbiter(lab, o)?.holder?.id == o }, "n\(o) took the vote with failing heuristics")
        XCTAssertFalse(events(lab, o).contains { $0.seq > seq && $0.type == .fenceResult }, "an inquorate node fences nobody")
        lab.lab("heal", "\(o)")
        let fenced = lab.event(o, within: 20, after: seq) { $0.type == .fenceResult && $0.peer == "n\(h)" }
        XCTAssertEqual(fenced?.result, "success", "heuristics pass again: n\(o) takes the vote and fences n\(h)")
        XCTAssertEqual(arbiter(lab, o)?.holder?.id, o)
    }

    /// With both nodes up, etcd down costs nothing: both stay quorate (and say etcd is
    /// unreachable), the service stays; etcd back, the vote is counted again.
    func testEtcdDownWithBothNodesUpChangesNothing() throws {
        let lab = try arbiterLab()
        let seq = (lab.lastSeq(1), lab.lastSeq(2))
        XCTAssertEqual(lab.lab("etcd", "stop").status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 15) {
            [1, 2].allSatisfy { n in self.arbiter(lab, n).map { !$0.reachable && !$0.counted } ?? false }
        }, "both see etcd unreachable and stop counting its vote: \(String(describing: arbiter(lab, 1)))")
        for n in [1, 2] {
            let s = try lab.status(n)
            XCTAssertTrue(s.quorum.quorate, "n\(n) stays quorate")
            XCTAssertTrue(s.summaryLine.contains("etcd UNREACHABLE"), s.summaryLine)
        }
        XCTAssertFalse(events(lab, 1).contains { $0.type == .quorum && $0.seq > seq.0 })
        XCTAssertFalse(events(lab, 2).contains { $0.type == .quorum && $0.seq > seq.1 })
        XCTAssertEqual(try lab.status(2).resources?.first { $0.id == "svc" }?.activeOn, ["n1"])
        XCTAssertEqual(lab.lab("etcd", "start").status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 20) { self.arbiter(lab, 1)?.counted == true && self.arbiter(lab, 2)?.counted == true },
                      "the vote counts again once etcd is back")
        // Counted, and logged once each way (not at every failed request).
        XCTAssertGreaterThan(arbiter(lab, 1)?.failed ?? 0, 0)
        let log = try String(contentsOfFile: "\(lab.dir)/n1/vigild.log", encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "arbiter: etcd does not answer").count - 1, 1, "one line when etcd went away")
        XCTAssertEqual(log.components(separatedBy: "arbiter: etcd answers again").count - 1, 1)
    }

    /// The holder cut off from its peer and from etcd: it stops counting the vote before the lease
    /// can expire, loses quorum and stops the service; the other node takes the vote only after
    /// the lease expired, fences the holder, and then runs the service (whichever node holds it).
    func testHolderCutOffFromEverythingLosesToTheOtherAfterExpiry() throws {
        let lab = try arbiterLab()
        let h = try XCTUnwrap(arbiter(lab, 1)?.holder?.id), o = 3 - h
        let seq = lab.lastSeq(o)
        let cutAt = Date()
        lab.lab("cut", "\(h)")
        lab.lab("arbiter-cut", "\(h)")
        let fenced = lab.event(o, within: 30, after: seq) { $0.type == .fenceResult && $0.peer == "n\(h)" }
        XCTAssertEqual(fenced?.result, "success", "n\(o) fenced n\(h)")
        XCTAssertTrue(Lab.waitUntil(within: 20) { (try? lab.status(o).resources?.first { $0.id == "svc" }?.activeOn) == ["n\(o)"] },
                      "svc runs on n\(o)")
        let after = events(lab, o).filter { $0.seq > seq }
        let took = try XCTUnwrap(after.first { $0.type == .arbiterHolder && $0.peer == "n\(o)" }, "n\(o) took the vote")
        let gained = try XCTUnwrap(after.first { $0.type == .quorum && $0.quorate == true })
        // The holder's own record of losing quorum (its log: it is powered off now).
        let log = try String(contentsOfFile: "\(lab.dir)/n\(h)/vigild.log", encoding: .utf8)
        let lost = try XCTUnwrap(log.split(separator: "\n").last { $0.contains("quorum LOST") }, "n\(h) lost quorum")
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let lostAt = try XCTUnwrap(iso.date(from: String(lost.prefix(24))))
        let gainedAt = try XCTUnwrap(iso.date(from: gained.time))
        let tookAt = try XCTUnwrap(iso.date(from: took.time))
        print("cut -> n\(h) lost quorum \(Int(lostAt.timeIntervalSince(cutAt) * 1000)) ms, n\(o) took the vote "
              + "\(Int(tookAt.timeIntervalSince(cutAt) * 1000)) ms, fenced n\(h) and runs svc")
        XCTAssertLessThan(lostAt, gainedAt, "the cut-off holder stopped counting the vote before the other counted it")
        XCTAssertGreaterThan(tookAt.timeIntervalSince(cutAt), 2.0, "the other waited for the lease (3 s, renewed up to 0.5 s before the cut) to expire")
    }
}

extension ArbiterLabTests {
    /// The holder stops cleanly (SIGTERM): it hands the vote to the other node before its goodbye,
    /// so that node keeps quorum throughout, fences no one, and runs the service. (Whichever node
    /// holds the vote: one that booted alone a moment first may.)
    func testGracefulStopOfTheHolderHandsTheVoteOver() throws {
        let lab = try arbiterLab()
        let holder = try XCTUnwrap(arbiter(lab, 1)?.holder?.id)
        let other = 3 - holder
        let seq = lab.lastSeq(other)
        XCTAssertEqual(lab.lab("stop", "\(holder)").status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 20) { (try? lab.status(other).resources?.first { $0.id == "svc" }?.activeOn) == ["n\(other)"] },
                      "svc runs on n\(other)")
        XCTAssertEqual(arbiter(lab, other)?.holder?.name, "n\(other)")
        XCTAssertEqual(arbiter(lab, other)?.counted, true)
        let after = events(lab, other).filter { $0.seq > seq }
        XCTAssertFalse(after.contains { $0.type == .quorum }, "n\(other) never lost quorum: \(after.filter { $0.type == .quorum })")
        XCTAssertFalse(after.contains { $0.type == .fencePending || $0.type == .fenceResult }, "no fencing")
    }
}
