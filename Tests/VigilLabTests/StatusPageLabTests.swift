import Foundation
import Glibc
import XCTest

/// The status page (vigild's metrics listener, `GET /`) in headless Chromium against a lab, driven
/// by page_check.py (Debian's chromium, chromium-driver and python3-selenium) inside n1's
/// namespace: three members shown, node n3 cut and turning to lost (then fenced) WITHOUT a
/// reload, its resource shown stopped (fenced); with JavaScript off, the static picture. The
/// screenshot is kept in .build/artifacts/status-page.png.
final class StatusPageLabTests: XCTestCase {
    func testPageFollowsACutNodeWithoutReloadAndWorksWithoutJavaScript() throws {
        for f in ["/usr/bin/chromium", "/usr/bin/chromedriver", "/usr/lib/python3/dist-packages/selenium/__init__.py"]
        where !FileManager.default.fileExists(atPath: f) {
            throw XCTSkip("\(f) missing: apt-get install chromium chromium-driver python3-selenium")
        }
        let lab = try Lab(fenceConfig: DummyResources.section("svc", on: 3), self)
        XCTAssertTrue(DummyResources.running(lab, "svc", on: 3), "svc runs on n3")
        let artifacts = Lab.root.appendingPathComponent(".build/artifacts").path
        try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
        let shot = artifacts + "/status-page.png"
        try? FileManager.default.removeItem(atPath: shot)
        let script = Lab.root.appendingPathComponent("Tests/VigilLabTests/page_check.py").path
        let r = Spawn.run(["ip", "netns", "exec", "\(lab.name)-n1", "/usr/bin/python3", script, "http://127.0.0.1:9465/", shot,
                           Lab.root.appendingPathComponent("tools/lab").path, "cut", "3"],
                          env: ["VIGIL_LAB": lab.name, "VIGIL_BIN": Lab.bin])
        print(r.output)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("READY view") && r.output.contains("3/3 members"), r.output)
        XCTAssertTrue(r.output.contains("LOST n3") && r.output.contains("no reload") && r.output.contains("n3: stopped (fenced)"), r.output)
        XCTAssertTrue(r.output.contains("STATIC n1=self, n2=member, n3=fenced"), r.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: shot), "screenshot kept at \(shot)")
    }
}
