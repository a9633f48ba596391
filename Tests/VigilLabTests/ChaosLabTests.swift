import Foundation
import Glibc
import XCTest

/// tools/chaos on real daemons: three minutes of mixed faults with a fixed seed on a five-node lab
/// (every kind of resource, PAF where installed, fencing on), and the checkers' own test on
/// planted histories. The 30-minute run is by hand (docs/chaos.md).
final class ChaosLabTests: XCTestCase {
    static let tool = Lab.root.appendingPathComponent("tools/chaos").path

    func testCheckersFindPlantedViolations() {
        let r = Spawn.run([Self.tool, "--self-test"])
        XCTAssertEqual(r.status, 0, r.output)
    }

    func testThreeMinutesOfChaosWithoutViolation() throws {
        guard getuid() == 0 else { throw XCTSkip("lab tests need root (network namespaces)") }
        guard FileManager.default.fileExists(atPath: Lab.bin + "/vigild") else { throw XCTSkip("vigild not built in \(Lab.bin)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/stress-ng") else {
            throw XCTSkip("stress-ng missing: apt-get install stress-ng")
        }
        let name = "c" + String(String(UInt32.random(in: 0..<UInt32.max), radix: 36).prefix(6))
        addTeardownBlock { _ = Lab.run(["down"], lab: name) }
        Lab.removeOrphans()
        let r = Spawn.run([Self.tool, "--nodes", "5", "--minutes", "3", "--seed", "16", "--phase", "40"],
                          env: ["VIGIL_LAB": name, "VIGIL_BIN": Lab.bin])
        let tail = r.output.split(separator: "\n").suffix(60).joined(separator: "\n")
        XCTAssertEqual(r.status, 0, "tools/chaos --seed 16 failed; its last lines:\n\(tail)")
        XCTAssertTrue(r.output.contains("0 violations"), tail)
    }
}
