import Foundation
import Glibc
import VigilStatus
import XCTest

/// The replicated document on real daemons (issue 14): `vigilctl config export`, edit,
/// `vigilctl config apply` on any node, and every member runs the new version; added resources
/// start, a changed parameter restarts only that resource, a removed one stops, the others' agents
/// are never touched (Debian's Dummy: its state file keeps its inode and time). A bad file is
/// refused at file:line; a node that was off takes the new version when it starts; a node started
/// with an older document yields, and says so.
final class DocumentLabTests: XCTestCase {
    private func dummy(_ id: String, on node: Int, _ extra: String = "") -> String { DummyResources.section(id, on: node, extra) }
    private func inode(_ path: String) -> String? { DummyResources.inode(path) }
    private func running(_ lab: Lab, _ id: String, on node: Int) -> Bool { DummyResources.running(lab, id, on: node) }

    private func version(_ lab: Lab, _ n: Int) -> String? { try? lab.status(n).document?.version }

    func testApplyExportedChangesOnAnyNodeAndAnOffNodeCatchesUp() throws {
        try DummyResources.require()
        let lab = try Lab(fenceConfig: dummy("a", on: 1) + dummy("b", on: 2), self)
        XCTAssertTrue(running(lab, "a", on: 1) && running(lab, "b", on: 2), (try? lab.status(1).humanTable) ?? "")
        XCTAssertEqual(version(lab, 1), "1.0", "seeded from the file")
        let a = inode("\(lab.dir)/n1/a.state"), b = inode("\(lab.dir)/n2/b.state")

        // Exported: the sections the cluster decides, not the node's own.
        let file = lab.dir + "/cluster.conf"
        XCTAssertEqual(lab.ctl(1, "config", "export", file).status, 0)
        let exported = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(exported.contains("[[resource]]") && exported.contains("[[node]]"), exported)
        XCTAssertFalse(exported.contains("[cluster]") || exported.contains("[[link]]"), exported)

        // n3 is off while the cluster changes.
        XCTAssertEqual(lab.lab("stop", "3").status, 0)

        // Added on n2: c starts; a and b are not touched.
        let withC = exported + dummy("c", on: 2).replacingOccurrences(of: "{DIR}", with: lab.dir)
        try withC.write(toFile: file, atomically: true, encoding: .utf8)
        let dry = lab.ctl(2, "config", "apply", "--dry-run", file)
        XCTAssertEqual(dry.status, 0, dry.output)
        XCTAssertTrue(dry.output.contains("c") && dry.output.contains("start"), dry.output)
        XCTAssertTrue(dry.output.contains("c: not configured -> on n2"), "the placement preview: " + dry.output)
        XCTAssertEqual(version(lab, 1), "1.0", "a dry run changes nothing")
        let applied = lab.ctl(2, "config", "apply", file)
        XCTAssertEqual(applied.status, 0, applied.output)
        XCTAssertTrue(applied.output.contains("applied document 1.1"), applied.output)
        XCTAssertEqual(version(lab, 1), "1.1")
        XCTAssertTrue(running(lab, "c", on: 2), (try? lab.status(1).humanTable) ?? "")
        XCTAssertEqual(inode("\(lab.dir)/n1/a.state"), a, "a was not restarted")
        XCTAssertEqual(inode("\(lab.dir)/n2/b.state"), b, "b was not restarted")
        let c = inode("\(lab.dir)/n2/c.state")

        // A parameter of b changed, applied on n1: b restarts in place, a and c stay.
        let seq = lab.lastSeq(2)
        let changed = withC.replacingOccurrences(of: "\(lab.dir)/%n/b.state\"]", with: "\(lab.dir)/%n/b.state\", \"fake=2\"]")
        XCTAssertNotEqual(changed, withC)
        try changed.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(lab.ctl(1, "config", "apply", file).status, 0)
        XCTAssertNotNil(lab.event(2, within: 20, after: seq) { $0.type == .resourceState && $0.resource == "b" && $0.state == "running" })
        XCTAssertTrue(running(lab, "b", on: 2))
        XCTAssertNotEqual(inode("\(lab.dir)/n2/b.state"), b, "b's agent started it again")
        XCTAssertEqual(inode("\(lab.dir)/n1/a.state"), a)
        XCTAssertEqual(inode("\(lab.dir)/n2/c.state"), c)

        // Removed: a stops and is gone.
        let withoutA = changed.replacingOccurrences(of: dummy("a", on: 1).replacingOccurrences(of: "{DIR}", with: lab.dir), with: "\n")
        XCTAssertNotEqual(withoutA, changed)
        try withoutA.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(lab.ctl(1, "config", "apply", file).status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 20) {
            !FileManager.default.fileExists(atPath: "\(lab.dir)/n1/a.state") && (try? lab.status(1).resources?.map(\.id).sorted()) == ["b", "c"]
        }, (try? lab.status(1).humanTable) ?? "")
        XCTAssertEqual(version(lab, 2), "1.3")

