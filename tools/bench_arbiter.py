"""tools/bench arbiter: a two-node split, Vigil with fence delays only, Vigil with the etcd arbiter,
and Pacemaker 2.1 + Corosync 3.1 with corosync-qnetd (Debian's packages), on the same lab, with the
same agents (Debian's Dummy and IPaddr2 as one group preferring n1) and the same fence agent
(agents/stonith/fence_lab; fence_vigillab for Pacemaker's fencer while the bench runs).

One run: the group runs on n1. T0 = the bench's clock just before it pulls all of n1's cables (both
heartbeat links, and with the arbiter n1's link to etcd: n1 is cut off from everything, as a node
whose switch died). A probe in the lab's gateway namespace (198.18.0.254, also where qnetd runs)
then connects to the virtual IP every 10 ms; the new holder answering at all (a TCP reset on
port 9) ends the run: time until the surviving side runs the services = first answer - T0.
Then n1 is powered on, reconnected and restarted, and the bench waits until the group is back on n1.

- Vigil, fence delays only: two_node, n1 with fence_delay 2s (the lab's two-node default): n2 waits
  2 s before fencing n1, then starts the group.
- Vigil, arbiter: a 3 s lease on a three-member etcd; before each run the vote is put on n1 (n2 is
  restarted cleanly: it hands the vote over), so n2 must wait for the lease to expire, the worst
  case. (With the vote on the survivor it takes the group at once, fencing n1 with no delay.)
- Pacemaker + qnetd: Corosync token 500 ms (the tightest the membership bench found stable here),
  corosync-qdevice model net, algorithm ffsplit, TLS off, qnetd in the gateway namespace.

Ticket hand-over between two sites, Vigil against booth: tools/bench tickets (bench_tickets.py).
"""
import os, shutil, subprocess, time

from bench_systems import LAB, STATE, ROOT, lab, ns, sh, release_lab
from bench_failover import PROBE, VIP, PacemakerFailover

NODES2 = (1, 2)
GROUP = f"""
[[resource]]
id = "dummy"
agent = "ocf:heartbeat:Dummy"
params = ["state={STATE}/%n/dummy.state"]
group = "svc"
prefer = ["n1:200"]
monitor_interval = "2s"
[[resource]]
id = "vip"
agent = "ocf:heartbeat:IPaddr2"
params = ["ip={VIP}", "cidr_netmask=24", "nic=eth0"]
group = "svc"
monitor_interval = "2s"
"""


def wait(cond, seconds, step=0.1):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return False


def vip_holders():
    return [n for n in NODES2 if f" {VIP}/" in sh("ip", "-n", ns(n), "-o", "-4", "addr", "show", "dev", "eth0", check=False)]


def probe():
    """The probe (bench_failover's) in the gateway namespace: its stdout is the first answer's time."""
    return subprocess.Popen(["ip", "netns", "exec", f"{LAB}-gw", "python3", "-c", PROBE, "tcp", VIP, "9", "/bin/true", "20"],
                            stdout=subprocess.PIPE, text=True)


def cut_off(n, arbiter):
    """Pulls every cable of node n (and, with the arbiter, its link to etcd); returns T0."""
    t0 = time.time()
    lab("cut", str(n))
    if arbiter:
        lab("arbiter-cut", str(n))
    return t0


def first_answer(p):
    out = p.communicate()[0].strip()
    return float(out) if out else None


class VigilSplit:
    def __init__(self, arbiter, favour=1):
        self.arbiter, self.favour = arbiter, favour
        self.name = ("Vigil, etcd arbiter (3 s lease)" if arbiter
                     else f"Vigil, two_node, fence_delay 2 s on n{favour} ({'the services' if favour == 1 else 'the other'} node)")

    def up(self):
        lab("down", check=False)
        extra = f"/tmp/vigil-bench-arbiter-{os.getpid()}.conf"
        open(extra, "w").write(GROUP)
        args = ["up", "--release", "--nodes", "2", "--fence-extra", extra] + (["--arbiter"] if self.arbiter else ["--favour", str(self.favour)])
        lab(*args)
        os.unlink(extra)
        lab("gateway")
        if not wait(lambda: vip_holders() == [1], 30):
            raise RuntimeError("Vigil: the group did not start on n1")

    def prepare(self):
        """Both nodes in one view, the group on n1; with the arbiter, the vote on n1 too (n2
        restarted cleanly hands it over)."""
        if not wait(lambda: all("2/2 members" in lab("ctl", str(n), "check", check=False) for n in NODES2), 60):
            return False
        if self.arbiter:
            if "held by n1" not in lab("ctl", "2", "status", check=False):
                lab("stop", "2")
                lab("start", "2")
            if not wait(lambda: all("held by n1, its vote counts here" in lab("ctl", str(n), "status", check=False) for n in NODES2), 30):
                return False
        return wait(lambda: vip_holders() == [1], 30)

    def restore(self):
        """Both nodes powered and connected, their daemons running (the fence race may have cut either)."""
        lab("heal", "1")
        if self.arbiter:
            lab("arbiter-heal", "1")
        for n in NODES2:
            lab("power", str(n), "on", check=False)
            lab("start", str(n), check=False)
        wait(lambda: vip_holders() == [1], 60)

    def down(self):
        lab("down", check=False)


