import Foundation
import VigilStatus
import XCTest

/// Node attributes on real daemons through `vigilctl attr`: a set reads back on every node as
/// soon as it returns; private ones stay out of status; dampened ones wait; transient ones go
/// with their node; permanent ones survive a restart of the whole cluster.
final class AttributeLabTests: XCTestCase {
    func get(_ lab: Lab, on n: Int, _ name: String, of node: String) -> String? {
        let r = lab.ctl(n, "attr", "get", name, "--node", node)
        return r.status == 0 ? r.output.trimmingCharacters(in: .newlines) : nil
    }

    func testSetGetPrivateDampenedTransientPermanent() throws {
        let lab = try Lab(extra: ["--no-fencing"], self)
        var r = lab.ctl(1, "attr", "set", "pingd", "1000")
        XCTAssertEqual(r.status, 0, r.output)
        // Returned once every member holds it: readable anywhere right away, no waiting.
        for n in 1...3 { XCTAssertEqual(get(lab, on: n, "pingd", of: "n1"), "1000", "on n\(n)") }

        r = lab.ctl(3, "attr", "set", "lsn", "0/3000060", "--private", "--node", "n2")
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(get(lab, on: 1, "lsn", of: "n2"), "0/3000060", "private: readable by name")
        let s = try lab.status(1)
        XCTAssertEqual(s.attributes?.entries, [.init(node: "n1", name: "pingd", value: "1000", lifetime: "reboot")])
        XCTAssertEqual(s.attributes?.privateCount, 1)
        XCTAssertFalse(lab.ctl(2, "attr", "list", "--json").output.contains("lsn"))
        XCTAssertTrue(lab.ctl(2, "status").output.contains("pingd"))

        r = lab.ctl(2, "attr", "set", "site", "east", "--lifetime", "forever", "--node", "n3")
        XCTAssertEqual(r.status, 0, r.output)
        r = lab.ctl(2, "attr", "set", "#health-disk", "red", "--delay", "1s")
        XCTAssertTrue(r.status == 0 && r.output.contains("held"), r.output)
        XCTAssertNil(get(lab, on: 1, "#health-disk", of: "n2"), "dampened: not applied yet")
        XCTAssertTrue(Lab.waitUntil(within: 5) { self.get(lab, on: 1, "#health-disk", of: "n2") == "red" })

        // Refusals name the reason; a missing attribute is exit 1.
        r = lab.ctl(1, "attr", "set", "x", "1", "--node", "n9")
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("no such node"), r.output)
        r = lab.ctl(1, "attr", "get", "nosuch")
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(Lab.metrics(lab, 1).contains("vigil_attributes 4"))

        // n1 goes: its transient pingd is cleared on the others; n3's permanent site stays.
        let seq = lab.lastSeq(2)
        lab.lab("kill", "1")
        XCTAssertNotNil(lab.event(2, within: 10, after: seq) { $0.type == .attributeCleared && $0.attribute == "pingd" && $0.peer == "n1" })
        XCTAssertNil(get(lab, on: 2, "pingd", of: "n1"))

        // The whole cluster restarts: the permanent attribute comes back from what each saved.
        for n in [2, 3] { lab.lab("kill", "\(n)") }
        for n in 1...3 { lab.lab("start", "\(n)") }
        XCTAssertTrue(Lab.waitUntil(within: 15) { (try? lab.status(1).view?.members.count) == 3 })
        for n in 1...3 { XCTAssertEqual(get(lab, on: n, "site", of: "n3"), "east", "on n\(n) after the restart") }
        XCTAssertNil(get(lab, on: 3, "pingd", of: "n1"), "transient: gone with the restart")
    }
}