        // A bad file: refused at file:line, nothing changes.
        let bad = withoutA + "\n[[resource]]\nid = \"d\"\nagent = \"ocf:heartbeat:Dummy\"\nprefer = [\"n9:100\"]\n"
        try bad.write(toFile: file, atomically: true, encoding: .utf8)
        let line = bad.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("prefer = [\"n9") }! + 1
        let refused = lab.ctl(1, "config", "apply", file)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("\(file):\(line)"), refused.output)
        XCTAssertEqual(version(lab, 1), "1.3")

        // n3 starts again with the document it saved (1.0) and takes 1.3 from the others.
        let seq3 = lab.lastSeq(1)
        XCTAssertEqual(lab.lab("start", "3").status, 0)
        // `tools/lab start` returns once the PID is known; the events are there once n3 answers.
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(3)) != nil })
        let taken = lab.event(3, within: 20) { $0.type == .documentRunning && $0.peer != nil }
        XCTAssertTrue(taken?.detail?.contains("running document 1.3") == true && taken?.detail?.contains("was 1.0") == true,
                      String(describing: taken))
        XCTAssertTrue(Lab.waitUntil(within: 10) { self.version(lab, 3) == "1.3" })
        XCTAssertEqual(try lab.status(3).resources?.map(\.id).sorted(), ["b", "c"])
        XCTAssertNil(lab.event(1, within: 1, after: seq3) { $0.type == .resourceCommand && $0.resource == "b" && $0.state == "stop" })
        XCTAssertEqual(inode("\(lab.dir)/n2/c.state"), c, "n3's return moved nothing")
    }

    /// n3 started from a file whose resources differ, with no saved document: its copy (1.0) is
    /// older than the cluster's (1.1) and yields; its extra resource never starts anywhere.
    func testAnOlderDocumentYieldsAndSaysSo() throws {
        try DummyResources.require()
        let lab = try Lab(fenceConfig: dummy("a", on: 1), self)
        XCTAssertTrue(running(lab, "a", on: 1))
        let file = lab.dir + "/cluster.conf"
        XCTAssertEqual(lab.ctl(1, "config", "export", file).status, 0)
        let exported = try String(contentsOfFile: file, encoding: .utf8)
        try (exported + dummy("x", on: 2).replacingOccurrences(of: "{DIR}", with: lab.dir)).write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(lab.ctl(1, "config", "apply", file).status, 0)
        XCTAssertTrue(running(lab, "x", on: 2))

        XCTAssertEqual(lab.lab("stop", "3").status, 0)
        try FileManager.default.removeItem(atPath: lab.dir + "/n3/document.conf")
        let conf = lab.dir + "/lab.conf"
        let original = try String(contentsOfFile: conf, encoding: .utf8)
        try (original + dummy("y", on: 3).replacingOccurrences(of: "{DIR}", with: lab.dir)).write(toFile: conf, atomically: true, encoding: .utf8)
        let started = lab.lab("start", "3")
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(3)) != nil })
        try original.write(toFile: conf, atomically: true, encoding: .utf8)
        XCTAssertEqual(started.status, 0, started.output)
        let yielded = lab.event(3, within: 20) { $0.type == .documentRunning && $0.peer != nil }
        XCTAssertTrue(yielded?.detail?.contains("running document 1.1") == true && yielded?.detail?.contains("was 1.0") == true,
                      String(describing: yielded))
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(3).resources?.map(\.id).sorted()) == ["a", "x"] })
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(lab.dir)/n3/y.state"), "y never started")
        XCTAssertEqual(version(lab, 1), "1.1", "the older copy changed nothing")
    }
}

