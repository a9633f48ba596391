"""tools/bench replication: failover of replicated PostgreSQL (streaming replication, synchronous
commit to one standby), from the silent loss of the primary to the first acknowledged write
through the virtual IP, on one lab, side by side:

  Vigil + PAF           Debian's resource-agents-paf (ocf:heartbeat:pgsqlms) as a promotable clone
                        with notify, IPaddr2 with the promoted instance, fence_lab (tools/lab demo
                        --replication);
  Pacemaker + PAF       Pacemaker 2.1 + Corosync 3.1 (Debian's), the same agents, the same clone,
                        constraints and operation intervals, the same fence agent;
  Patroni + etcd        Debian's patroni with a three-member etcd (Debian's etcd-server, one member
                        per node), synchronous_mode, the virtual IP moved by Debian's vip-manager
                        (it follows the leader key in etcd), as Patroni users run it. No
                        watchdog: the lab has no /dev/watchdog (no softdog module here), so
                        Patroni's watchdog mode is off.

Every system gets the same three namespaces and two links, the same PostgreSQL 15 parameters
(wal_receiver_timeout 2s, wal_retrieve_retry_interval 500ms, synchronous commit to any one
standby) and the same client. One run: a writer in the lab's client namespace commits an increasing
counter through the virtual IP (a commit, 10 ms pause, again; connect and TCP timeouts 1 s); from
T0 a prober also starts a one-shot write on a fresh connection every 20 ms, so that the first
acknowledged write does not wait for the TCP timers of the writer's dead connection; and pollers
watch the ground truth every 10 ms: each survivor's PostgreSQL over its own Unix socket
(pg_is_in_recovery()), the virtual IP on each survivor's eth0, and whether the old primary still
accepts writes. T0 = the bench's wall clock just before it pulls both cables of the primary.
Figures per run (ms after T0): old primary gone (fenced, or demoted by itself), promoted (a
survivor out of recovery), address (the IP on the new primary), standby streaming (a standby
streams from the new primary: a synchronous commit can return), first write (the first
acknowledged probe), writer resumed (the long-lived writer's first commit after its failure), plus each system's own marks from its events or logs (Vigil:
loss seen, fenced, the pre-promote notification, promote started; Pacemaker: loss seen, fenced;
Patroni: leader lock taken). After the run the writer reads the table back through the IP: every
acknowledged value must be there (acknowledged writes lost, must be 0). Then the old primary is
powered off if it still runs, powered on, reconnected and rebuilt as a standby (pg_basebackup from
the new primary for PAF, Patroni's own replica creation for Patroni), and the bench waits until one
primary streams to two standbys and the IP is on it before the next run.

Only processes inside the lab's namespaces are stopped, by PID; the lab is removed on exit.
"""
import json, os, shutil, statistics, subprocess, sys, time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from bench_systems import LAB, NODES, STATE, ROOT, lab, ns, ns_pids, sh, wait
from bench_failover import FENCE_LINK, PacemakerFailover, VigilFailover, pg_bin, vip_holders

VIP = "198.18.0.200"
PGPORT = 5433
PY = "/usr/bin/python3"  # Debian's, with python3-psycopg2