class PacemakerQnetd(PacemakerFailover):
    """Two Pacemaker nodes with corosync-qdevice (ffsplit) against corosync-qnetd in the gateway."""
    nodes = NODES2

    def __init__(self):
        super().__init__("tightest", "dummy")
        self.name = "Pacemaker + Corosync + qnetd (token 500 ms, ffsplit)"
        self.qnetd = None

    def make_lab(self):
        lab("down", check=False)
        lab("demo", "--release", "--service", "dummy", "--no-start", "--nodes", "2")
        lab("gateway")
        os.makedirs(f"{STATE}/qnetd", exist_ok=True)
        sh("chown", "coroqnetd:coroqnetd", f"{STATE}/qnetd", check=False)
        self.qnetd = subprocess.Popen(["ip", "netns", "exec", f"{LAB}-gw", "corosync-qnetd", "-f", "-s", "off", "-l", "198.18.0.254"],
                                      stdout=open(f"{STATE}/qnetd/qnetd.log", "w"), stderr=subprocess.STDOUT)

    def quorum_conf(self):
        return ("quorum {\n    provider: corosync_votequorum\n    device {\n        model: net\n        votes: 1\n"
                "        net {\n            host: 198.18.0.254\n            algorithm: ffsplit\n            tls: off\n        }\n    }\n}\n")

    def daemons(self):
        # corosync-qdevice needs corosync's cmap up: wait for it (with a deadline), not a fixed sleep.
        return ("corosync && for i in $(seq 100); do corosync-cmapctl -g totem.cluster_name >/dev/null 2>&1 && break; sleep 0.1; done && "
                "mkdir -p /run/corosync-qdevice && corosync-qdevice && ")

    def prepare(self):
        return wait(lambda: self.all_members() and vip_holders() == [1], 120, 0.5)

    def restore(self):
        super().restore(1)

    def down(self):
        if self.qnetd:
            self.qnetd.kill()
            self.qnetd.wait()
        lab("down", check=False)


def split_bench(a, say, stats, fmt):
    if os.geteuid() != 0:
        raise SystemExit("bench: run as root")
    need = [p for p, path in (("pacemaker", "/usr/sbin/pacemakerd"), ("corosync-qnetd", "/usr/bin/corosync-qnetd"),
                              ("corosync-qdevice", "/usr/sbin/corosync-qdevice"), ("etcd-server", "/usr/bin/etcd"))
            if not os.path.exists(path)]
    if need:
        subprocess.run(["apt-get", "install", "-y", "-qq"] + need, check=True)
    rows = []
    systems = {"vigil-delay": lambda: VigilSplit(False), "vigil-delay-other": lambda: VigilSplit(False, favour=2),
               "vigil-arbiter": lambda: VigilSplit(True), "pacemaker-qnetd": PacemakerQnetd}
    for key in a.systems.split(","):
        s = systems[key]()
        say(f"\n{s.name}: {a.runs} runs, n1 (running the group) cut off from everything")
        times, lost = [], []
        try:
            s.up()
            for run in range(a.runs):
                if not s.prepare():
                    say(f"  run {run + 1}: the group (or the vote) did not come back to n1; stopping")
                    break
                # Cut first, then probe (n1 answers until it is cut off; the probe starts within ~50 ms).
                t0 = cut_off(1, getattr(s, "arbiter", False))
                p = probe()
                t = first_answer(p)
                off = [n for n in NODES2 if lab("power", str(n), "status", check=False).strip().endswith("OFF")]
                if t is None:
                    lost.append(run)
                    say(f"  run {run + 1}: no answer within 20 s; powered off: {off or 'none'}; the address on {vip_holders() or 'no node'}"
                        + (" (the cut-off n1 won the fence race: the group stays there, out of reach)" if off == [2] else ""))
                else:
                    times.append((t - t0) * 1000)
                    say(f"  run {run + 1}: the group answered on n{vip_holders()} after {(t - t0) * 1000:.0f} ms; powered off: {off or 'none'}")
                s.restore()
        finally:
            s.down()
        rows.append((s.name, times, lost))
    say("\nTwo-node split (n1, running the group, cut off from everything): time until the group answers on n2 (ms)")
    for name, ts, lost in rows:
        say(f"  {name:62s} {fmt(stats(ts)) if ts else '-'}" + (f"; no failover in {len(lost)} run(s)" if lost else ""))
    return rows
