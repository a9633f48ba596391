import Foundation
import Glibc
import XCTest

/// Debian's ocf:heartbeat:Dummy as the live-change lab tests use it: its start creates a state
/// file (touch), its monitors only look, its stop removes it, so the file's inode and time tell
/// whether it was restarted. (tmpfs may give a new file the inode just freed.)
enum DummyResources {
    /// A `[[resource]]` section: Dummy `id` preferring node `node`, its state file in the lab's
    /// per-node directory (`{DIR}` is the lab's state directory).
    static func section(_ id: String, on node: Int, _ extra: String = "") -> String {
        """

        [[resource]]
        id = "\(id)"
        agent = "ocf:heartbeat:Dummy"
        params = ["state={DIR}/%n/\(id).state"\(extra)]
        prefer = ["n\(node):200"]
        monitor_interval = "1s"

        """
    }

    /// The state file's inode and modification time (nil: not running there).
    static func inode(_ path: String) -> String? {
        var st = stat()
        return stat(path, &st) == 0 ? "\(st.st_ino)@\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : nil
    }

    /// Whether `id` comes to run on node `node` only (status and its state file) within 20 s.
    static func running(_ lab: Lab, _ id: String, on node: Int) -> Bool {
        Lab.waitUntil(within: 20) {
            (try? lab.status(1).resources?.first { $0.id == id }?.activeOn) == ["n\(node)"]
                && FileManager.default.fileExists(atPath: "\(lab.dir)/n\(node)/\(id).state")
        }
    }

    static func require() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/heartbeat/Dummy") else {
            throw XCTSkip("resource-agents missing: apt-get install resource-agents")
        }
    }
}
