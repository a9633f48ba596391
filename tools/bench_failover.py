"""tools/bench failover: end-to-end failover of a service group, Vigil against Pacemaker 2.1 +
Corosync 3.1 (Debian's packages), on the same lab, with the same resource agents (Debian's
resource-agents: Dummy or Filesystem + pgsql, then IPaddr2) and the same fence agent
(agents/stonith/fence_lab, linked into /usr/sbin as fence_vigillab for Pacemaker's fencer while
the bench runs).

One run: the group runs on some node X. T0 = the bench's wall clock just before it pulls both of
X's cables. A probe in the lab's client namespace then tries the virtual IP every 10 ms: for the
Dummy group "answering" is the new owner of the address replying at all (a TCP reset on a closed
port); for the PostgreSQL group it is a TCP connect to PostgreSQL followed by `select now()`
answered. Failover = first answer - T0. Then X is powered on, reconnected and its daemons
restarted, and the bench waits until all three nodes are members again before the next run.

Pacemaker runs per node inside the node's network namespace and its own mount namespace (per-node
/etc/corosync, /var/lib/corosync, /var/lib/pacemaker, /var/log/pacemaker, a private /run), like
the membership bench's Corosync. Only processes inside the lab's namespaces are stopped, by PID.
"""
import json, os, shutil, statistics, subprocess, sys, time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from bench_systems import LAB, NODES, STATE, ROOT, lab, ns, sh, wait

VIP = "198.18.0.200"
PGPORT = 5433
FENCE_LINK = "/usr/sbin/fence_vigillab"

PROBE = r"""
import socket, subprocess, sys, time
mode, vip, port, psql, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
end = time.time() + limit
while time.time() < end:
    s = socket.socket()
    s.settimeout(0.05)
    ok = False
    try:
        s.connect((vip, port))
        ok = True
    except ConnectionRefusedError:
        ok = mode == "tcp"
    except OSError:
        pass
    finally:
        s.close()
    if ok and mode == "pgsql":
        try:
            r = subprocess.run([psql, "-h", vip, "-p", str(port), "-U", "postgres", "-d", "postgres", "-Atc", "select now()"],
                               capture_output=True, timeout=3, env={"PGCONNECT_TIMEOUT": "2", "PATH": "/usr/bin:/bin"}, cwd="/")
            ok = r.returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
    if ok:
        print("%.6f" % time.time(), flush=True)
        sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
"""


def pg_bin():
    d = sorted(os.listdir("/usr/lib/postgresql")) if os.path.isdir("/usr/lib/postgresql") else []
    return f"/usr/lib/postgresql/{d[-1]}/bin" if d else None


def vip_holders():
    """Lab nodes whose eth0 holds the virtual IP now (ground truth, read from each namespace)."""
    return [n for n in NODES if f" {VIP}/" in sh("ip", "-n", ns(n), "-o", "-4", "addr", "show", "dev", "eth0", check=False)]


def probe(service, limit=120):
    """Starts the probe in the client namespace; returns the Popen (its stdout: first answer time)."""
    mode, port = ("pgsql", PGPORT) if service == "pgsql" else ("tcp", 9)
    return subprocess.Popen(["ip", "netns", "exec", f"{LAB}-client", "python3", "-c", PROBE, mode, VIP, str(port),
                             f"{pg_bin()}/psql", str(limit)], stdout=subprocess.PIPE, text=True)


