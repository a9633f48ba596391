import Foundation
import VigilStatus
import XCTest

/// Promotable clones on real daemons with Debian's unchanged ocf:pacemaker:Stateful: every
/// instance starts unpromoted and scores itself 5, the tie goes to the lowest id, whose promote
/// raises its score to 10; the monitors run per role (CRM_meta_role); a primary whose monitor
/// returns 9 (Stateful's test hook, `<state>.rc`) is demoted and recovered; cut off, the primary is
/// fenced and only then a standby promoted.
final class PromotableLabTests: XCTestCase {
    func info(_ lab: Lab, _ n: Int) -> StatusSnapshot.ResourceInfo? {
        (try? lab.status(n))?.resources?.first { $0.id == "stateful" }
    }

    func testStatefulRolesRecoveryAndFailover() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/pacemaker/Stateful") else {
            throw XCTSkip("pacemaker-resource-agents missing: apt-get install pacemaker-resource-agents")
        }
        let lab = try Lab(fenceConfig: """
            [[resource]]
            id = "stateful"
            agent = "ocf:pacemaker:Stateful"
            params = ["state={DIR}/%n/stateful.state", "envfile={DIR}/%n/stateful.env"]
            monitor_interval = "1s"
            promoted_monitor_interval = "900ms"
            [[clone]]
            id = "stateful-clone"
            of = "stateful"
            promotable = true
            notify = true
            """, self)
        XCTAssertTrue(Lab.waitUntil(within: 30) {
            let r = self.info(lab, 2)
            return r?.promotedOn == ["n1"] && r?.nodes == ["n1": "promoted", "n2": "running", "n3": "running"]
                && r?.scores == ["n1": "10", "n2": "5", "n3": "5"]
        }, "\(String(describing: info(lab, 2)))")
        let dir = lab.dir
        func n2Env() -> String { (try? String(contentsOfFile: "\(dir)/n2/stateful.env", encoding: .utf8)) ?? "" }
        XCTAssertTrue(Lab.waitUntil(within: 5) {
            ((try? String(contentsOfFile: "\(dir)/n1/stateful.env", encoding: .utf8)) ?? "").contains("OCF_RESKEY_CRM_meta_role=Promoted\n")
        }, "the promoted role's monitor ran with its role")
        let env = try String(contentsOfFile: "\(dir)/n1/stateful.env", encoding: .utf8)
        for line in ["OCF_RESKEY_CRM_meta_promotable=true", "OCF_RESKEY_CRM_meta_promoted_max=1", "OCF_RESKEY_CRM_meta_master_max=1",
                     "OCF_RESKEY_CRM_meta_promoted_node_max=1", "OCF_RESKEY_CRM_meta_name=promote", "OCF_RESKEY_CRM_meta_interval=900"] {
            XCTAssertTrue(env.contains(line + "\n"), "n1's agent saw \(line)")
        }
        XCTAssertTrue(Lab.waitUntil(within: 5) {
            ((try? String(contentsOfFile: "\(dir)/n2/stateful.env", encoding: .utf8)) ?? "").contains("OCF_RESKEY_CRM_meta_role=Unpromoted\n")
        }, "a standby's monitor runs as Unpromoted")
        XCTAssertFalse(try String(contentsOfFile: "\(dir)/n2/stateful.env", encoding: .utf8).contains("CRM_meta_name=promote\n"))
        // Notified around the promote, with Pacemaker's lists (and the legacy master/slave names;
        // active and slave are those when the transition began: empty if it began with the starts).
        for line in ["OCF_RESKEY_CRM_meta_notify=true", "OCF_RESKEY_CRM_meta_notify_type=pre", "OCF_RESKEY_CRM_meta_notify_type=post",
                     "OCF_RESKEY_CRM_meta_notify_operation=promote", "OCF_RESKEY_CRM_meta_notify_promote_uname=n1",
                     "OCF_RESKEY_CRM_meta_notify_promote_resource=stateful:0", "OCF_RESKEY_CRM_meta_notify_all_uname=n1 n2 n3", "OCF_RESKEY_CRM_meta_notify_available_uname=n1 n2 n3"] {
            XCTAssertTrue(n2Env().contains(line + "\n"), "n2's agent saw \(line)")
        }
        XCTAssertTrue(n2Env().contains("OCF_RESKEY_CRM_meta_notify_slave_uname="), "the legacy name is there")
        let text = lab.ctl(3, "status").output
        XCTAssertTrue(text.contains("stateful (clone stateful-clone, 3/3; promoted: n1)"), text)
        XCTAssertTrue(text.contains("stateful promotion scores (master-stateful): n1=10 n2=5 n3=5"), text)
        XCTAssertTrue(Lab.metrics(lab, 1).contains("vigil_resource_promoted{resource=\"stateful\",node=\"n1\"} 1"))

        // OCF 9 from n1's monitor: demoted, stopped, started, and (its fail count aside, the
        // scores tie again) promoted again.
        var seq = lab.lastSeq(1)
        try "9\n".write(toFile: "\(dir)/n1/stateful.state.rc", atomically: true, encoding: .utf8)
        XCTAssertNotNil(lab.event(1, within: 10, after: seq) { $0.type == .resourceState && $0.resource == "stateful" && $0.state == "failed-promoted" })
        XCTAssertNotNil(lab.event(1, within: 10, after: seq) { $0.type == .resourceState && $0.resource == "stateful" && $0.state == "demoting" })
        unlink("\(dir)/n1/stateful.state.rc")
        XCTAssertNotNil(lab.event(1, within: 10, after: seq) { $0.type == .resourceState && $0.resource == "stateful" && $0.state == "stopping" },
                        "demoted, then stopped")
        XCTAssertTrue(Lab.waitUntil(within: 20) {
            let r = self.info(lab, 1)
            return r?.promotedOn?.count == 1 && r?.nodes.values.allSatisfy { $0 == "running" || $0 == "promoted" } == true
        }, "\(String(describing: info(lab, 1)))")
        XCTAssertEqual(info(lab, 1)?.failCounts["n1"], 1)

        // A switchover: the promoted role to n3 (demote on the primary, then promote on n3).
        let before = try XCTUnwrap(info(lab, 1)?.promotedOn?.first)
        let target = before == "n3" ? "n2" : "n3"
        XCTAssertEqual(lab.ctl(2, "resource", "move", "stateful", target, "--promoted").status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 20) { self.info(lab, 1)?.promotedOn == [target] && self.info(lab, 1)?.nodes[before] == "running" },
                      "\(String(describing: info(lab, 1)))")
        XCTAssertTrue(lab.ctl(1, "status").output.contains("stateful: promoted on \(target) (move --promoted)"))

        // Cut off the primary: fenced first, then the best standby promoted.
        let primary = try XCTUnwrap(info(lab, 1)?.promotedOn?.first)
        let survivor = primary == "n1" ? 2 : 1
        seq = lab.lastSeq(survivor)
        lab.lab("cut", String(primary.dropFirst()))
        let fenced = lab.event(survivor, within: 30, after: seq) { $0.type == .fenceResult && $0.peer == primary }
        XCTAssertEqual(fenced?.result, "success")
        // The survivor with the lowest id owns the decisions: its promote command comes after the fence.
        let promote = lab.event(survivor, within: 30, after: seq) { $0.type == .resourceCommand && $0.resource == "stateful" && $0.state == "promote" }
        XCTAssertNotNil(promote)
        XCTAssertLessThan(fenced?.seq ?? .max, promote?.seq ?? 0, "promoted only after the fence")
        XCTAssertTrue(Lab.waitUntil(within: 10) { self.info(lab, survivor)?.promotedOn?.count == 1 })
    }
}
