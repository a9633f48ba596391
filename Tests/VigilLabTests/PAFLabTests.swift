import Foundation
import VigilStatus
import XCTest

/// Replicated PostgreSQL with Debian's unchanged PAF agent (ocf:heartbeat:pgsqlms, package
/// resource-agents-paf) as a promotable clone with notifications, and a virtual IP with the
/// primary (PAF's reference constraints): PAF's own validation passes (it refuses to run without
/// notify, master_max = 1 and crm_feature_set), the old primary of a fresh set-up is promoted, the
/// standbys stream from it, a cut-off primary is fenced and the best standby promoted with every
/// acknowledged write present, and a switchover (`move --promoted`) leaves the old primary a standby.
/// Each node has its own data directory and socket directory (`%n` in the parameters, and
/// `unix_socket_directories` in each node's postgresql.conf: the lab's nodes share one file system).
final class PAFLabTests: XCTestCase {
    static let bin = "/usr/lib/postgresql/15/bin"
    static let vip = "198.18.0.200"

    func run(_ script: String) -> (status: Int32, output: String) { Spawn.run(["/bin/sh", "-c", script]) }

    /// A primary in `base`/n1 and two standbys made from it by pg_basebackup; all stopped.
    func prepare(_ base: String) throws {
        let conf = """
            listen_addresses = '*'
            port = 5433
            wal_level = replica
            hot_standby = on
            max_wal_senders = 10
            wal_keep_size = 256MB
            recovery_target_timeline = 'latest'
            synchronous_standby_names = 'ANY 1 (n1, n2, n3)'
            wal_retrieve_retry_interval = '500ms'
            wal_receiver_timeout = '2s'     # the other standby finds its primary gone (synchronous commit waits for it)
            """
        let b = Self.bin
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try (conf + "\n").write(toFile: base + "/extra.conf", atomically: true, encoding: .utf8)
        let script = """
            set -e
            cd /
            for n in n1 n2 n3; do mkdir -p \(base)/sock-$n; done
            chown -R postgres:postgres \(base); chmod 755 \(base)
            runuser -u postgres -- \(b)/initdb -D \(base)/n1/data --auth=trust -U postgres >/dev/null
            cat \(base)/extra.conf >> \(base)/n1/data/postgresql.conf
            printf "host all all 198.18.0.0/15 trust\\nhost replication all 198.18.0.0/15 trust\\nlocal replication all trust\\n" >> \(base)/n1/data/pg_hba.conf
            runuser -u postgres -- \(b)/pg_ctl -D \(base)/n1/data -o "-k \(base)/sock-n1 -c listen_addresses=''" -w start >/dev/null
            for n in n2 n3; do runuser -u postgres -- \(b)/pg_basebackup -h \(base)/sock-n1 -p 5433 -U postgres -D \(base)/$n/data -X stream; done
            runuser -u postgres -- \(b)/pg_ctl -D \(base)/n1/data -m fast -w stop >/dev/null
            for n in n1 n2 n3; do
              echo "primary_conninfo = 'host=\(Self.vip) port=5433 user=postgres application_name=$n'" >> \(base)/$n/data/postgresql.conf
              echo "unix_socket_directories = '\(base)/sock-$n'" >> \(base)/$n/data/postgresql.conf
            done
            """
        let r = run(script)
        guard r.status == 0 else { throw Lab.LabError("PostgreSQL set-up failed:\n\(r.output)") }
    }

    func info(_ lab: Lab, _ n: Int) -> StatusSnapshot.ResourceInfo? {
        (try? lab.status(n))?.resources?.first { $0.id == "pgsqld" }
    }

    func psql(_ lab: Lab, _ n: Int, _ sql: String) -> (status: Int32, output: String) {
        lab.lab("exec", "\(n)", "runuser", "-u", "postgres", "--", Self.bin + "/psql", "-h", Self.vip, "-p", "5433", "-U", "postgres",
                "-d", "postgres", "-Atc", sql)
    }

