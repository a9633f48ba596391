import Foundation
import VigilSim
import XCTest

/// Behaviour pinned: the trace digest of fixed seeds (every effect of every node) must match
/// Fixtures/digests.txt. A reshaping of the core that changes no behaviour keeps them all; a
/// change of behaviour is intended only in its own commit, which rewrites the fixture
/// (`VIGIL_REWRITE=1 swift test --filter DigestTests`) and says which seeds changed and why.
final class DigestTests: XCTestCase {
    struct Case {
        var nodes: Int
        var fencing: Bool
        var seeds: Range<UInt64>
        var name: String { "\(nodes) nodes\(fencing ? " fencing" : "")" }
    }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/digests.txt")

    func check(_ c: Case) throws {
        let r = Sweep.run(nodes: c.nodes, seeds: c.seeds, fencing: c.fencing, digest: true)
        let lines = r.digests.map { "\(c.name) seed \($0.seed): \($0.digest)" }
        if ProcessInfo.processInfo.environment["VIGIL_REWRITE"] == "1" {
            try rewrite(c, lines)
            return
        }
        let text = try String(contentsOf: DigestTests.fixture, encoding: .utf8)
        let expected = text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(c.name + " seed ") }
        XCTAssertEqual(expected.count, c.seeds.count, "fixture lacks '\(c.name)': VIGIL_REWRITE=1 swift test --filter DigestTests")
        var changed: [String] = []
        for (want, got) in zip(expected, lines) where want != got { changed.append(got) }
        XCTAssertTrue(changed.isEmpty, "\(changed.count) of \(c.seeds.count) digests changed, first: \(changed.prefix(5)) "
                      + "-- replay: vigil-sim --nodes \(c.nodes) --seed N\(c.fencing ? " --fencing" : "") --trace")
    }

    /// Replaces this case's lines in the fixture, keeping the others (cases run in parallel
    /// processes, so each rewrites only its own lines).
    func rewrite(_ c: Case, _ lines: [String]) throws {
        let old = (try? String(contentsOf: DigestTests.fixture, encoding: .utf8)) ?? ""
        let kept = old.split(separator: "\n").map(String.init).filter { !$0.hasPrefix(c.name + " seed ") }
        let all = kept + lines
        let header = all.filter { $0.hasPrefix("#") }
        let body = all.filter { !$0.hasPrefix("#") }.sorted { key($0) < key($1) }
        try FileManager.default.createDirectory(at: DigestTests.fixture.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (header + body).joined(separator: "\n").appending("\n").write(to: DigestTests.fixture, atomically: true, encoding: .utf8)
    }

    private func key(_ line: String) -> String {
        // "3 nodes fencing seed 12: ..." sorts by case, then by seed number.
        let parts = line.components(separatedBy: " seed ")
        let seed = parts.count > 1 ? String(parts[1].prefix { $0.isNumber }) : ""
        return parts[0] + String(repeating: "0", count: max(0, 6 - seed.count)) + seed
    }

    func testThreeNodes() throws { try check(Case(nodes: 3, fencing: false, seeds: 1..<101)) }
    func testFiveNodes() throws { try check(Case(nodes: 5, fencing: false, seeds: 1..<61)) }
    func testThreeNodesFencing() throws { try check(Case(nodes: 3, fencing: true, seeds: 1..<41)) }
    func testFiveNodesFencing() throws { try check(Case(nodes: 5, fencing: true, seeds: 1..<21)) }
}