class VigilFailover:
    name = "Vigil"
    settings = {"default": ("20ms", "100ms"), "tightest": ("10ms", "25ms")}

    def __init__(self, setting, service):
        self.setting, self.service = setting, service
        self.interval, self.deadline = self.settings[setting]

    def describe(self):
        return f"interval {self.interval}, deadline {self.deadline}"

    def up(self):
        lab("down", check=False)
        lab("demo", "--release", "--service", self.service, "--prepare", "--interval", self.interval, "--deadline", self.deadline)
        self.bin = open(f"{STATE}/bin").read().strip()

    def status(self, n):
        try:
            return json.loads(sh(f"{self.bin}/vigilctl", "status", "--json", "--socket", f"{STATE}/n{n}/vigild.sock", check=False))
        except (ValueError, RuntimeError):
            return None

    def active(self):
        """The node running the whole group (as its vip), if every member agrees on it; else None."""
        for n in NODES:
            s = self.status(n)
            if not s or not s.get("view"):
                continue
            for r in s.get("resources") or []:
                if r["id"] == "vip" and len(r["activeOn"]) == 1 and r["nodes"].get(r["activeOn"][0]) == "running":
                    return int(r["activeOn"][0][1:])
            return None
        return None

    def all_members(self):
        s = self.status(1)
        return bool(s and s.get("view") and len(s["view"]["members"]) == len(NODES))

    def breakdown(self, t0, x):
        """Where the time of one failover went, in ms after the cut, from the events of the node
        that took the group over: the loss of n{x} seen, its fence confirmed, each member running."""
        # The probe can answer before the last agent has finished (and been reported): wait for it.
        if not wait(lambda: self.active(), 20, 0.05):
            return {}
        y = self.active()
        marks = {}
        for ms, e in self.events_since(y, t0):
            key = self.loss_mark(e, x)
            if not key and e["type"] == "resource_state" and e.get("state") == "running":
                key = f"{e.get('resource')} running"
            if key and key not in marks:
                marks[key] = ms
        return marks

    def events_since(self, y, t0):
        """Node y's events at or after t0, as (ms after t0, event)."""
        for line in sh(f"{self.bin}/vigilctl", "events", "--socket", f"{STATE}/n{y}/vigild.sock", check=False).splitlines():
            try:
                e = json.loads(line)
                t = datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
            except (ValueError, KeyError):
                continue
            if t >= t0:
                yield (t - t0) * 1000, e

    @staticmethod
    def loss_mark(e, x):
        """"loss seen" or "fenced" for the survivors' events about node x, else None."""
        if e["type"] == "peer_dead" and e.get("peer") == f"n{x}":
            return "loss seen"
        if e["type"] == "fence_result" and e.get("peer") == f"n{x}" and e.get("result") == "success":
            return "fenced"
        return None

    def restore(self, x):
        lab("power", str(x), "on", check=False)
        lab("heal", str(x))
        lab("start", str(x), check=False)


