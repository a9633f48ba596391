import Foundation
import VigilStatus
import XCTest

/// The Pacemaker tools agents call (agents/pacemaker, answered by vigild): round trips from inside
/// Debian's unchanged agents (ocf:pacemaker:Stateful sets its promotion score with
/// `crm_attribute --promotion`; ocf:pacemaker:attribute writes with `attrd_updater -U` and reads
/// back with `attrd_updater -Q`, parsing its output), and the tools' own answers and exit codes.
final class PacemakerToolsLabTests: XCTestCase {
    static let tools = Lab.root.appendingPathComponent("agents/pacemaker").path

    /// Runs one of the tools against node `n`'s vigild, as an agent there would.
    func tool(_ lab: Lab, _ n: Int, _ name: String, _ args: String...) -> (status: Int32, output: String) {
        Spawn.run(["\(Self.tools)/\(name)"] + args,
                  env: ["VIGIL_SOCKET": "\(lab.dir)/n\(n)/vigild.sock", "VIGIL_PCMK": Lab.bin + "/vigil-pcmk"])
    }

    func requireAgents() throws {
        for a in ["Stateful", "attribute"] where !FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/pacemaker/\(a)") {
            throw XCTSkip("pacemaker-resource-agents missing: apt-get install pacemaker-resource-agents")
        }
    }

    func testAgentsRoundTripThroughTheTools() throws {
        try requireAgents()
        let lab = try Lab(fenceConfig: """
            [[resource]]
            id = "score"
            agent = "ocf:pacemaker:Stateful"
            params = ["state={DIR}/%n/stateful.state", "envfile={DIR}/%n/stateful.env"]
            prefer = ["n2:200"]
            [[resource]]
            id = "flag"
            agent = "ocf:pacemaker:attribute"
            params = ["state={DIR}/%n/attribute.state", "name=flag-active", "active_value=yes", "inactive_value=no"]
            prefer = ["n3:200"]
            monitor_interval = "1s"
            [[resource]]
            id = "twice"
            agent = "ocf:pacemaker:Stateful"
            params = ["state={DIR}/%n/twice.state", "envfile={DIR}/%n/twice.env"]
            [[clone]]
            id = "twice-clone"
            of = "twice"
            clone_max = 2
            """, self)
        for (n, rid) in [(2, "score"), (3, "flag")] {
            XCTAssertNotNil(lab.event(n, within: 20) { $0.type == .resourceState && $0.resource == rid && $0.state == "running" }, rid)
        }
        // Stateful's start ran `crm_attribute --promotion -v 5` on n2: master-score of n2 is 5 everywhere.
        XCTAssertTrue(Lab.waitUntil(within: 5) { self.tool(lab, 1, "crm_attribute", "-N", "n2", "-n", "master-score", "-l", "reboot", "-G", "-q").output == "5\n" })
        XCTAssertEqual(tool(lab, 3, "crm_master", "-r", "score", "-N", "n2", "-l", "reboot", "-G", "-q").output, "5\n")
        let env = try String(contentsOfFile: "\(lab.dir)/n2/stateful.env", encoding: .utf8)
        for line in ["OCF_RESKEY_crm_feature_set=3.16.2", "HA_SBIN_DIR=\(Self.tools)", "OCF_RESKEY_CRM_meta_on_node=n2",
                     "OCF_RESKEY_CRM_meta_on_node_uuid=2", "OCF_RESKEY_CRM_meta_name=start"] {
            XCTAssertTrue(env.contains(line + "\n"), "the agent's environment has \(line)")
        }
        // An anonymous clone of two instances (on n1 and n2, the lowest ids): Pacemaker's clone meta.
        XCTAssertTrue(Lab.waitUntil(within: 10) { (try? lab.status(1))?.resources?.first { $0.id == "twice" }?.activeOn == ["n1", "n2"] })
        let cloneEnv = try String(contentsOfFile: "\(lab.dir)/n2/twice.env", encoding: .utf8)
        for line in ["OCF_RESKEY_CRM_meta_clone=1", "OCF_RESKEY_CRM_meta_clone_max=2", "OCF_RESKEY_CRM_meta_clone_node_max=1",
                     "OCF_RESKEY_CRM_meta_globally_unique=false", "OCF_RESKEY_CRM_meta_notify=false", "OCF_RESOURCE_INSTANCE=twice"] {
            XCTAssertTrue(cloneEnv.contains(line + "\n"), "the clone instance's environment has \(line)")
        }
        XCTAssertFalse(env.contains("CRM_meta_clone"), "a plain resource has no clone meta")
        // attribute's start wrote flag-active=yes with attrd_updater; its 1 s monitor reads it back with -Q and passes.
        let q = tool(lab, 1, "attrd_updater", "-Q", "-n", "flag-active", "-N", "n3")
        XCTAssertEqual(q.output, "name=\"flag-active\" host=\"n3\" value=\"yes\"\n", "the format agents parse")
        let seq = lab.lastSeq(3)
        XCTAssertNil(lab.event(3, within: 2.5, after: seq) { $0.type == .resourceState && $0.resource == "flag" && $0.state == "failed" },
                     "its monitor, which reads the value back through attrd_updater -Q, keeps passing")

        // crm_mon's XML, read the way pgsql reads it (grep -i -E on each line) and by an XML parser.
        let xml = tool(lab, 2, "crm_mon", "-1", "--output-as=xml")
        XCTAssertEqual(xml.status, 0, xml.output)
        let check = """
            import re, sys, xml.etree.ElementTree as ET
            text = sys.stdin.read()
            root = ET.fromstring(text)
            assert root.tag == "pacemaker-result", root.tag
            ok = lambda p: any(re.search(p, l, re.I) for l in text.splitlines())
            assert ok('<node name="n1" .* online="true"'), "n1 online"
            assert ok('<resource id="flag" .* role="(Started)"'), "flag started"
            assert [n.get("name") for n in root.find("nodes")] == ["n1", "n2", "n3"]
            clone = root.find("resources/clone[@id='twice-clone']")
            assert clone.get("unique") == "false" and clone.get("multi_state") == "false"
            assert [r.find("node").get("name") for r in clone.findall("resource[@id='twice']")] == ["n1", "n2"], "one per instance"

            assert root.find("node_attributes/node[@name='n3']/attribute[@name='flag-active']").get("value") == "yes"
            print("parsed")
            """
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("crm-mon-\(UUID().uuidString).py").path
        try check.write(toFile: script, atomically: true, encoding: .utf8)
        defer { unlink(script) }
        let xmlFile = script + ".xml"
        try xml.output.write(toFile: xmlFile, atomically: true, encoding: .utf8)
        defer { unlink(xmlFile) }
        let parsed = Spawn.run(["/bin/sh", "-c", "python3 \(script) < \(xmlFile)"])
        XCTAssertEqual(parsed.output, "parsed\n", xml.output)
        let text = tool(lab, 1, "crm_mon", "-1").output
        XCTAssertTrue(text.contains("* Online: [ n1 n2 n3 ]"), text)
        XCTAssertTrue(text.contains("  * Clone Set: twice-clone [twice]:\n    * Started: [ n1 n2 ]\n    * Stopped: [ n3 ]"), text)

        // Moved away from n2: Stateful's stop deleted the score (crm_attribute --promotion -D).
        XCTAssertEqual(lab.ctl(1, "resource", "move", "score", "n1").status, 0)
        XCTAssertNotNil(lab.event(1, within: 15) { $0.type == .resourceState && $0.resource == "score" && $0.state == "running" })
        XCTAssertTrue(Lab.waitUntil(within: 5) { self.tool(lab, 3, "crm_attribute", "-N", "n1", "-n", "master-score", "-l", "reboot", "-G", "-q").output == "5\n" })
        let gone = tool(lab, 3, "crm_attribute", "-N", "n2", "-n", "master-score", "-l", "reboot", "-G")
        XCTAssertEqual(gone.status, 105, "no such attribute: " + gone.output)
    }

    func testToolAnswersAndExitCodes() throws {
        let lab = try Lab(extra: ["--no-fencing"], self)
        XCTAssertEqual(tool(lab, 2, "crm_node", "-n").output, "n2\n")
        XCTAssertEqual(tool(lab, 2, "crm_node", "-i").output, "2\n")
        XCTAssertEqual(tool(lab, 1, "crm_node", "-l").output, "1 n1 member\n2 n2 member\n3 n3 member\n")
        XCTAssertEqual(tool(lab, 1, "crm_node", "--partition").output, "n1 n2 n3\n")
        XCTAssertEqual(tool(lab, 1, "crm_node", "-q").output, "1\n")
        XCTAssertEqual(tool(lab, 1, "pacemakerd", "-$").output.split(separator: "\n").first, "Pacemaker 2.1.5 (Vigil compatibility)")

        // Writes return once every member holds the value (PAF polls for exactly that).
        XCTAssertEqual(tool(lab, 1, "attrd_updater", "-n", "pingd", "-U", "1000").status, 0)
        XCTAssertEqual(tool(lab, 3, "attrd_updater", "-Q", "-n", "pingd", "-N", "n1").output, "name=\"pingd\" host=\"n1\" value=\"1000\"\n")
        XCTAssertEqual(tool(lab, 2, "attrd_updater", "-p", "-n", "lsn", "-U", "0/3000060").status, 0)
        XCTAssertEqual(tool(lab, 1, "attrd_updater", "--query", "--name=lsn", "--node=n2").output,
                       "name=\"lsn\" host=\"n2\" value=\"0/3000060\"\n", "private: readable by name")
        XCTAssertEqual(tool(lab, 1, "crm_attribute", "--node", "n3", "--name", "site", "--update", "east").status, 0)
        XCTAssertEqual(tool(lab, 2, "crm_attribute", "-N", "n3", "-n", "site", "-G").output, "scope=nodes  name=site value=east\n")
        XCTAssertEqual(try lab.status(1).attributes?.entries.first { $0.name == "site" }?.lifetime, "forever", "-N without -l: permanent")
        XCTAssertEqual(tool(lab, 2, "crm_attribute", "-N", "n3", "-n", "nosuch", "-G", "-d", "fallback", "-q").output, "fallback\n")
        XCTAssertEqual(tool(lab, 2, "attrd_updater", "-Q", "-n", "nosuch").status, 105)
        XCTAssertEqual(tool(lab, 2, "attrd_updater", "-D", "-n", "pingd", "-N", "n1").status, 0)
        XCTAssertEqual(tool(lab, 3, "attrd_updater", "-Q", "-n", "pingd", "-N", "n1").status, 105, "deleted everywhere")
        XCTAssertEqual(tool(lab, 1, "crm_attribute", "-n", "maintenance-mode", "-v", "true").status, 3, "cluster options: not supported")
        XCTAssertEqual(tool(lab, 1, "attrd_updater", "-n", "x", "-U", "1", "-N", "n9").status, 1, "unknown node")
        XCTAssertEqual(tool(lab, 1, "attrd_updater", "--bogus").status, 64, "usage")
        XCTAssertEqual(Spawn.run(["\(Self.tools)/crm_node", "-n"], env: ["VIGIL_SOCKET": "\(lab.dir)/none.sock",
                                                                        "VIGIL_PCMK": Lab.bin + "/vigil-pcmk"]).status, 102, "vigild unreachable")

        // A partition: each side lists only its own members, and the lone node is not quorate.
        let seq = lab.lastSeq(1)
        lab.lab("cut", "3")
        XCTAssertNotNil(lab.event(1, within: 10, after: seq) { $0.type == .view && $0.members == ["n1", "n2"] })
        XCTAssertTrue(Lab.waitUntil(within: 5) { self.tool(lab, 3, "crm_node", "-p").output == "n3\n" })
        XCTAssertEqual(tool(lab, 1, "crm_node", "-p").output, "n1 n2\n")
        XCTAssertEqual(tool(lab, 3, "crm_node", "-q").output, "0\n")
        XCTAssertEqual(tool(lab, 3, "crm_node", "-l").output, "1 n1 lost\n2 n2 lost\n3 n3 member\n")
    }
}
