import Foundation
import VigilConfig
import XCTest

/// The reference page (docs/vigil.conf.md, which vigil.conf(5) is made from) against the parser:
/// every section and key the parser takes is documented there, and nothing else is.
final class ConfigReferenceTests: XCTestCase {
    func testEveryKeyTheParserKnowsIsDocumentedAndNothingElse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        let text = try String(contentsOf: root.appendingPathComponent("docs/vigil.conf.md"), encoding: .utf8)
        var documented: [String: (array: Bool, keys: Set<String>)] = [:]
        var section: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("## [") {
                let array = line.hasPrefix("## [[")
                let name = line.dropFirst(array ? 5 : 4).prefix { $0 != "]" }
                section = String(name)
                documented[String(name)] = (array, [])
            } else if line.hasPrefix("## ") {
                section = nil
            } else if let s = section, line.hasPrefix("- `") {
                documented[s]?.keys.insert(String(line.dropFirst(3).prefix { $0 != "`" }))
            }
        }
        let parsed = ConfigKeys.sections
        XCTAssertEqual(Set(documented.keys), Set(parsed.keys), "sections")
        for (name, spec) in parsed.sorted(by: { $0.key < $1.key }) {
            guard let doc = documented[name] else { continue }
            XCTAssertEqual(doc.array, spec.array, "[\(name)] written as \(spec.array ? "[[\(name)]]" : "[\(name)]")")
            XCTAssertEqual(doc.keys.subtracting(spec.keys).sorted(), [], "[\(name)]: documented, unknown to the parser")
            XCTAssertEqual(spec.keys.subtracting(doc.keys).sorted(), [], "[\(name)]: known to the parser, undocumented")
        }
    }
}