class PacemakerFailover:
    name = "Pacemaker"
    # Debian's corosync.conf sets no token (corosync 3: 3000 ms + 650 ms per node beyond two);
    # the tightest token that survived the membership bench's stress search here is 500 ms.
    settings = {"default": (3000, 650), "tightest": (500, 0)}

    nodes = NODES

    def __init__(self, setting, service):
        self.setting, self.service = setting, service
        self.token, self.coeff = self.settings[setting]

    def describe(self):
        return f"Corosync token {self.token} ms, token_coefficient {self.coeff} ms; Pacemaker defaults"

    def quorum_conf(self):
        return "quorum {\n    provider: corosync_votequorum\n}\n"

    def daemons(self):
        """What starts before pacemakerd in the node's namespaces."""
        return "corosync && "

    def mounts(self, n):
        """More bind mounts in node n's mount namespace (shell commands, each ending in ' && ')."""
        return ""

    def dir(self, n):
        return f"{STATE}/pcmk/n{n}"

    def make_lab(self):
        """The namespaces, links, storage and client, no daemons."""
        lab("down", check=False)
        lab("demo", "--release", "--service", self.service, "--no-start")

    def up(self):
        self.make_lab()
        if os.path.lexists(FENCE_LINK):
            os.unlink(FENCE_LINK)
        os.symlink(os.path.join(ROOT, "agents/stonith/fence_lab"), FENCE_LINK)
        shutil.rmtree(f"{STATE}/pcmk", ignore_errors=True)
        os.makedirs(f"{STATE}/pcmk")
        sh("corosync-keygen", "-k", f"{STATE}/pcmk/authkey")
        nodes = "".join(f"    node {{\n        ring0_addr: 198.18.0.{n}\n        ring1_addr: 198.18.1.{n}\n"
                        f"        nodeid: {n}\n        name: n{n}\n    }}\n" for n in self.nodes)
        conf = (f"totem {{\n    version: 2\n    cluster_name: {LAB}\n    transport: knet\n    token: {self.token}\n"
                f"    token_coefficient: {self.coeff}\n    crypto_cipher: aes256\n    crypto_hash: sha256\n"
                f"    interface {{\n        linknumber: 0\n    }}\n    interface {{\n        linknumber: 1\n    }}\n}}\n"
                f"nodelist {{\n{nodes}}}\n{self.quorum_conf()}"
                f"logging {{\n    to_stderr: no\n    to_logfile: yes\n    logfile: /var/log/corosync/corosync.log\n"
                f"    to_syslog: no\n    timestamp: hires\n}}\n")
        for n in self.nodes:
            d = self.dir(n)
            for sub in ("etc", "lib", "log", "pcmk-lib/cib", "pcmk-lib/pengine", "pcmk-lib/blackbox", "pcmk-lib/cores", "pcmk-log"):
                os.makedirs(f"{d}/{sub}")
            shutil.copy(f"{STATE}/pcmk/authkey", f"{d}/etc/authkey")
            os.chmod(f"{d}/etc/authkey", 0o400)
            open(f"{d}/etc/corosync.conf", "w").write(conf)
            sh("chown", "-R", "hacluster:haclient", f"{d}/pcmk-lib", f"{d}/pcmk-log")
            self.start(n)
        if not wait(self.all_members, 120, 0.5):
            raise RuntimeError(f"Pacemaker: the {len(self.nodes)} nodes did not come online")
        self.configure()

    def start(self, n):
        d = self.dir(n)
        script = (f"hostname n{n} && mount --bind {d}/etc /etc/corosync && mount --bind {d}/lib /var/lib/corosync && "
                  f"mount --bind {d}/log /var/log/corosync && mount --bind {d}/pcmk-lib /var/lib/pacemaker && "
                  f"mount --bind {d}/pcmk-log /var/log/pacemaker && {self.mounts(n)}"
                  # A private /run (pid files, agents' state), with the lab's state directory moved back in.
                  # (and /run/netns: the fence agent finds the lab's nodes there).
                  f"mount --rbind /run /mnt && mount -t tmpfs tmpfs /run && mkdir -p /run/vigil-lab /run/netns && "
                  f"mount --rbind /mnt/vigil-lab /run/vigil-lab && mount --rbind /mnt/netns /run/netns && "
                  f"mkdir -p /run/resource-agents && echo $$ > {d}/shell.pid && {self.daemons()}"
                  f"PCMK_logfile=/var/log/pacemaker/pacemaker.log exec pacemakerd")
        # Under the lab's reaper (as vigild runs): what fence_lab kills is reaped at once.
        lab("spawn", str(n), f"{d}/reaper.pid", f"{d}/stdout.log", "unshare", "-m", "-u", "sh", "-c", script)

    def cli(self, n, *args, check=False):
        """A Pacemaker command line tool inside node n's namespaces."""
        try:
            pid = open(f"{self.dir(n)}/shell.pid").read().strip()
        except OSError:
            return ""
        return sh("nsenter", "-t", pid, "-m", "-u", "-n", "--", *args, check=check)

    def mon(self, n):
        try:
            return ET.fromstring(self.cli(n, "crm_mon", "-1", "--output-as=xml"))
        except ET.ParseError:
            return None

    def all_members(self):
        m = self.mon(1)
        return m is not None and len([x for x in m.iter("node") if x.get("online") == "true" and x.get("name")]) == len(self.nodes)

    def active(self):
        m = self.mon(1)
        if m is None:
            return None
        for r in m.iter("resource"):
            if r.get("id") == "vip" and r.get("role") == "Started" and r.get("active") == "true":
                nodes = [x.get("name") for x in r.iter("node")]
                if len(nodes) == 1:
                    return int(nodes[0][1:])
        return None

    def configure(self):
        b = pg_bin()
        def prim(rid, cls, typ, params, provider="heartbeat", interval="10s"):
            ia = "".join(f'<nvpair id="{rid}-{k}" name="{k}" value="{v}"/>' for k, v in params)
            prov = f' provider="{provider}"' if provider else ""
            return (f'<primitive id="{rid}" class="{cls}"{prov} type="{typ}"><instance_attributes id="{rid}-ia">{ia}'
                    f'</instance_attributes><operations><op id="{rid}-mon" name="monitor" interval="{interval}"/>'
                    f'</operations></primitive>')
        if self.service == "dummy":
            members = prim("dummy", "ocf", "Dummy", [])
        else:
            members = (prim("fs", "ocf", "Filesystem", [("device", f"{STATE}/shared/disk"), ("directory", f"{STATE}/pgdata"),
                                                         ("fstype", "none"), ("options", "bind")])
                       + prim("pg", "ocf", "pgsql", [("pgctl", f"{b}/pg_ctl"), ("psql", f"{b}/psql"), ("pgdata", f"{STATE}/pgdata/data"),
                                                     ("pgport", PGPORT), ("socketdir", "/run/pgsql-socket"),
                                                     ("start_opt", "-k /run/pgsql-socket"), ("logfile", f"{STATE}/pgdata/postgres.log")]))
        members += prim("vip", "ocf", "IPaddr2", [("ip", VIP), ("cidr_netmask", 24), ("nic", "eth0")])
        hosts = ";".join(f"n{n}:{n}" for n in self.nodes)
        stonith = prim("labpower", "stonith", "fence_vigillab", [("lab", LAB), ("pcmk_host_map", hosts),
                                                                  ("pcmk_host_check", "static-list")], provider=None, interval="60s")
        self.cli(1, "cibadmin", "-C", "-o", "resources", "-X", stonith, check=True)
        self.cli(1, "cibadmin", "-C", "-o", "resources", "-X", f'<group id="db">{members}</group>', check=True)
        self.cli(1, "cibadmin", "-C", "-o", "constraints", "-X", '<rsc_location id="db-pref" rsc="db" node="n1" score="100"/>', check=True)

    def restore(self, x):
        lab("power", str(x), "on", check=False)
        lab("heal", str(x))
        self.start(x)


