import Foundation
import VigilStatus
import XCTest

/// Alerts: Pacemaker's own sample agent, alert_file.sh.sample (Debian's pacemaker-common, copied
/// to a temporary place), receives node, fencing, resource and attribute events unchanged.
final class AlertLabTests: XCTestCase {
    func testPacemakersSampleAlertAgentLogsEvents() throws {
        let sample = "/usr/share/pacemaker/alerts/alert_file.sh.sample"
        guard FileManager.default.fileExists(atPath: sample),
              FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/heartbeat/Dummy") else {
            throw XCTSkip("apt-get install pacemaker-common resource-agents")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-alerts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: sample, toPath: dir + "/alert_file.sh")
        // TEST-ONLY agent: hangs until its timeout (listed first: it must not hold the sample back).
        try "#!/bin/sh\nsleep 30\n".write(toFile: dir + "/hang.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/hang.sh", 0o755)
        let lab = try Lab(fenceConfig: """
            [[alert]]
            path = "\(dir)/hang.sh"
            kinds = ["attribute"]
            timeout = "10s"
            [[resource]]
            id = "dummy"
            agent = "ocf:heartbeat:Dummy"
            params = ["state={DIR}/%n/dummy.state"]
            prefer = ["n3:200"]
            [[alert]]
            path = "\(dir)/alert_file.sh"
            recipients = ["\(dir)/%n.log"]
            kinds = ["node", "fencing", "resource", "attribute"]
            timeout = "5s"
            [[alert]]
            path = "\(dir)/missing.sh"
            kinds = ["attribute"]
            """, self)
        func log(_ n: Int) -> String { (try? String(contentsOfFile: "\(dir)/n\(n).log", encoding: .utf8)) ?? "" }
        XCTAssertTrue(Lab.waitUntil(within: 20) { log(3).contains("Resource operation 'start' for 'dummy' on 'n3': ok") }, log(3))
        let set = lab.ctl(1, "attr", "set", "pingd", "1000")
        XCTAssertEqual(set.status, 0, set.output)
        XCTAssertTrue(Lab.waitUntil(within: 5) { log(2).contains("Attribute 'pingd' on node 'n1' was updated to '1000'") },
                      "within 5 s, while hang.sh runs for 10 s for the same event: \(log(2))")
        lab.lab("cut", "3")
        XCTAssertTrue(Lab.waitUntil(within: 20) { log(1).contains("Node 'n3' is now 'lost'") }, log(1))
        XCTAssertTrue(Lab.waitUntil(within: 20) { log(1).contains("Fencing Operation off of n3 by n1 for vigild@n1: OK") }, log(1))
        // Each line starts with the default timestamp format (%H:%M:%S.%06N).
        XCTAssertNotNil(log(1).range(of: #"^\d\d:\d\d:\d\d\.\d{6}: "#, options: .regularExpression), log(1))
        // A failing alert agent is counted, nothing else.
        XCTAssertTrue(Lab.waitUntil(within: 5) { Lab.metrics(lab, 1).contains("vigil_alert_runs_total{alert=\"missing.sh\",result=\"failed\"} 1") },
                      Lab.metrics(lab, 1).split(separator: "\n").filter { $0.contains("alert") }.joined(separator: "\n"))
        XCTAssertEqual(try lab.status(1).view?.members, try lab.status(2).view?.members)
    }
}
