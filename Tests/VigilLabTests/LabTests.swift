import Foundation
import VigilStatus
import XCTest

/// Real vigild processes in network namespaces (tools/lab), as root.
final class LabTests: XCTestCase {
    func formsOneView(_ mode: String) throws {
        let lab = try Lab(nodes: 3, mode: mode, self)  // `up` itself waits until all three agree
        let views = try (1...3).map { try lab.status($0) }
        XCTAssertEqual(Set(views.map { $0.view?.epoch }).count, 1, "one view")
        for s in views {
            XCTAssertEqual(s.view?.members.map(\.name), ["n1", "n2", "n3"])
            XCTAssertTrue(s.quorum.quorate)
            XCTAssertTrue(s.ready)
            XCTAssertEqual(s.links.map(\.peersUp), [2, 2], "both links up to both peers")
        }
        XCTAssertEqual(lab.ctl(1, "check").status, 0)
    }

    func testThreeNodesFormOneViewOverMulticast() throws { try formsOneView("multicast") }
    func testThreeNodesFormOneViewOverUnicast() throws { try formsOneView("unicast") }

    func testOneLinkCutIsALinkEventNotAMembershipChange() throws {
        let lab = try Lab(self)
        let epoch = try lab.status(1).view?.epoch
        let seqs = (1...3).map { lab.lastSeq($0) }
        let seq = seqs[0]
        lab.lab("cut", "3", "1")
        let down = lab.event(1, after: seq) { $0.type == .linkDown && $0.peer == "n3" && $0.link == "ring1" }
        XCTAssertNotNil(down, "link_down for n3/ring1 on n1")
        let check = lab.ctl(1, "check")
        XCTAssertEqual(check.status, 1, check.output)
        XCTAssertTrue(check.output.contains("WARNING"), check.output)
        lab.lab("heal", "3", "1")
        XCTAssertNotNil(lab.event(1, after: seq) { $0.type == .linkUp && $0.peer == "n3" && $0.link == "ring1" })
        // No membership change happened on any node from the cut on.
        for n in 1...3 {
            XCTAssertNil(lab.event(n, within: 0.5, after: seqs[n - 1]) { $0.type == .peerDead || $0.type == .view })
        }
        XCTAssertEqual(try lab.status(2).view?.epoch, epoch)
    }

    func testNodeCutOffIsDroppedUncleanThenRejoinsWithNewIncarnation() throws {
        // Without fencing: the survivors keep n3 as needing a fence (FenceLabTests covers fencing).
        let lab = try Lab(extra: ["--no-fencing"], self)
        let before = try lab.status(3).node.incarnation
        let seqs = [lab.lastSeq(1), lab.lastSeq(2)]
        let seq = seqs[0]
        lab.lab("cut", "3")
        for n in [1, 2] {
            // Only views after the cut (n1 and n2 may have formed a view of two before n3 started).
            let v = lab.event(n, after: seqs[n - 1]) { $0.type == .view && $0.members == ["n1", "n2"] }
            XCTAssertEqual(v?.lostUncleanly, ["n3"], "n\(n) records n3 as lost uncleanly")
        }
        XCTAssertEqual(try lab.status(1).needsFencing.map(\.name), ["n3"])
        // Restart it (a new life) and reconnect: it rejoins.
        lab.lab("kill", "3")
        lab.lab("heal", "3")
        lab.lab("start", "3")
        let rejoin = lab.event(1, after: seq) { $0.type == .view && $0.members == ["n1", "n2", "n3"] }
        XCTAssertNotNil(rejoin)
        let after = try lab.status(1).nodes.first { $0.name == "n3" }?.incarnation
        XCTAssertNotNil(after)
        XCTAssertGreaterThan(after ?? 0, before ?? .max, "new incarnation")
    }

