import Foundation
import VigilStatus
import XCTest

/// The pure targets stay pure: no I/O, threads, clocks, unseeded randomness or mutable globals
/// (dozens of `Node` values live side by side in the simulator). The daemon links
/// FoundationEssentials, never full Foundation (ICU and the rest cost megabytes of RSS).
final class PurityTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources")

    /// Every Swift file of a target, subfolders included.
    func sources(_ target: String) throws -> [(String, String)] {
        let dir = PurityTests.root.appendingPathComponent(target)
        guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
        var out: [(String, String)] = []
        for case let file as String in e where file.hasSuffix(".swift") {
            out.append((file, try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)))
        }
        return out
    }

    func testPureTargetsImportNoIOAndReadNoClock() throws {
        let forbidden = ["import Foundation", "import Glibc", "import Dispatch", "import NIO", "import Darwin",
                         "Date()", "ContinuousClock", "SuspendingClock", "DispatchQueue", "Thread.", "Task {",
                         "Task.sleep", "usleep(", "SystemRandomNumberGenerator", "random(in: 0..<1)", "pthread_",
                         "nonisolated(unsafe)"]
        var checked = 0
        for target in ["VigilWire", "VigilCore", "VigilConfig", "VigilSim", "VigilStatus"] {
            for (file, text) in try sources(target) {
                checked += 1
                for f in forbidden where text.contains(f) { XCTFail("\(target)/\(file) uses \(f)") }
                for line in text.split(separator: "\n") {
                    // Randomness only through a generator passed in (`using:`).
                    if line.contains(".random(") && !line.contains("using:") {
                        XCTFail("\(target)/\(file): unseeded randomness: \(line)")
                    }
                    // No mutable state outside values: no file-scope `var`, no `static var`.
                    let t = line.trimmingCharacters(in: .whitespaces)
                    if line.hasPrefix("var ") || line.hasPrefix("public var ") || t.contains("static var ") {
                        XCTFail("\(target)/\(file): mutable global or static: \(t)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 40, "subfolders are searched too")
    }

    func testDaemonLinksFoundationEssentialsOnly() throws {
        for target in ["VigilDaemon", "vigild"] {
            for (file, text) in try sources(target) where text.contains("import Foundation\n") {
                XCTFail("\(target)/\(file) imports full Foundation: use FoundationEssentials")
            }
        }
    }

    /// Files stay readable: none over about 400 lines in the libraries.
    func testNoSourceFileOver400Lines() throws {
        for target in ["VigilWire", "VigilCore", "VigilConfig", "VigilSim", "VigilStatus", "VigilDaemon"] {
            for (file, text) in try sources(target) {
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
                XCTAssertLessThanOrEqual(lines, 420, "\(target)/\(file) has \(lines) lines: split it by concern")
            }
        }
    }
}

/// Vocabularies documented where users read them.
final class VocabularyDocTests: XCTestCase {
    func testEveryEventKindIsDocumented() throws {
        let doc = try String(contentsOf: PurityTests.root.appendingPathComponent("../docs/status-json.md"), encoding: .utf8)
        for kind in ClusterEvent.Kind.allCases where !doc.contains("`\(kind.rawValue)`") {
            XCTFail("docs/status-json.md does not describe event type \(kind.rawValue)")
        }
    }
}

/// The control socket's requests: every one survives its line form, and bad lines are refused.
final class ControlProtocolTests: XCTestCase {
    func testRequestsRoundTripThroughTheirLines() {
        let all: [ControlRequest] = [
            .ticket(.grant, name: "t1"), .ticket(.standby, name: "site-db"),
            .status, .metrics, .events(follow: false), .events(follow: true), .fenceHistory, .leave, .reload,
            .fence(node: "n2", .reboot), .fenceConfirm(node: "n3"), .resource(.move, id: "db", node: "n2"),
            .resource(.move, id: "db", node: nil), .resource(.restart, id: "db", node: nil), .node(.maintenance, node: "n1"),
            .attribute(.set(value: "1000", lifetime: .reboot, isPrivate: false, delayMs: 0), node: ".", name: "pingd"),
            .attribute(.set(value: "a value  with spaces", lifetime: .forever, isPrivate: true, delayMs: 5000), node: "n2", name: "x"),
            .attribute(.set(value: "", lifetime: .reboot, isPrivate: false, delayMs: 0), node: "n2", name: "empty"),
            .attribute(.delete, node: "n1", name: "pingd"), .attribute(.get, node: ".", name: "pingd"),
            .attributeList(node: nil), .attributeList(node: "n3"),
        ]
        for r in all { XCTAssertEqual(ControlRequest(line: r.line), r, r.line) }
        for bad in ["", "fence n2 explode", "resource restart db n2", "node sleep n1", "status now", "resource move", "attr",
                    "attr set n1 x sometimes public 0 v", "attr set n1 x reboot secret 0 v", "attr set n1 x reboot public -5 v", "attr get n1"] {
            XCTAssertNil(ControlRequest(line: bad), bad)
        }
        XCTAssertTrue(ControlRequest.fence(node: "n2", .off).needsRoot)
        XCTAssertFalse(ControlRequest.events(follow: true).needsRoot)
        XCTAssertTrue(ControlRequest.attribute(.delete, node: "n1", name: "x").needsRoot)
        XCTAssertFalse(ControlRequest.attribute(.get, node: "n1", name: "x").needsRoot, "agents read without root")
    }

    func testAnswersAreTheDocumentedJSON() throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        XCTAssertEqual(String(decoding: try e.encode(ControlAnswer.done), as: UTF8.self), #"{"ok":true}"#)
        XCTAssertEqual(String(decoding: try e.encode(ControlAnswer.refused("no")), as: UTF8.self), #"{"error":"no"}"#)
    }
}
