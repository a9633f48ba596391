import VigilConfig
import VigilCore
import XCTest

/// The digest members compare (ConfigDigest+Document.swift): what a file says, part by part.
final class ConfigDigestTests: XCTestCase {
    static let resources = """

        [[resource]]
        id = "db"
        agent = "ocf:heartbeat:Dummy"
        params = ["state=/run/db.state"]
        prefer = ["node1:100"]
        """

    func digest(_ text: String) throws -> ConfigDigest { try ClusterConfig.load(text: text, file: "v.conf").get().digest }

    func testTheSameFileWrittenDifferentlyHasTheSameDigest() throws {
        let base = try digest(ConfigTests.good + Self.resources)
        // comments, blank lines, spacing, key order inside a section, 1_000 for 1000
        let rewritten = (ConfigTests.good + Self.resources)
            .replacingOccurrences(of: "id = \"db\"\n    agent = \"ocf:heartbeat:Dummy\"",
                                  with: "agent   =   \"ocf:heartbeat:Dummy\"   # the agent\n\n    id = \"db\"")
            .replacingOccurrences(of: "votes = 2", with: "votes = 0_002")
        XCTAssertNotEqual(rewritten, ConfigTests.good + Self.resources)
        XCTAssertEqual(try digest(rewritten), base)
        XCTAssertEqual(base.differences(base), [])
        XCTAssertEqual(try ClusterConfig.load(text: ConfigTests.good, file: "v.conf").get().core.digest,
                       try digest(ConfigTests.good), "the core gets the file's digest")
    }

    func testEachChangeNamesItsPart() throws {
        let text = ConfigTests.good + Self.resources
        let base = try digest(text)
        let cases: [(String, String, [ConfigDigest.Part])] = [
            ("state=/run/db.state", "state=/run/other.state", [.resources]),
            ("votes = 2", "votes = 1", [.nodes]),
            ("port = 5407", "port = 5409", [.links]),
            ("deadline = \"40ms\"", "deadline = \"50ms\"", [.timing]),
            ("name = \"lab\"", "name = \"other\"", []),  // local: names the cluster in logs only
        ]
        for (from, to, parts) in cases {
            let changed = text.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(changed, text, from)
            XCTAssertEqual(base.differences(try digest(changed)), parts, "\(from) -> \(to)")
        }
        XCTAssertEqual(base.differences(try digest(ConfigTests.good)), [.resources], "a resource less")
        XCTAssertEqual(base.differences(try digest(text + "\n[quorum]\nexpected_votes = 4\n")), [.quorum])
    }

    func testUnknownPartsAreNotCompared() {
        var a = ConfigDigest(hashes: [1, 2, 3, 4, 5, 6, 7]), b = a
        b[.alerts] = 9
        XCTAssertEqual(a.differences(b), [.alerts])
        a[.alerts] = 0  // a part one side does not know (an older build, the simulator)
        XCTAssertEqual(a.differences(b), [])
    }
}