    func testPAFFailoverKeepsAcknowledgedWritesAndSwitchover() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/ocf/resource.d/heartbeat/pgsqlms"),
              FileManager.default.isExecutableFile(atPath: Self.bin + "/pg_ctl") else {
            throw XCTSkip("needs resource-agents-paf and postgresql-15: apt-get install resource-agents-paf postgresql")
        }
        guard getuid() == 0 else { throw XCTSkip("lab tests need root") }
        // Named by this process, so that a later lab test removes it if this one dies (Lab.removeOrphans).
        let base = "/tmp/vigil-paf-\(getpid())-" + String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        addTeardownBlock { [base] in _ = Spawn.run(["rm", "-rf", base]) }
        try prepare(base)
        let lab = try Lab(fenceConfig: """
            [[resource]]
            id = "pgsqld"
            agent = "ocf:heartbeat:pgsqlms"
            params = ["bindir=\(Self.bin)", "pgdata=\(base)/%n/data", "pghost=\(base)/sock-%n", "pgport=5433"]
            monitor_interval = "2s"
            promoted_monitor_interval = "1s"
            start_timeout = "60s"
            stop_timeout = "60s"
            promote_timeout = "30s"
            demote_timeout = "60s"
            notify_timeout = "60s"
            [[clone]]
            id = "pgsqld-clone"
            of = "pgsqld"
            promotable = true
            notify = true
            [[resource]]
            id = "pgsql-pri-ip"
            agent = "ocf:heartbeat:IPaddr2"
            params = ["ip=\(Self.vip)", "cidr_netmask=24", "nic=eth0"]
            with = "pgsqld-clone"
            with_role = "promoted"
            monitor_interval = "1s"
            [[order]]
            first = "pgsqld-clone"
            first_action = "promote"
            then = "pgsql-pri-ip"
            symmetrical = false
            [[order]]
            first = "pgsqld-clone"
            first_action = "demote"
            then = "pgsql-pri-ip"
            then_action = "stop"
            symmetrical = false
            """, self)
        // Stopped before the lab goes down (teardown blocks run last first), by their postmaster.pid.
        addTeardownBlock { [base] in
            for n in ["n1", "n2", "n3"] {
                _ = Spawn.run(["runuser", "-u", "postgres", "--", Self.bin + "/pg_ctl", "-D", "\(base)/\(n)/data", "-m", "immediate", "stop"])
            }
        }
        // The old primary (no scores anywhere yet) scores itself and is promoted; the standbys stream
        // from it through the address and the primary scores them (1000 - 10 x rank).
        XCTAssertTrue(Lab.waitUntil(within: 90) {
            let r = self.info(lab, 2)
            return r?.promotedOn == ["n1"] && r?.nodes == ["n1": "promoted", "n2": "running", "n3": "running"]
                && (r?.scores?.count ?? 0) == 3 && r?.scores?["n1"] == "1001"
        }, "\(String(describing: info(lab, 2)))\n" + lab.lab("logs", "1").output.suffix(3000))
        XCTAssertNotNil(lab.event(1, within: 10) { $0.type == .resourceState && $0.resource == "pgsql-pri-ip" && $0.state == "running" })
        XCTAssertEqual(psql(lab, 2, "create table t (i int primary key)").status, 0)
        var acknowledged: [Int] = []
        for i in 1...50 where psql(lab, 2, "insert into t values (\(i))").status == 0 { acknowledged.append(i) }
        XCTAssertEqual(acknowledged.count, 50, "synchronous commit to a standby, through the address")

        // Cut off the primary: fenced, the best standby promoted, the address follows it.
        let seq = lab.lastSeq(2)
        let cutAt = Date()
        lab.lab("cut", "1")
        XCTAssertEqual(lab.event(2, within: 30, after: seq) { $0.type == .fenceResult && $0.peer == "n1" }?.result, "success")
        XCTAssertTrue(Lab.waitUntil(within: 60) { (self.info(lab, 2)?.promotedOn ?? []).count == 1 && self.info(lab, 2)?.promotedOn != ["n1"] },
                      "\(String(describing: info(lab, 2)))\n" + lab.lab("logs", "2").output.suffix(3000))
        XCTAssertTrue(Lab.waitUntil(within: 30) { self.psql(lab, 2, "insert into t values (1000)").status == 0 }, "writes resume")
        // Printed, not asserted (tools/bench measures): includes a psql process per attempt.
        print(String(format: "PAF failover: cut to first acknowledged write through the address %.0f ms", Date().timeIntervalSince(cutAt) * 1000))
        XCTAssertEqual(psql(lab, 2, "select count(*) from t where i <= 50").output, "50\n", "every acknowledged write is in the new primary")
        let primary = try XCTUnwrap(info(lab, 2)?.promotedOn?.first)
        let other = primary == "n2" ? "n3" : "n2"

        // A switchover to the other standby: the old primary is demoted and stays a standby.
        XCTAssertEqual(lab.ctl(2, "resource", "move", "pgsqld", other, "--promoted").status, 0)
        XCTAssertTrue(Lab.waitUntil(within: 90) {
            let r = self.info(lab, 2)
            return r?.promotedOn == [other] && r?.nodes[primary] == "running"
        }, "\(String(describing: info(lab, 2)))\n" + lab.lab("logs", "2").output.suffix(3000))
        XCTAssertTrue(Lab.waitUntil(within: 30) { self.psql(lab, 2, "insert into t values (51)").status == 0 }, "writes resume")
        XCTAssertEqual(psql(lab, 2, "select count(*) from t").output, "52\n")
    }
}