WATCH = r"""
import json, subprocess, sys, threading, time
import psycopg2
vip, port, victim, lab, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
socks = dict(kv.split("=", 1) for kv in sys.argv[6].split(","))
survivors = [n for n in socks if n != victim]
cut, marks, acked, done, lock = None, {}, [], threading.Event(), threading.Lock()

def mark(key, t):
    with lock:
        if cut is not None and t > cut and key not in marks:
            marks[key] = t

def connect(**kw):
    c = psycopg2.connect(user="postgres", dbname="postgres", connect_timeout=1, **kw)
    c.autocommit = True
    return c

def over_ip():
    return connect(host=vip, port=port, keepalives=1, keepalives_idle=1, keepalives_interval=1,
                   keepalives_count=1, tcp_user_timeout=1000)

def writer():
    # Values unique across runs (the table keeps earlier runs' rows).
    value, c, failed_after_cut = int(time.time() * 1000) * 1000, None, False
    while not done.is_set():
        try:
            if c is None:
                c = over_ip()
            value += 1
            c.cursor().execute("insert into counter values (%s)", (value,))
            acked.append(value)
            if failed_after_cut:
                mark("writer resumed", time.time())
            time.sleep(0.01)
        except psycopg2.Error:
            if cut is not None and time.time() > cut:
                failed_after_cut = True
            c = None
            time.sleep(0.01)

def probe(value):
    # One write on a fresh connection: the first of these acknowledged after the cut is when the
    # service takes writes again, whatever the TCP timers of an older connection are doing.
    try:
        c = over_ip()
        c.cursor().execute("insert into counter values (%s)", (value,))
        acked.append(value)
        mark("first write", time.time())
        c.close()
    except psycopg2.Error:
        pass

def prober():
    value = int(time.time() * 1000) * 1000 + 500_000_000
    while cut is None:
        time.sleep(0.005)
    while not done.is_set() and "first write" not in marks:
        value += 1
        if threading.active_count() < 100:
            threading.Thread(target=probe, args=(value,), daemon=True).start()
        time.sleep(0.02)

def recovery(node):  # True: in recovery, False: a primary, None: unreachable
    c = None
    while not done.is_set():
        try:
            if c is None:
                c = connect(host=socks[node], port=port)
            cur = c.cursor()
            cur.execute("select pg_is_in_recovery()")
            yield cur.fetchone()[0]
        except psycopg2.Error:
            c = None
            yield None

def promoted(node):
    c = None
    for r in recovery(node):
        if r is False:
            mark("promoted", time.time())
            # Synchronous commit returns once a standby streams from the new primary.
            try:
                c = c or connect(host=socks[node], port=port)
                cur = c.cursor()
                cur.execute("select count(*) from pg_stat_replication where state = 'streaming'")
                if cur.fetchone()[0] > 0:
                    mark("standby streaming", time.time())
            except psycopg2.Error:
                c = None
        time.sleep(0.01)

def old_primary():
    for r in recovery(victim):
        if r is not False:
            mark("old primary gone", time.time())
        time.sleep(0.01)

def address(node):
    while not done.is_set():
        out = subprocess.run(["ip", "-n", f"{lab}-{node}", "-o", "-4", "addr", "show", "dev", "eth0"],
                             capture_output=True, text=True).stdout
        if f" {vip}/" in out:
            mark("address", time.time())
        time.sleep(0.01)

threads = [threading.Thread(target=writer), threading.Thread(target=prober)] + [threading.Thread(target=promoted, args=(n,)) for n in survivors] \
    + [threading.Thread(target=address, args=(n,)) for n in survivors] + [threading.Thread(target=old_primary)]
for t in threads:
    t.daemon = True
    t.start()
ready_by = time.time() + 30
while len(acked) < 50 and time.time() < ready_by:
    time.sleep(0.01)
print("ready" if len(acked) >= 50 else "not ready", flush=True)
cut = float(sys.stdin.readline())
end = cut + limit
while time.time() < end and not ("first write" in marks and "writer resumed" in marks):
    time.sleep(0.01)
if "first write" in marks:
    time.sleep(1)  # writes go on a second more on the new primary
done.set()
time.sleep(0.2)
present, lost = None, None
for _ in range(50):
    try:
        cur = over_ip().cursor()
        cur.execute("select i from counter")
        present = {r[0] for r in cur.fetchall()}
        break
    except psycopg2.Error:
        time.sleep(0.2)
if present is not None:
    lost = [v for v in acked if v not in present]
print(json.dumps({"marks": {k: (v - cut) * 1000 for k, v in marks.items()}, "acked": len(acked),
                  "lost": None if lost is None else len(lost), "lostValues": (lost or [])[:20]}), flush=True)
"""


