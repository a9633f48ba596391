import XCTest

/// The pure targets stay pure: no I/O, threads, clocks or unseeded randomness.
final class PurityTests: XCTestCase {
    func testPureTargetsImportNoIOAndReadNoClock() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources")
        let forbidden = ["import Foundation", "import Glibc", "import Dispatch", "import NIO", "import Darwin",
                         "Date()", "ContinuousClock", "SuspendingClock", "DispatchQueue", "Thread.", "Task {",
                         "Task.sleep", "usleep(", "SystemRandomNumberGenerator", "random(in: 0..<1)", "pthread_"]
        var checked = 0
        for target in ["VigilWire", "VigilCore", "VigilConfig", "VigilSim", "VigilStatus"] {
            let dir = root.appendingPathComponent(target)
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                checked += 1
                for f in forbidden where text.contains(f) { XCTFail("\(target)/\(file) uses \(f)") }
                // Randomness only through a generator passed in (`using:`).
                for line in text.split(separator: "\n") where line.contains(".random(") && !line.contains("using:") {
                    XCTFail("\(target)/\(file): unseeded randomness: \(line)")
                }
            }
        }
        XCTAssertGreaterThan(checked, 15)
    }
}
