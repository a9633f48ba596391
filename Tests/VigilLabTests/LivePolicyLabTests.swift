import Foundation
import Glibc
import VigilStatus
import XCTest

/// Resources changed live on real daemons (issue 14's first slice): the lab's one config file
/// edited and every node reloaded. Added resources start, a changed parameter restarts only that
/// resource, a removed one stops; the others' agents are never touched (their state files keep
/// their inode and time: Debian's Dummy creates the file on start and removes it on stop). A file that
/// does not validate changes nothing.
final class LivePolicyLabTests: XCTestCase {
    private func dummy(_ id: String, on node: Int, _ extra: String = "") -> String { DummyResources.section(id, on: node, extra) }
    private func inode(_ path: String) -> String? { DummyResources.inode(path) }
    private func running(_ lab: Lab, _ id: String, on node: Int) -> Bool { DummyResources.running(lab, id, on: node) }

    private func reloadAll(_ lab: Lab) {
        for n in 1...3 { XCTAssertEqual(lab.ctl(n, "reload").status, 0) }
    }

    func testResourcesAddedChangedAndRemovedLive() throws {
        try DummyResources.require()
        let lab = try Lab(fenceConfig: dummy("a", on: 1) + dummy("b", on: 2), self)
        let conf = lab.dir + "/lab.conf"
        let original = try String(contentsOfFile: conf, encoding: .utf8)
        XCTAssertTrue(running(lab, "a", on: 1) && running(lab, "b", on: 2), (try? lab.status(1).humanTable) ?? "")
        let a = inode("\(lab.dir)/n1/a.state"), b = inode("\(lab.dir)/n2/b.state")

        // Added: c starts on n3 once every node has reloaded; a and b are not touched.
        let seq = lab.lastSeq(1)
        let withC = original + dummy("c", on: 3).replacingOccurrences(of: "{DIR}", with: lab.dir)
        try withC.write(toFile: conf, atomically: true, encoding: .utf8)
        reloadAll(lab)
        XCTAssertTrue(running(lab, "c", on: 3), (try? lab.status(1).humanTable) ?? "")
        XCTAssertNotNil(lab.event(3, within: 5, after: 0) { $0.type == .resourcePolicy && ($0.detail ?? "").contains("added c") })
        XCTAssertEqual(inode("\(lab.dir)/n1/a.state"), a, "a was not restarted")
        XCTAssertEqual(inode("\(lab.dir)/n2/b.state"), b, "b was not restarted")
        XCTAssertNil(lab.event(1, within: 0.5, after: seq) { $0.type == .resourceCommand && ($0.resource == "a" || $0.resource == "b") })
        let c = inode("\(lab.dir)/n3/c.state")

        // A parameter of b changed (Dummy's reloadable "fake"): b restarts in place, a and c stay.
        let seq2 = lab.lastSeq(2)
        let changed = withC.replacingOccurrences(of: "\(lab.dir)/%n/b.state\"]", with: "\(lab.dir)/%n/b.state\", \"fake=2\"]")
        XCTAssertNotEqual(changed, withC)
        try changed.write(toFile: conf, atomically: true, encoding: .utf8)
        reloadAll(lab)
        XCTAssertNotNil(lab.event(2, within: 20, after: seq2) { $0.type == .resourceState && $0.resource == "b" && $0.state == "running" },
                        "b restarted")
        XCTAssertTrue(running(lab, "b", on: 2))
        XCTAssertNotEqual(inode("\(lab.dir)/n2/b.state"), b, "b's agent started it again")
        XCTAssertEqual(inode("\(lab.dir)/n1/a.state"), a, "a was not restarted")
        XCTAssertEqual(inode("\(lab.dir)/n3/c.state"), c, "c was not restarted")

        // Removed: a stops and is gone from status; b and c stay.
        let b2 = inode("\(lab.dir)/n2/b.state")
        let withoutA = changed.replacingOccurrences(of: dummy("a", on: 1).replacingOccurrences(of: "{DIR}", with: lab.dir), with: "\n")
        XCTAssertNotEqual(withoutA, changed)
        try withoutA.write(toFile: conf, atomically: true, encoding: .utf8)
        reloadAll(lab)
        XCTAssertTrue(Lab.waitUntil(within: 20) {
            !FileManager.default.fileExists(atPath: "\(lab.dir)/n1/a.state") && (try? lab.status(1).resources?.map(\.id).sorted()) == ["b", "c"]
        }, (try? lab.status(1).humanTable) ?? "")
        XCTAssertEqual(inode("\(lab.dir)/n2/b.state"), b2)
        XCTAssertEqual(inode("\(lab.dir)/n3/c.state"), c)

        // A bad file: the check names file:line, and a reload of it changes nothing.
        try (withoutA + "\n[[resource]]\nid = \"d\"\nagent = \"ocf:heartbeat:Dummy\"\nprefer = [\"n9:100\"]\n")
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let check = Spawn.run([Lab.bin + "/vigild", "--check-config", "--config", conf])
        XCTAssertNotEqual(check.status, 0)
        XCTAssertTrue(check.output.contains("lab.conf:"), check.output)
        let seq3 = lab.lastSeq(1)
        reloadAll(lab)
        XCTAssertNil(lab.event(1, within: 2, after: seq3) { $0.type == .resourcePolicy })
        XCTAssertEqual(try lab.status(1).resources?.map(\.id).sorted(), ["b", "c"])
        try withoutA.write(toFile: conf, atomically: true, encoding: .utf8)
    }
}