/// Nodes removed and added through the document on real daemons: a running n4 taken out of the
/// document stops its resources and leaves (no fencing), the others count three votes; put back,
/// n4 starts again and joins with four.
final class DocumentNodesLabTests: XCTestCase {
    func testAFourthNodeRemovedAndAddedLive() throws {
        try DummyResources.require()
        let lab = try Lab(nodes: 4, fenceConfig: DummyResources.section("web", on: 4), self)
        XCTAssertTrue(DummyResources.running(lab, "web", on: 4), (try? lab.status(1).humanTable) ?? "")
        XCTAssertEqual(try lab.status(1).quorum.expectedVotes, 4)
        let file = lab.dir + "/cluster.conf"
        XCTAssertEqual(lab.ctl(1, "config", "export", file).status, 0)
        let all = try String(contentsOfFile: file, encoding: .utf8)
        let n4 = try XCTUnwrap(all.range(of: "[[node]]\nid = 4\n"))
        let end = all[n4.upperBound...].range(of: "\n[")?.lowerBound ?? all.endIndex
        // Its [[node]], its plug in the lab's fence device and web's preference (the check refuses
        // a name of an unknown node, at FILE:line).
        let three = all.replacingCharacters(in: n4.lowerBound..<end, with: "").replacingOccurrences(of: ", \"n4:4\"", with: "")
            .replacingOccurrences(of: "\"n4:200\"", with: "\"n3:200\"")
        XCTAssertFalse(three.contains("n4"), three)

        // Removed while running: web stops there and runs elsewhere; n4 leaves; nobody fences it.
        let seq = lab.lastSeq(1)
        try three.write(toFile: file, atomically: true, encoding: .utf8)
        let removed = lab.ctl(1, "config", "apply", file)
        XCTAssertEqual(removed.status, 0, removed.output)
        XCTAssertTrue(Lab.waitUntil(within: 20) {
            (try? lab.status(1).view?.members.count) == 3 && (try? lab.status(4)) == nil
        }, (try? lab.status(1).humanTable) ?? "")
        XCTAssertEqual(try lab.status(1).quorum.expectedVotes, 3)
        XCTAssertEqual(try lab.status(2).nodes.count, 3)
        XCTAssertTrue(DummyResources.running(lab, "web", on: 3))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(lab.dir)/n4/web.state"), "web was stopped on n4")
        XCTAssertNotNil(lab.event(1, within: 1, after: seq) { $0.type == .nodesChanged && ($0.detail ?? "").contains("removed n4") })
        XCTAssertNil(lab.event(1, within: 1, after: seq) { $0.type == .fencePending })

        // Added back: quorum counts four votes at once; n4 starts and joins, web comes back to it.
        try all.write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(lab.ctl(2, "config", "apply", file).status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(3).quorum.expectedVotes) == 4 })
        XCTAssertEqual(try lab.status(3).quorum.quorate, true, "3 of 4 votes")
        XCTAssertEqual(lab.lab("start", "4").status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 20) { (try? lab.status(1).view?.members.count) == 4 }, (try? lab.status(1).humanTable) ?? "")
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(4).document?.version) == (try? lab.status(1).document?.version) })
        XCTAssertTrue(DummyResources.running(lab, "web", on: 4), (try? lab.status(1).humanTable) ?? "")
    }
}
