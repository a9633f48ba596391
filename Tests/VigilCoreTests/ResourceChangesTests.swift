import VigilConfig
import VigilCore
import XCTest

/// `vigilctl config diff`: what a reload of a changed file does to the resources.
final class ResourceChangesTests: XCTestCase {
    static let resources = """

        [[resource]]
        id = "fs"
        agent = "ocf:heartbeat:Dummy"
        params = ["state=/run/fs.state"]
        group = "g"
        prefer = ["node1:100"]
        [[resource]]
        id = "db"
        agent = "ocf:heartbeat:Dummy"
        params = ["state=/run/db.state"]
        group = "g"
        [[resource]]
        id = "web"
        agent = "ocf:heartbeat:Dummy"
        params = ["state=/run/web.state"]
        [[resource]]
        id = "ping"
        agent = "ocf:pacemaker:ping"
        params = ["host_list=198.18.0.254"]
        [[clone]]
        id = "ping-clone"
        of = "ping"
        """

    func config(_ text: String) throws -> ClusterConfig { try ClusterConfig.load(text: ConfigTests.good + text, file: "v.conf").get() }

    func testEachKindOfChange() throws {
        let old = try config(Self.resources)
        XCTAssertTrue(ResourceChanges(from: old, to: old).isEmpty)
        XCTAssertEqual(ResourceChanges(from: old, to: old).text, "no change")

        let new = try config(Self.resources
            .replacingOccurrences(of: "state=/run/fs.state\"]", with: "state=/run/fs2.state\", \"fake=1\"]")  // fs redefined
            .replacingOccurrences(of: "[[resource]]\nid = \"web\"\nagent = \"ocf:heartbeat:Dummy\"\nparams = [\"state=/run/web.state\"]\n", with: "")
            .replacingOccurrences(of: "prefer = [\"node1:100\"]", with: "prefer = [\"node2:100\"]")
            + "\n[[resource]]\nid = \"cache\"\nagent = \"ocf:heartbeat:Dummy\"\n[[order]]\nfirst = \"ping-clone\"\nthen = \"cache\"\n")
        let d = ResourceChanges(from: old, to: new)
        XCTAssertEqual(d.added, ["cache"])
        XCTAssertEqual(d.removed, ["web"])
        XCTAssertEqual(d.restarted.map(\.id), ["fs", "db"], "db follows fs, earlier in its group")
        XCTAssertEqual(d.restarted.first?.why, ["state /run/fs.state -> /run/fs2.state", "fake = 1 added"])
        XCTAssertEqual(d.placement.map(\.id), ["fs"])
        XCTAssertEqual(d.placement.first?.why, ["location scores"])
        XCTAssertEqual(d.orders, ["added: ping then cache"])
        XCTAssertEqual(d.needRestart, [])
        XCTAssertTrue(d.text.contains("start: cache\nstop: web\nrestart fs: state /run/fs.state -> /run/fs2.state; fake = 1 added"), d.text)
        // The same definitions under the core's hash: fs and db's definitions differ exactly as listed.
        XCTAssertNotEqual(old.resourcePolicy.definitions["fs"], new.resourcePolicy.definitions["fs"])
        XCTAssertEqual(old.resourcePolicy.definitions["db"], new.resourcePolicy.definitions["db"])
    }

    func testCloneMetaAndPartsThatNeedARestart() throws {
        let old = try config(Self.resources)
        let new = try config(Self.resources + "\nclone_max = 2\n")
        let d = ResourceChanges(from: old, to: new)
        XCTAssertEqual(d.restarted.map(\.id), ["ping"])
        XCTAssertEqual(d.restarted.first?.why, ["clone meta attributes changed"])
        XCTAssertEqual(d.placement.map(\.id), ["ping"])
        let votes = try ClusterConfig.load(text: ConfigTests.good.replacingOccurrences(of: "votes = 2", with: "votes = 1") + Self.resources,
                                           file: "v.conf").get()
        XCTAssertEqual(ResourceChanges(from: old, to: votes).needRestart, ["nodes"])
        XCTAssertTrue(ResourceChanges(from: old, to: votes).text.contains("needs a restart of vigild (not applied by a reload): nodes"))
    }
}
