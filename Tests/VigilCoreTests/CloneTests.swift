import VigilConfig
import VigilCore
import XCTest

/// Anonymous clones: their placement as a set of nodes, the owner's decisions node by node, orders
/// with clones (all instances, or interleaved per node), and `[[clone]]` in the config.
final class CloneTests: XCTestCase {
    typealias D = OwnerDecision.Decision
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)
    let all = NodeSet([NodeID(1), NodeID(2), NodeID(3)])

    func place(_ u: PlacementUnit, _ edit: (inout PlacementInput) -> Void = { _ in }) -> Placement? {
        var input = PlacementInput(units: [u], members: all, quorate: true)
        edit(&input)
        return Placer.place(input)[u.resources[0]]
    }

    func testPlacedOnEveryEligibleNodeOrTheBestCloneMax() {
        let ping = PlacementUnit(resources: ["ping"], clone: CloneSpec(id: "ping-clone"))
        XCTAssertEqual(place(ping), .instances(all))
        XCTAssertEqual(place(ping) { $0.standby = NodeSet([self.n2]) }, .instances(NodeSet([n1, n3])))
        XCTAssertEqual(place(ping) { $0.quorate = false }, .instances(.empty))
        var two = PlacementUnit(resources: ["app"], location: [n3: 50], clone: CloneSpec(id: "app-clone", max: 2))
        XCTAssertEqual(place(two), .instances(NodeSet([n1, n3])), "the preferred node, then the lowest id")
        XCTAssertEqual(place(two) { $0.active["app"] = NodeSet([self.n2, self.n3]) }, .instances(NodeSet([n2, n3])), "instances stay put")
        XCTAssertEqual(place(two) { $0.members = NodeSet([self.n1, self.n2]); $0.unclean = NodeSet([self.n3]) }, .instances(NodeSet([n1])),
                       "a node pending fencing may still run an instance: it counts against clone_max")
        two.location[n1] = PlacementUnit.never
        XCTAssertEqual(place(two), .instances(NodeSet([n2, n3])))
        XCTAssertEqual(place(two) { $0.failCounts["app"] = [self.n2: 3] }, .instances(NodeSet([n3])), "over the migration threshold")
    }

    /// A resource `with` a clone goes where an instance is placed; an advisory colocation scores
    /// every such node.
    func testColocationWithAClone() {
        let units = [PlacementUnit(resources: ["ping"], location: [n1: PlacementUnit.never], clone: CloneSpec(id: "ping-clone")),
                     PlacementUnit(resources: ["vip"], location: [n1: 500], with: "ping"),
                     PlacementUnit(resources: ["web"], location: [n1: 100], near: [.init(resource: "ping", score: 300)])]
        let placed = Placer.place(PlacementInput(units: units, members: all, quorate: true))
        XCTAssertEqual(placed["web"], .on(n2), "300 with an instance beats 100 alone")
        XCTAssertEqual(placed["vip"], .on(n3), "placed last (it follows a colocation); the tie goes to the less loaded node")
    }

    /// Three nodes, every report probed in view 5.1.
    func inputs(_ units: [PlacementUnit], _ states: [NodeID: [String: ResourceState]] = [:],
                orders: [OrderConstraint] = []) -> OwnerDecision.Inputs {
        var i = OwnerDecision.Inputs(view: View(id: ViewID(epoch: 5, coordinator: n1), members: [n1, n2, n3].map { Member($0, 1) },
                                                quorate: true, installedAt: .zero))
        for n in [n1, n2, n3] {
            var entries: [String: ResourceEntry] = [:]
            for rid in units.flatMap(\.resources) { entries[rid] = ResourceEntry(id: rid, state: states[n]?[rid] ?? .stopped, failCount: 0) }
            i.reports[n] = PeerReport(view: i.view.id, probed: true, entries: entries)
        }
        i.fenceable = all
        i.units = units
        i.orders = orders
        i.configuredNodes = 3
        return i
    }

    func decide(_ i: OwnerDecision.Inputs) -> [D] { OwnerDecision.make(i)?.decisions ?? [] }

    func testInstancesStartAndStopNodeByNode() {
        let g = PlacementUnit(resources: ["fs", "app"], clone: CloneSpec(id: "app-clone"))
        var i = inputs([g], [n1: ["fs": .running]])
        XCTAssertEqual(decide(i), [.start("app", on: n1), .start("fs", on: n2), .start("fs", on: n3)],
                       "each node's instance goes on at its own pace, a group in order")
        i.reports[n2]?.entries["fs"]?.state = .running
        i.reports[n2]?.entries["app"]?.state = .failed
        i.admin.standby = NodeSet([n1])
        i.admin.maintenance = NodeSet([n3])
        i.reports[n3]?.entries["fs"]?.state = .running
        XCTAssertEqual(decide(i), [.stop("fs", on: n1), .stop("app", on: n2)],
                       "n1 in standby, n2 failed (its later member first); n3 in maintenance is left alone")
    }

    /// A bounded clone moving an instance stops it before the new one starts (never clone_max + 1).
    func testBoundedCloneStopsBeforeItStartsElsewhere() {
        let u = PlacementUnit(resources: ["app"], clone: CloneSpec(id: "app-clone", max: 2))
        var i = inputs([u], [n1: ["app": .running], n2: ["app": .running]])
        i.admin.standby = NodeSet([n1])
        XCTAssertEqual(decide(i), [.stop("app", on: n1)])
        i.reports[n1]?.entries["app"]?.state = .stopped
        XCTAssertEqual(decide(i), [.start("app", on: n3)])
    }

    /// A primitive ordered after a clone waits for every instance; one more instance starting on a
    /// node that joined does not stop it; one instance stopping does (interleave = false).
    func testResourceOrderedAfterAllInstances() {
        let units = [PlacementUnit(resources: ["ping"], clone: CloneSpec(id: "ping-clone")), PlacementUnit(resources: ["vip"])]
        let order = [OrderConstraint(first: "ping", then: "vip")]
        var i = inputs(units, [n1: ["ping": .running], n2: ["ping": .running]], orders: order)
        XCTAssertEqual(decide(i), [.start("ping", on: n3)], "vip waits for the third instance")
        i.reports[n3]?.entries["ping"]?.state = .running
        XCTAssertEqual(decide(i), [.start("vip", on: n1)])
        i.reports[n1]?.entries["vip"]?.state = .running
        i.reports[n3]?.entries["ping"]?.state = .starting
        XCTAssertEqual(decide(i), [], "an instance starting does not take vip down")
        i.reports[n3]?.entries["ping"]?.state = .running
        i.admin.standby = NodeSet([n3])
        XCTAssertEqual(decide(i), [.stop("vip", on: n1)], "an instance stopping does: vip first, then the instance")
        i.reports[n1]?.entries["vip"]?.state = .stopped
        XCTAssertEqual(decide(i), [.stop("ping", on: n3)])
    }

    /// Interleaved: each instance of THEN follows FIRST's instance on its own node only.
    func testInterleavedClonesOrderNodeByNode() {
        let units = [PlacementUnit(resources: ["dlm"], clone: CloneSpec(id: "dlm-clone")),
                     PlacementUnit(resources: ["gfs"], clone: CloneSpec(id: "gfs-clone", interleave: true))]
        let order = [OrderConstraint(first: "dlm", then: "gfs")]
        var i = inputs(units, [n1: ["dlm": .running], n2: ["dlm": .running, "gfs": .running]], orders: order)
        XCTAssertEqual(decide(i), [.start("dlm", on: n3), .start("gfs", on: n1)], "n1's gfs need not wait for n3's dlm")
        i.reports[n1]?.entries["gfs"]?.state = .running
        i.reports[n2]?.entries["dlm"]?.state = .failed
        XCTAssertEqual(decide(i), [.start("dlm", on: n3), .stop("gfs", on: n2)], "n2's dlm failed: n2's gfs stops first, n1's stays")
        var plain = inputs([units[0], PlacementUnit(resources: ["gfs"], clone: CloneSpec(id: "gfs-clone"))],
                           [n1: ["dlm": .running, "gfs": .running], n2: ["dlm": .failed, "gfs": .running]], orders: order)
        plain.reports[n3]?.entries["dlm"]?.state = .running
        XCTAssertEqual(decide(plain), [.stop("gfs", on: n1), .stop("gfs", on: n2)], "not interleaved: every instance of gfs goes down")
    }

    func load(_ extra: String) -> Result<ClusterConfig, Diagnostic> {
        ClusterConfig.load(text: ConfigTests.good + """

            [[resource]]
            id = "ping"
            agent = "ocf:pacemaker:ping"
            [[resource]]
            id = "fs"
            agent = "ocf:heartbeat:Filesystem"
            group = "storage"
            [[resource]]
            id = "lvm"
            agent = "ocf:heartbeat:Dummy"
            group = "storage"
            [[resource]]
            id = "vip"
            agent = "ocf:heartbeat:IPaddr2"
            with = "ping-clone"
            [[clone]]
            id = "ping-clone"
            of = "ping"
            """ + extra, file: "v.conf")
    }

    func testCloneConfig() throws {
        let c = try load("""

            [[clone]]
            id = "storage-clone"
            of = "storage"
            clone_max = 2
            interleave = true
            [[order]]
            first = "ping-clone"
            then = "storage-clone"
            """).get()
        XCTAssertEqual(c.clones["ping"], CloneSpec(id: "ping-clone"))
        XCTAssertEqual(c.clone(of: "lvm"), CloneSpec(id: "storage-clone", max: 2, interleave: true))
        XCTAssertEqual(c.orders, [OrderConstraint(first: "ping", then: "fs")], "a clone is ordered by its leading resource")
        XCTAssertEqual(c.placementUnits.first { $0.resources == ["vip"] }?.with, "ping")
        XCTAssertEqual(c.placementUnits.first { $0.resources == ["fs", "lvm"] }?.clone?.max, 2)
        XCTAssertTrue(c.derivedValues.joined(separator: "\n").contains("fs (clone storage-clone) -> node1 node2"), c.derivedValues.joined(separator: "\n"))
    }

    func testCloneErrors() {
        func error(_ extra: String) -> Diagnostic? { if case .failure(let d) = load(extra) { d } else { nil } }
        let extra = "\n[[clone]]\nid = \"c2\"\nof = \"ping-clone\""
        let twice = error(extra)
        XCTAssertEqual(twice?.message, "clone 'c2' is a clone of the clone 'ping-clone'")
        let text = (try? load("").get()).map { _ in ConfigTests.good } ?? ""
        XCTAssertEqual(twice?.line, text.split(separator: "\n", omittingEmptySubsequences: false).count + 21, "the 'of' line")
        XCTAssertEqual(error("\n[[clone]]\nid = \"c2\"\nof = \"lvm\"")?.message, "'lvm' is a member of group 'storage'")
        XCTAssertEqual(error("\n[[clone]]\nid = \"c2\"\nof = \"ping\"")?.message, "'ping' is cloned twice")
        XCTAssertEqual(error("\n[[clone]]\nid = \"c2\"\nof = \"nosuch\"")?.message, "clone of 'nosuch': no such resource or group")
        XCTAssertTrue(error("\n[[clone]]\nid = \"c2\"\nof = \"storage\"\nclone_node_max = 2")?.message.contains("one instance per node") ?? false)
        XCTAssertTrue(error("\n[[clone]]\nid = \"c2\"\nof = \"storage\"\nnotify = true")?.message.contains("of the group") ?? false)
        XCTAssertTrue(error("\n[[clone]]\nid = \"c2\"\nof = \"storage\"\nglobally_unique = true")?.message.contains("globally unique") ?? false)
        XCTAssertTrue(error("\n[[clone]]\nid = \"c2\"\nof = \"storage\"\nclone_max = 9")?.message.contains("out of range") ?? false)
        XCTAssertEqual(error("\n[[clone]]\nid = \"v\"\nof = \"vip\"")?.message,
                       "'with' on 'vip', which clone 'v' runs on every node it can")
        XCTAssertTrue(error("\n[[clone]]\nid = \"c2\"\nof = \"storage\"\ncolor = 1")?.message.contains("color") ?? false)
    }
}