def psql(sock, sql):
    """One query as postgres over a node's Unix socket; its output, or None."""
    r = subprocess.run(["runuser", "-u", "postgres", "--", f"{pg_bin()}/psql", "-h", sock, "-p", str(PGPORT), "-U",
                        "postgres", "-d", "postgres", "-Atqc", sql], capture_output=True, text=True, cwd="/",
                       env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PGCONNECT_TIMEOUT": "1"})
    return r.stdout.strip() if r.returncode == 0 else None


def utc(s, fmt):
    return datetime.strptime(s, fmt).replace(tzinfo=timezone.utc).timestamp()


class PAF:
    """What Vigil and Pacemaker share here: tools/lab's data directories ($STATE/repl/nI), PAF."""
    def sock(self, n):
        return f"{STATE}/repl/sock-n{n}"

    def data(self, n):
        return f"{STATE}/repl/n{n}/data"

    def settled(self):
        """The primary (node number) once exactly one node is out of recovery, streams to both
        standbys, and alone holds the virtual IP; else None."""
        primaries = [n for n in NODES if psql(self.sock(n), "select pg_is_in_recovery()") == "f"]
        if len(primaries) != 1:
            return None
        p = primaries[0]
        streaming = psql(self.sock(p), "select count(*) from pg_stat_replication where state = 'streaming'")
        return p if streaming == str(len(NODES) - 1) and vip_holders() == [p] and self.members() else None

    def rebuild(self, x, y):
        """Node x's data directory again, as a copy of the new primary y's (pg_basebackup)."""
        shutil.rmtree(f"{STATE}/repl/n{x}/data", ignore_errors=True)
        sh("runuser", "-u", "postgres", "--", f"{pg_bin()}/pg_basebackup", "-h", self.sock(y), "-p", str(PGPORT),
           "-U", "postgres", "-D", self.data(x), "-X", "stream")
        conf = f"{self.data(x)}/postgresql.conf"
        lines = [l for l in open(conf).read().splitlines()
                 if not l.startswith(("primary_conninfo", "unix_socket_directories"))]
        lines += [f"primary_conninfo = 'host={VIP} port={PGPORT} user=postgres application_name=n{x}'",
                  f"unix_socket_directories = '{self.sock(x)}'"]
        open(conf, "w").write("\n".join(lines) + "\n")
        for f in ("standby.signal", "recovery.signal", "postmaster.pid"):
            if os.path.exists(f"{self.data(x)}/{f}"):
                os.unlink(f"{self.data(x)}/{f}")


class VigilReplication(PAF, VigilFailover):
    name = "Vigil + PAF"

    def __init__(self, setting):
        VigilFailover.__init__(self, setting, "pgsql")

    def up(self):
        lab("down", check=False)
        lab("demo", "--replication", "--release", "--prepare", "--interval", self.interval, "--deadline", self.deadline)
        self.bin = open(f"{STATE}/bin").read().strip()

    def members(self):
        return self.all_members()

    def marks(self, t0, x, y):
        out = {}
        for ms, e in self.events_since(y, t0):
            key = self.loss_mark(e, x)
            if e["type"] == "resource_notify" and e.get("state") == "pre-promote":
                key = "pre-promote notified"
            elif e["type"] == "resource_state" and e.get("resource") == "pgsqld" and e.get("state") in ("promoting", "promoted"):
                key = "promote started" if e["state"] == "promoting" else "promote returned"
            if key and key not in out:
                out[key] = ms
        return out

    def restore(self, x, y):
        self.rebuild(x, y)
        lab("power", str(x), "on", check=False)
        lab("heal", str(x))
        lab("start", str(x), check=False)


class PacemakerReplication(PAF, PacemakerFailover):
    name = "Pacemaker + PAF"

    def __init__(self, setting):
        PacemakerFailover.__init__(self, setting, "pgsql")

    def make_lab(self):
        lab("down", check=False)
        lab("demo", "--replication", "--release", "--no-start")

    def members(self):
        return self.all_members()

    def configure(self):
        def nv(rid, k, v):
            return f'<nvpair id="{rid}-{k}" name="{k}" value="{v}"/>'
        per_node = "".join(
            f'<instance_attributes id="pgsqld-n{n}"><rule id="pgsqld-n{n}-rule" score="INFINITY">'
            f'<expression id="pgsqld-n{n}-expr" attribute="#uname" operation="eq" value="n{n}"/></rule>'
            + nv(f"pgsqld-n{n}", "pgdata", self.data(n)) + nv(f"pgsqld-n{n}", "pghost", self.sock(n))
            + '</instance_attributes>' for n in NODES)
        ops = "".join(f'<op id="pgsqld-{name}-{role or 0}" name="{name}" interval="{iv}" timeout="{to}"'
                      + (f' role="{role}"' if role else "") + '/>'
                      for name, iv, to, role in (("start", "0", "60s", None), ("stop", "0", "60s", None),
                                                 ("promote", "0", "30s", None), ("demote", "0", "60s", None),
                                                 ("notify", "0", "60s", None), ("monitor", "1s", "10s", "Promoted"),
                                                 ("monitor", "2s", "10s", "Unpromoted")))
        clone = (f'<clone id="pgsqld-clone"><meta_attributes id="pgsqld-clone-meta">{nv("pgsqld-clone", "promotable", "true")}'
                 f'{nv("pgsqld-clone", "notify", "true")}</meta_attributes>'
                 f'<primitive id="pgsqld" class="ocf" provider="heartbeat" type="pgsqlms">'
                 f'<instance_attributes id="pgsqld-ia">{nv("pgsqld", "bindir", pg_bin())}{nv("pgsqld", "pgport", PGPORT)}'
                 f'</instance_attributes>{per_node}<operations>{ops}</operations></primitive></clone>')
        ip = (f'<primitive id="pgsql-pri-ip" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="ip-ia">'
              f'{nv("ip", "ip", VIP)}{nv("ip", "cidr_netmask", 24)}{nv("ip", "nic", "eth0")}</instance_attributes>'
              f'<operations><op id="ip-mon" name="monitor" interval="1s"/></operations></primitive>')
        stonith = (f'<primitive id="labpower" class="stonith" type="fence_vigillab"><instance_attributes id="labpower-ia">'
                   f'{nv("labpower", "lab", LAB)}{nv("labpower", "pcmk_host_map", "n1:1;n2:2;n3:3")}'
                   f'{nv("labpower", "pcmk_host_check", "static-list")}</instance_attributes>'
                   f'<operations><op id="labpower-mon" name="monitor" interval="60s"/></operations></primitive>')
        constraints = ('<rsc_colocation id="ip-with-primary" rsc="pgsql-pri-ip" with-rsc="pgsqld-clone" '
                       'with-rsc-role="Promoted" score="INFINITY"/>'
                       '<rsc_order id="ip-after-promote" first="pgsqld-clone" first-action="promote" then="pgsql-pri-ip" '
                       'then-action="start" symmetrical="false" kind="Mandatory"/>'
                       '<rsc_order id="ip-stop-before-demote" first="pgsqld-clone" first-action="demote" then="pgsql-pri-ip" '
                       'then-action="stop" symmetrical="false" kind="Mandatory"/>')
        for xml in (stonith, clone, ip):
            self.cli(1, "cibadmin", "-C", "-o", "resources", "-X", xml, check=True)
        for xml in ET.fromstring(f"<c>{constraints}</c>"):
            self.cli(1, "cibadmin", "-C", "-o", "constraints", "-X", ET.tostring(xml, encoding="unicode"), check=True)
        if not wait(lambda: self.settled(), 180, 0.5):
            raise RuntimeError("Pacemaker + PAF: no primary streaming to two standbys within 180 s")
        psql(self.sock(self.settled()), "create table if not exists counter (i bigint primary key)")

    def marks(self, t0, x, y):
        """From node y's pacemaker.log (its own clock, ms resolution)."""
        out = {}
        year = time.gmtime().tm_year
        try:
            lines = open(f"{self.dir(y)}/pcmk-log/pacemaker.log", errors="replace").read().splitlines()
        except OSError:
            return out
        for line in lines:
            key = None
            if f"Node n{x} state is now lost" in line:
                key = "loss seen"
            elif f"targeting n{x}" in line and "Operation" in line and ": OK" in line:
                key = "fenced"
            if not key or key in out:
                continue
            try:
                t = utc(f"{year} {line[:19]}", "%Y %b %d %H:%M:%S.%f")
            except ValueError:
                continue
            if t >= t0:
                out[key] = (t - t0) * 1000
        return out

    def restore(self, x, y):
        self.rebuild(x, y)
        PacemakerFailover.restore(self, x)


class PatroniReplication(PAF):
    name = "Patroni + etcd"
    # Defaults (Patroni's docs): ttl 30, loop_wait 10, retry_timeout 10. Tightest documented: the
    # minimum of each (ttl 20, loop_wait 1, retry_timeout 3), which keeps the documented rule
    # loop_wait + 2 * retry_timeout <= ttl.
    # vip-manager: its default scan interval (1000 ms), and 100 ms at the tightest.
    settings = {"default": (30, 10, 10, 1000), "tightest": (20, 1, 3, 100)}

    def __init__(self, setting):
        self.setting = setting
        self.ttl, self.loop_wait, self.retry, self.vip_interval = self.settings[setting]

    def describe(self):
        return (f"ttl {self.ttl} s, loop_wait {self.loop_wait} s, retry_timeout {self.retry} s; vip-manager interval "
                f"{self.vip_interval} ms; etcd defaults; no watchdog")

    def dir(self, n):
        return f"{STATE}/patroni/n{n}"

    def sock(self, n):
        return f"{self.dir(n)}/sock"

    def data(self, n):
        return f"{self.dir(n)}/data"

    def up(self):
        lab("down", check=False)
        lab("demo", "--replication", "--release", "--no-start")  # network and client; its data dirs unused here
        base = f"{STATE}/patroni"
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        cluster = ",".join(f"n{n}=http://198.18.0.{n}:2380" for n in NODES)
        for n in NODES:
            d = self.dir(n)
            os.makedirs(f"{d}/sock")
            os.makedirs(f"{STATE}/etcd-n{n}", exist_ok=True)
            open(f"{d}/patroni.yml", "w").write(self.config(n))
            sh("chown", "-R", "postgres:postgres", d)
            os.chmod(d, 0o700)
        self.cluster = cluster
        sh("chmod", "711", STATE, base)
        for n in NODES:
            self.start_etcd(n)
        for n in NODES:
            self.start_patroni(n)
            self.start_vip_manager(n)
        if not wait(lambda: self.settled(), 240, 0.5):
            raise RuntimeError("Patroni: no primary streaming to two standbys within 240 s")
        p = self.settled()
        psql(self.sock(p), "create table if not exists counter (i bigint primary key)")

    def config(self, n):
        # Patroni's leader race reads each replica's timeline over a replication connection to localhost.
        hba = ["local all all trust", "host all all 127.0.0.1/32 trust", "host replication all 127.0.0.1/32 trust",
               "host all all 198.18.0.0/15 trust", "host replication all 198.18.0.0/15 trust"]
        conf = {
            "scope": LAB, "name": f"n{n}",
            "restapi": {"listen": f"198.18.0.{n}:8008", "connect_address": f"198.18.0.{n}:8008"},
            # etcd's v2 API: the one vip-manager 1.0 reads (its "etcd" type)
            "etcd": {"hosts": [f"198.18.0.{i}:2379" for i in NODES]},
            "bootstrap": {
                "dcs": {"ttl": self.ttl, "loop_wait": self.loop_wait, "retry_timeout": self.retry,
                        "maximum_lag_on_failover": 1048576, "synchronous_mode": True,
                        "postgresql": {"use_pg_rewind": True, "use_slots": True, "parameters": {
                            "wal_level": "replica", "hot_standby": "on", "max_wal_senders": 10, "wal_keep_size": "256MB",
                            "wal_receiver_timeout": "2s", "wal_retrieve_retry_interval": "500ms"}}},
                "initdb": [{"auth": "trust"}]},
            "postgresql": {
                "listen": f"0.0.0.0:{PGPORT}", "connect_address": f"198.18.0.{n}:{PGPORT}",
                "data_dir": f"{self.dir(n)}/data", "bin_dir": pg_bin(), "pgpass": f"{self.dir(n)}/pgpass",
                "authentication": {"superuser": {"username": "postgres"}, "replication": {"username": "postgres"}},
                "parameters": {"unix_socket_directories": self.sock(n)},
                "pg_hba": hba},
            "watchdog": {"mode": "off"},
        }
        return json.dumps(conf, indent=1) + "\n"  # JSON is YAML

    def start_etcd(self, n):
        d = f"{STATE}/etcd-n{n}"
        url = f"http://198.18.0.{n}"
        lab("spawn", str(n), f"{d}.pid", f"{d}.log", "etcd", "--name", f"n{n}", "--data-dir", f"{d}/data",
            "--listen-client-urls", f"{url}:2379", "--advertise-client-urls", f"{url}:2379",
            "--listen-peer-urls", f"{url}:2380", "--initial-advertise-peer-urls", f"{url}:2380",
            "--initial-cluster", self.cluster, "--initial-cluster-state", "new", "--initial-cluster-token", LAB, "--enable-v2=true")

    def start_patroni(self, n):
        d = self.dir(n)
        lab("spawn", str(n), f"{STATE}/patroni-n{n}.pid", f"{d}/patroni.log", "runuser", "-u", "postgres", "--",
            "patroni", f"{d}/patroni.yml")

    def start_vip_manager(self, n):
        """vip-manager (Debian's), as Patroni users run it: the IP on the node named by the leader key."""
        lab("spawn", str(n), f"{STATE}/vip-manager-n{n}.pid", f"{self.dir(n)}/vip-manager.log", "vip-manager",
            "--ip", VIP, "--netmask", "24", "--interface", "eth0", "--trigger-key", f"/service/{LAB}/leader",
            "--trigger-value", f"n{n}", "--dcs-type", "etcd", "--dcs-endpoints",
            ",".join(f"http://198.18.0.{i}:2379" for i in NODES), "--interval", str(self.vip_interval))

    def members(self):
        return True

    def marks(self, t0, x, y):
        out = {}
        try:
            lines = open(f"{self.dir(y)}/patroni.log", errors="replace").read().splitlines()
        except OSError:
            return out
        for line in lines:
            if "acquired session lock as a leader" in line or "promoted self to leader by acquiring session lock" in line:
                try:
                    t = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()  # Patroni logs local time
                except ValueError:
                    continue
                if t >= t0:
                    out.setdefault("lock taken", (t - t0) * 1000)
        return out

    def restore(self, x, y):
        lab("power", str(x), "off", check=False)  # Patroni fences nothing: its old primary still runs
        wait(lambda: not ns_pids(x), 20, 0.1)
        shutil.rmtree(f"{self.dir(x)}/data", ignore_errors=True)
        lab("power", str(x), "on", check=False)
        lab("heal", str(x))
        self.start_etcd(x)
        self.start_patroni(x)
        self.start_vip_manager(x)


SYSTEMS = {"vigil": VigilReplication, "pacemaker": PacemakerReplication, "patroni": PatroniReplication}


def settle(s, timeout):
    """The primary once the system has settled (twice in a row, half a second apart), or None."""
    end, last = time.time() + timeout, None
    while time.time() < end:
        p = s.settled()
        if p is not None and p == last:
            return p
        last = p
        time.sleep(0.5)
    return None


def one_run(s, x, limit):
    socks = ",".join(f"n{n}={s.sock(n)}" for n in NODES)
    p = subprocess.Popen(["ip", "netns", "exec", f"{LAB}-client", PY, "-c", WATCH, VIP, str(PGPORT), f"n{x}", LAB,
                          str(limit), socks], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if p.stdout.readline().strip() != "ready":
            return None, None
        time.sleep(0.5)
        t0 = time.time()
        lab("cut", str(x))
        p.stdin.write(f"{t0}\n")
        p.stdin.flush()
        line = p.stdout.readline()
        p.wait(30)
        return t0, json.loads(line) if line.strip() else None
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def replication_bench(a, say, stats, fmt):
    need = [p for p, path in (("pacemaker", "/usr/sbin/pacemakerd"), ("corosync", "/usr/sbin/corosync"),
                              ("postgresql", pg_bin() or "/nonexistent"), ("resource-agents-paf",
                              "/usr/lib/ocf/resource.d/heartbeat/pgsqlms"), ("python3-psycopg2", "/usr/lib/python3/dist-packages/psycopg2"),
                              ("patroni", "/usr/bin/patroni"), ("python3-etcd", "/usr/lib/python3/dist-packages/etcd"), ("etcd-server", "/usr/bin/etcd"), ("vip-manager", "/usr/bin/vip-manager"))
            if not os.path.exists(path)]
    if need:
        subprocess.run(["apt-get", "install", "-y", "-qq"] + need, check=True)
    rows = []
    try:
        for key in a.systems.split(","):
            for setting in a.settings.split(","):
                s = SYSTEMS[key](setting)
                say(f"\n{s.name} {setting} ({s.describe()}), {a.runs} runs")
                s.up()
                firsts, lost, parts, own, attempts, stuck = [], [], {}, {}, 0, 0
                while len(firsts) < a.runs and attempts < 2 * a.runs:
                    attempts += 1
                    x = settle(s, 240)
                    if x is None:
                        say("  no primary streaming to two standbys with the IP within 240 s; stopping this series")
                        break
                    t0, r = one_run(s, x, a.limit)
                    if r is None:
                        say(f"  run {len(firsts) + 1}: the writer did not start; again")
                        continue
                    m = r["marks"]
                    y = next((n for n in NODES if n != x and psql(s.sock(n), "select pg_is_in_recovery()") == "f"), None)
                    sys_marks = s.marks(t0, x, y) if y else {}
                    if "first write" not in m:
                        keep = f"/tmp/bench-replication-{int(time.time())}"
                        shutil.copytree(STATE, keep, ignore=shutil.ignore_patterns("data", "*.sock", ".s.PGSQL*", "pg_*"),
                                        dirs_exist_ok=True)
                        say(f"  run {len(firsts) + 1}: cut n{x}: no acknowledged write within {a.limit:.0f} s ({m}); "
                            f"stopping (logs kept in {keep})")
                        stuck += 1
                        break
                    firsts.append(m["first write"])
                    lost.append(r["lost"])
                    for k, v in m.items():
                        parts.setdefault(k, []).append(v)
                    for k, v in sys_marks.items():
                        own.setdefault(k, []).append(v)
                    allm = sorted(list(m.items()) + list(sys_marks.items()), key=lambda kv: kv[1])
                    say(f"  run {len(firsts)}: cut primary n{x}, new primary n{y}: first write {m['first write']:.0f} ms; "
                        + ", ".join(f"{k} {v:.0f}" for k, v in allm)
                        + f"; {r['acked']} acknowledged, {r['lost']} lost")
                    s.restore(x, y)
                rows.append((s, setting, stats(firsts), lost, {k: statistics.median(v) for k, v in parts.items()},
                             {k: statistics.median(v) for k, v in own.items()}, stuck))
                lab("down", check=False)
    finally:
        if os.path.lexists(FENCE_LINK):
            os.unlink(FENCE_LINK)
        lab("down", check=False)
    text = table(rows, a, fmt)
    say("\n" + text)
    if a.write:
        open(a.write, "a" if a.append else "w").write(("\n" if a.append else "") + text)


def table(rows, a, fmt):
    out = ["# Replicated PostgreSQL failover: Vigil + PAF, Pacemaker + PAF, Patroni + etcd on one lab", "",
           f"Written by `tools/bench replication --runs {a.runs} --systems {a.systems} --settings {a.settings}` on "
           f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nothing here is typed by hand. Method: "
           "tools/bench_replication.py (T0 = both cables of the primary's node pulled; first write = the first "
           "acknowledged commit through the virtual IP after T0, from one-shot writes on fresh connections started every "
           "20 ms in the lab's client namespace, beside a writer committing every 10 ms on one connection; PostgreSQL 15, synchronous commit to one standby, the same parameters for all; "
           "Vigil release build).", "",
           "| system | setting | timing | first write (ms) | acknowledged writes lost |", "|---|---|---|---|---|"]
    for s, setting, st, lost, _, _, stuck in rows:
        lost_txt = "?" if any(v is None for v in lost) else str(sum(lost))
        stuck_txt = f"; then a run with no write within {a.limit:.0f} s (series stopped)" if stuck else ""
        out.append(f"| {s.name} | {setting} | {s.describe()} | {fmt(st)} | {lost_txt} over {len(lost)} runs{stuck_txt} |")
    out += ["", "Where the time goes (medians, ms after T0; the ground truth from the pollers, then each system's own marks):", ""]
    for s, setting, st, _, parts, own, _ in rows:
        if st:
            seq = sorted(list(parts.items()) + list(own.items()), key=lambda kv: kv[1])
            out.append(f"- {s.name} {setting}: " + ", ".join(f"{k} {v:.0f}" for k, v in seq))
    vigil = [r for r in rows if r[0].name.startswith("Vigil") and r[2]]
    others = [r for r in rows if not r[0].name.startswith("Vigil") and r[2]]
    if vigil and others:
        best_v = min(vigil, key=lambda r: r[2]["p50"])
        best_o = min(others, key=lambda r: r[2]["p50"])
        out += ["", f"Best of the others ({best_o[0].name} {best_o[1]}) median / Vigil {best_v[1]} median = "
                f"{best_o[2]['p50'] / best_v[2]['p50']:.1f}x"]
    return "\n".join(out) + "\n"