def failover_bench(a, say, stats, fmt):
    if os.geteuid() != 0:
        sys.exit("bench: run as root")
    need = [p for p, path in (("pacemaker", "/usr/sbin/pacemakerd"), ("corosync", "/usr/sbin/corosync"),
                              ("postgresql", pg_bin() or "/nonexistent"), ("resource-agents", "/usr/lib/ocf/resource.d/heartbeat/pgsql"),
                              ("bc", "/usr/bin/bc")) if not os.path.exists(path)]
    if need:
        subprocess.run(["apt-get", "install", "-y", "-qq"] + need, check=True)
    systems = {"vigil": VigilFailover, "pacemaker": PacemakerFailover}
    rows, steps = [], []
    try:
        for service in a.services.split(","):
            for key in a.systems.split(","):
                for setting in ("tightest", "default"):
                    s = systems[key](setting, service)
                    say(f"\n{s.name} {setting} ({s.describe()}), {service} group, {a.runs} runs")
                    s.up()
                    times, marks = [], {}
                    attempts = 0
                    # A run whose pre-check fails (status and address disagree) is retried, not lost.
                    while len(times) < a.runs and attempts < 3 * a.runs:
                        attempts += 1
                        i = len(times)
                        if not wait(lambda: s.all_members() and s.active(), 180, 0.2):
                            say("  the cluster did not settle with the group running; stopping this series")
                            break
                        time.sleep(0.5)
                        x = s.active()
                        held = vip_holders()
                        if held != [x]:
                            say(f"  run {i + 1}: the status says n{x} but the address is on {held}; waiting again")
                            continue
                        p = probe(service)
                        t0 = time.time()
                        lab("cut", str(x))
                        out, _ = p.communicate()
                        if p.returncode != 0:
                            say(f"  run {i + 1}: no answer within 120 s after cutting n{x}")
                            break
                        ms = (float(out.strip()) - t0) * 1000
                        times.append(ms)
                        b = s.breakdown(t0, x) if hasattr(s, "breakdown") else {}
                        for k, v in b.items():
                            marks.setdefault(k, []).append(v)
                        say(f"  run {i + 1}: cut n{x}; service answered again after {ms:.0f} ms"
                            + ("" if not b else " (" + ", ".join(f"{k} {v:.0f}" for k, v in sorted(b.items(), key=lambda kv: kv[1])) + ")"))
                        s.restore(x)
                    rows.append((service, s.name, setting, s.describe(), stats(times)))
                    if marks:
                        steps.append(f"- {service}, {s.name} {setting}: " + ", ".join(
                            f"{k} {statistics.median(v):.0f}" for k, v in sorted(marks.items(), key=lambda kv: statistics.median(kv[1])))
                            + f" ms after the cut (medians), then the first answer at {stats(times)['p50']:.0f} ms")
                    lab("down", check=False)
    finally:
        if os.path.lexists(FENCE_LINK):
            os.unlink(FENCE_LINK)
        lab("down", check=False)
    out = ["# Failover benchmark: Vigil and Pacemaker 2.1 + Corosync 3.1 on one lab", "",
           f"Written by `tools/bench failover --runs {a.runs} --services {a.services} --systems {a.systems}` on "
           f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; nothing here is typed by hand. Method: tools/bench_failover.py "
           "(T0 = both cables of the node running the group pulled; failover = the first answer through the virtual IP "
           "after T0, probed every 10 ms from the lab's client namespace). Same agents (Debian's resource-agents), "
           "same fence agent (fence_lab), same 3 namespaces and 2 links; Vigil release build.", "",
           "| group | system | setting | timing | failover (ms) |", "|---|---|---|---|---|"]
    out += [f"| {service} | {name} | {setting} | {desc} | {fmt(st)} |" for service, name, setting, desc, st in rows]
    out.append("")
    for service in a.services.split(","):
        v = next((r[4] for r in rows if r[0] == service and r[1] == "Vigil" and r[2] == "tightest" and r[4]), None)
        for r in rows:
            if r[0] == service and r[1] == "Pacemaker" and r[4] and v:
                out.append(f"- {service}: Pacemaker {r[2]} median / Vigil tightest median = {r[4]['p50'] / v['p50']:.1f}x")
    if steps:
        out += ["", "Where Vigil's time goes (events of the node that took over; the agents and the fence agent are",
                "the same for both systems):", ""] + steps
    text = "\n".join(out) + "\n"
    say("\n" + text)
    if a.write:
        open(a.write, "w").write(text)