    func testSigtermIsACleanLeave() throws {
        let lab = try Lab(self)
        let seq = lab.lastSeq(1)
        XCTAssertEqual(lab.lab("stop", "2").status, 0)
        let v = lab.event(1, after: seq) { $0.type == .view && $0.members == ["n1", "n3"] }
        XCTAssertEqual(v?.leftCleanly, ["n2"])
        XCTAssertEqual(v?.lostUncleanly, [])
        XCTAssertEqual(try lab.status(1).needsFencing.count, 0)
    }

    /// n3 started from a config file whose own part differs (its timing): every member names it
    /// (event, status, metric) and says where; once n3 runs the same file again, they agree.
    func testADifferingConfigFileIsNamedOnEveryMember() throws {
        let lab = try Lab(self)
        let conf = lab.dir + "/lab.conf"
        let original = try String(contentsOfFile: conf, encoding: .utf8)
        XCTAssertNil(try lab.status(1).configDiffers)
        XCTAssertEqual(lab.lab("stop", "3").status, 0)
        let seq = lab.lastSeq(1)
        // A node's own part (its timing): the replicated part is one document (DocumentLabTests).
        let other = original.replacingOccurrences(of: "deadline = \"40ms\"", with: "deadline = \"50ms\"")
        XCTAssertNotEqual(other, original)
        try other.write(toFile: conf, atomically: true, encoding: .utf8)
        let started = lab.lab("start", "3")
        // `tools/lab start` returns once the PID is known; n3 has read its file once it answers.
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(3)) != nil })
        try original.write(toFile: conf, atomically: true, encoding: .utf8)
        XCTAssertEqual(started.status, 0, started.output)
        let differs = lab.event(1, within: 15, after: seq) { $0.type == .configDiffers && $0.peer == "n3" }
        XCTAssertTrue(differs?.detail?.contains("in timing") == true, String(describing: differs))
        XCTAssertEqual(try lab.status(1).configDiffers, ["n3": ["timing"]])
        XCTAssertEqual(try lab.status(3).configDiffers, ["n1": ["timing"], "n2": ["timing"]])
        XCTAssertTrue(try lab.status(2).humanTable.contains("CONFIG DIFFERS: n3's config file differs"))
        XCTAssertTrue(Lab.metrics(lab, 1).contains("vigil_config_differs 1"))
        XCTAssertEqual(try lab.status(1).view?.members.count, 3, "a differing file is reported, not a membership change")

        let seq2 = lab.lastSeq(1)
        XCTAssertEqual(lab.lab("stop", "3").status, 0)
        XCTAssertEqual(lab.lab("start", "3").status, 0)
        XCTAssertNotNil(lab.event(1, within: 15, after: seq2) { $0.type == .configAgrees && $0.peer == "n3" })
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(1).configDiffers) == nil })
    }

    /// A test process on the lab network sends forged, replayed, truncated and wrong-cluster
    /// frames: all dropped and counted in metrics; the view does not change.
    func testHostileFramesAreDroppedAndCounted() throws {
        let lab = try Lab(self)
        let epoch = try lab.status(3).view?.epoch
        let script = Lab.root.appendingPathComponent("Tests/VigilLabTests/attack.py").path
        let r = lab.lab("exec", "1", "python3", script, "239.192.0.1", "5405", "eth0")
        XCTAssertEqual(r.status, 0, r.output)
        let metrics = lab.lab("exec", "3", "python3", "-c",
                              "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:9465/metrics').read().decode())").output
        func count(_ reason: String) -> Int {
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("vigil_frames_rejected_total{reason=\"\(reason)\"}") }
            return Int(line?.split(separator: " ").last ?? "") ?? -1
        }
        for reason in ["truncated", "bad_magic", "wrong_cluster", "bad_tag", "replayed", "unknown_node"] {
            XCTAssertGreaterThan(count(reason), 0, "\(reason) counted: \(r.output)")
        }
        XCTAssertEqual(try lab.status(3).view?.epoch, epoch, "the view did not change")
        XCTAssertEqual(lab.ctl(3, "check").status, 0)
    }
}
