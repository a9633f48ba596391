import Foundation
import VigilStatus
import XCTest

/// Connectivity-driven placement with Debian's agents unchanged: ocf:pacemaker:ping on every node
/// (an anonymous clone, one instance per node) writes `pingd` through attrd_updater, and a virtual IP (ocf:heartbeat:IPaddr2) has the rule "never where pingd is absent or
/// below 1". One node loses its path to the gateway only: its heartbeat links stay up, nothing is
/// fenced, and the address moves to a node that still reaches the gateway; healed, nothing moves back.
final class PingLabTests: XCTestCase {
    static func config(vip: String) -> String {
        """
        [[resource]]
        id = "ping"
        agent = "ocf:pacemaker:ping"
        params = ["host_list=198.18.0.254", "multiplier=1000", "dampen=1s", "attempts=1", "timeout=1", "pidfile={DIR}/%n/ping.pid"]
        monitor_interval = "1s"

        [[clone]]
        id = "ping-clone"
        of = "ping"

        [[resource]]
        id = "vip"
        agent = "ocf:heartbeat:IPaddr2"
        params = ["ip=\(vip)", "cidr_netmask=24", "nic=eth0"]
        rules = ["-INFINITY: not_defined pingd or pingd lt 1"]
        monitor_interval = "1s"
        """
    }

    func testAddressLeavesTheNodeThatLostItsGateway() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/pacemaker/ping"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/ping") else {
            throw XCTSkip("apt-get install pacemaker-resource-agents iputils-ping")
        }
        let vip = "198.18.0.223"
        let lab = try Lab(fenceConfig: Self.config(vip: vip), self)
        XCTAssertEqual(lab.lab("gateway").status, 0)
        func holders() -> [Int] {
            (1...3).filter { lab.lab("exec", "\($0)", "ip", "-o", "-4", "addr", "show", "dev", "eth0").output.contains(vip + "/") }
        }
        func answers() -> Bool { lab.lab("gw-exec", "ping", "-n", "-q", "-c", "1", "-W", "1", vip).status == 0 }
        func pingd() -> [String] { ((try? lab.status(1))?.attributes?.entries ?? []).filter { $0.name == "pingd" }.map(\.value) }
        XCTAssertTrue(Lab.waitUntil(within: 30) { pingd() == ["1000", "1000", "1000"] && holders().count == 1 },
                      "every node reaches the gateway (pingd \(pingd())), the address runs on one (\(holders()))")
        XCTAssertTrue(answers())
        let ping = try lab.status(1).resources?.first { $0.id == "ping" }
        XCTAssertEqual(ping?.clone, "ping-clone")
        XCTAssertEqual(ping?.activeOn, ["n1", "n2", "n3"], "one instance per node")
        XCTAssertEqual(ping?.cloneMax, 3)
        let victim = holders()[0]
        let epoch = try lab.status(1).view?.epoch
        let seq = lab.lastSeq(1)

        // The node holding the address loses its path to the gateway only.
        XCTAssertEqual(lab.lab("exec", "\(victim)", "ip", "route", "add", "blackhole", "198.18.0.254/32").status, 0)
        let zero = lab.event(1, within: 15, after: seq) { $0.type == .attribute && $0.attribute == "pingd" && $0.peer == "n\(victim)" && $0.value == "0" }
        XCTAssertNotNil(zero, "its ping agent wrote pingd = 0 (after its dampening)")
        XCTAssertTrue(Lab.waitUntil(within: 15) { let h = holders(); return h.count == 1 && h != [victim] }, "the address left n\(victim): \(holders())")
        XCTAssertTrue(Lab.waitUntil(within: 5) { answers() }, "and answers from \(holders())")
        XCTAssertNil(lab.event(1, within: 0.1, after: seq) { $0.type == .fencePending || $0.type == .view }, "nothing fenced, no view change")
        XCTAssertEqual(try lab.status(1).view?.epoch, epoch)
        let moved = holders()

        // Healed: pingd comes back; stickiness keeps the address where it is.
        let healSeq = lab.lastSeq(1)
        XCTAssertEqual(lab.lab("exec", "\(victim)", "ip", "route", "del", "blackhole", "198.18.0.254/32").status, 0)
        XCTAssertNotNil(lab.event(1, within: 15, after: healSeq) { $0.type == .attribute && $0.attribute == "pingd" && $0.peer == "n\(victim)" && $0.value == "1000" })
        XCTAssertNil(lab.event(1, within: 2, after: healSeq) { $0.type == .resourceCommand && $0.resource == "vip" }, "nothing moves back")
        XCTAssertEqual(holders(), moved)
    }
}
