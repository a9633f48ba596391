import VigilConfig
import XCTest

/// Each case replaces `from` with `to` in `base`: the file must be refused with a message that
/// contains `text`, at the line `to` (its last line) is on, unless `anyLine` (the section's line).
func assertRefused(_ base: String, _ cases: [(from: String, to: String, text: String)], anyLine: Bool = false,
                   file: StaticString = #filePath, line: UInt = #line) {
    for (from, to, text) in cases {
        let src = base.replacingOccurrences(of: from, with: to)
        XCTAssertNotEqual(src, base, "case \(to) did not apply", file: file, line: line)
        guard case .failure(let d) = ClusterConfig.load(text: src, file: "v.conf") else {
            XCTFail("\(to): accepted", file: file, line: line); continue
        }
        let lines = src.split(separator: "\n", omittingEmptySubsequences: false)
        let at = lines.lastIndex { $0.contains(to.split(separator: "\n").last!) }.map { $0 + 1 }
        if anyLine { XCTAssertGreaterThan(d.line ?? 0, 0, "\(to): \(d)", file: file, line: line) } else {
            XCTAssertEqual(d.line, at, "\(to): \(d)", file: file, line: line)
        }
        XCTAssertTrue(d.message.contains(text), "\(to): \(d)", file: file, line: line)
    }
}
