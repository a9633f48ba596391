"""tools/bench tickets: a site ticket handed over between two sites, Vigil and booth.

One run: the ticket is granted to site X and its service (Debian's Dummy) runs there. T0 = the
bench's clock just before the operator revokes it at X; the bench then asks the other site Y to
take it, again every 50 ms until Y accepts; hand-over = the service running at Y - T0. The next
run goes back the other way.

- Vigil: two two-node clusters (tools/lab up --arbiter, and a second lab --arbiter-of the first,
  cluster id 8) sharing the first lab's three-member etcd, a 3 s lease; `vigilctl ticket revoke`
  at X, `vigilctl ticket grant` at Y (refused until X released the ticket, or its lease expired).

- booth: Debian 12's booth 1.0 and Pacemaker 2.1 + Corosync 3.1: two one-node Pacemaker clusters
  (sites n1 and n2 of the lab, each in its node's namespaces) and booth's arbitrator in the lab's
  gateway (198.18.0.254); ticket t1 (manual grant, expire 6 s, timeout 1 s, retries 3, renewal
  every 5 s: booth refuses a renewal shorter than timeout x (retries + 1)), the service bound with
  rsc_ticket loss-policy=stop; `booth revoke t1` at X, `booth grant t1` at Y. Debian 12's boothd
  hangs at start on Linux 6.9 and later (it waits for a netlink reply that never comes: fixed
  upstream in ClusterLabs/booth pull request 139); the bench loads tools/booth_netlink_fix.c
  (LD_PRELOAD) into boothd and booth, which hands them the kernel's reply as older kernels sent it.

Each run also notes whether X still ran the service (its state file there) right after Y's grant
was accepted: booth frees the ticket as soon as X's boothd has revoked it in X's CIB, without
waiting for X's Pacemaker to stop what the ticket bound; Vigil's site X releases the revoked
ticket (deletes its key) only once its owner knows the bound resources stopped on every member,
and otherwise its lease must expire first.
"""
import os, shutil, subprocess, time

from bench_systems import LAB, STATE, ROOT, lab, sh
from bench_arbiter import wait
from bench_failover import PacemakerFailover

TICKET_CONF = """
[[resource]]
id = "svc"
agent = "ocf:heartbeat:Dummy"
params = ["state={state}/%n/svc.state"]
prefer = ["n1:200"]
monitor_interval = "2s"
stop_timeout = "5s"
[[ticket]]
name = "t1"
resources = ["svc"]
stop_margin = "1s"
"""


def labx(name, *args, check=True):
    env = dict(os.environ, VIGIL_LAB=name)
    r = subprocess.run([os.path.join(ROOT, "tools/lab"), *args], env=env, text=True, capture_output=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"tools/lab {' '.join(args)} ({name}) failed: {r.stdout}{r.stderr}")
    return r


class VigilTickets:
    name = "Vigil tickets (etcd, 3 s lease)"

    def __init__(self):
        self.sites = [LAB, LAB[:6] + "b"]

    def up(self):
        for s in reversed(self.sites):
            labx(s, "down", check=False)
        for i, s in enumerate(self.sites):
            extra = f"/tmp/vigil-bench-ticket-{s}.conf"
            open(extra, "w").write(TICKET_CONF.format(state=f"/run/vigil-lab/{s}"))
            args = ["up", "--release", "--nodes", "2", "--fence-extra", extra]
            labx(s, *(args + (["--arbiter"] if i == 0 else ["--arbiter-of", self.sites[0], "--cluster-id", "8"])))
            os.unlink(extra)
        if labx(self.sites[0], "ctl", "1", "ticket", "grant", "t1", check=False).returncode != 0:
            raise RuntimeError("Vigil: the first grant was refused")
        if not wait(lambda: self.runs(0), 30):
            raise RuntimeError("Vigil: svc did not start at the first site")

    def runs(self, i):
        return os.path.exists(f"/run/vigil-lab/{self.sites[i]}/n1/svc.state")

    def revoke(self, x):
        labx(self.sites[x], "ctl", "1", "ticket", "revoke", "t1")

    def grant(self, y):
        return labx(self.sites[y], "ctl", "1", "ticket", "grant", "t1", check=False).returncode == 0

    def down(self):
        for s in reversed(self.sites):
            labx(s, "down", check=False)


BOOTH_CONF = """transport = UDP
port = 9929
arbitrator = 198.18.0.254
site = 198.18.0.1
site = 198.18.0.2
ticket = "t1"
    expire = 6
    timeout = 1
    retries = 3
    renewal-freq = 5
"""


class BoothTickets(PacemakerFailover):
    name = "booth 1.0 + Pacemaker 2.1 (expire 6 s)"
    nodes = (1, 2)

    def __init__(self):
        super().__init__("tightest", "dummy")
        self.shim = f"{STATE}/pcmk/booth_netlink_fix.so"

    def mounts(self, n):
        return f"mount --bind {self.dir(n)}/booth /etc/booth && "

    def daemons(self):
        return "mkdir -p /run/booth && corosync && "

    def up(self):
        lab("down", check=False)
        lab("up", "--release", "--nodes", "2", "--no-start")
        lab("gateway")
        shutil.rmtree(f"{STATE}/pcmk", ignore_errors=True)
        os.makedirs(f"{STATE}/pcmk")
        sh("cc", "-shared", "-fPIC", "-O2", "-o", self.shim, os.path.join(ROOT, "tools/booth_netlink_fix.c"), "-ldl")
        sh("corosync-keygen", "-k", f"{STATE}/pcmk/authkey")
        open(f"{STATE}/pcmk/booth-arbitrator.conf", "w").write(BOOTH_CONF)
        for n in self.nodes:
            d = self.dir(n)
            for sub in ("etc", "lib", "log", "booth", "pcmk-lib/cib", "pcmk-lib/pengine", "pcmk-lib/blackbox", "pcmk-lib/cores", "pcmk-log"):
                os.makedirs(f"{d}/{sub}")
            shutil.copy(f"{STATE}/pcmk/authkey", f"{d}/etc/authkey")
            os.chmod(f"{d}/etc/authkey", 0o400)
            open(f"{d}/booth/booth.conf", "w").write(BOOTH_CONF)
            # One node per site: a cluster of its own.
            open(f"{d}/etc/corosync.conf", "w").write(
                f"totem {{\n    version: 2\n    cluster_name: site{n}\n    transport: knet\n    token: {self.token}\n"
                f"    crypto_cipher: aes256\n    crypto_hash: sha256\n    interface {{\n        linknumber: 0\n    }}\n}}\n"
                f"nodelist {{\n    node {{\n        ring0_addr: 198.18.0.{n}\n        nodeid: 1\n        name: n{n}\n    }}\n}}\n"
                f"{self.quorum_conf()}logging {{\n    to_stderr: no\n    to_logfile: yes\n"
                f"    logfile: /var/log/corosync/corosync.log\n    to_syslog: no\n    timestamp: hires\n}}\n")
            sh("chown", "-R", "hacluster:haclient", f"{d}/pcmk-lib", f"{d}/pcmk-log")
            self.start(n)
        for n in self.nodes:
            if not wait(lambda: self.online(n), 120, 0.5):
                raise RuntimeError(f"booth: the Pacemaker site n{n} did not come online")
            self.cli(n, "crm_attribute", "-t", "crm_config", "-n", "stonith-enabled", "-v", "false", check=True)
            self.cli(n, "cibadmin", "-C", "-o", "resources", "-X",
                     f'<primitive id="svc" class="ocf" provider="heartbeat" type="Dummy"><instance_attributes id="svc-ia">'
                     f'<nvpair id="svc-state" name="state" value="{self.dir(n)}/svc.state"/></instance_attributes><operations>'
                     f'<op id="svc-mon" name="monitor" interval="2s"/></operations></primitive>', check=True)
            self.cli(n, "cibadmin", "-C", "-o", "constraints", "-X",
                     '<rsc_ticket id="svc-t1" rsc="svc" ticket="t1" loss-policy="stop"/>', check=True)
        # The arbitrator in the gateway, each site's boothd in its node's namespaces (where its Pacemaker is).
        sh("ip", "netns", "exec", f"{LAB}-gw", "sh", "-c",
           f"mkdir -p /run/booth; LD_PRELOAD={self.shim} boothd daemon -c {STATE}/pcmk/booth-arbitrator.conf")
        for n in self.nodes:
            self.cli(n, "env", f"LD_PRELOAD={self.shim}", "boothd", "daemon", "-c", "/etc/booth/booth.conf", check=True)
        if not wait(lambda: self.booth(1, "grant", "t1"), 30, 0.5):
            raise RuntimeError("booth: the first grant was refused")
        if not wait(lambda: self.runs(0), 30):
            raise RuntimeError("booth: svc did not start at the first site")

    def online(self, n):
        m = self.mon(n)
        return m is not None and any(x.get("online") == "true" for x in m.iter("node"))

    def booth(self, n, *args):
        pid = open(f"{self.dir(n)}/shell.pid").read().strip()
        return subprocess.run(["nsenter", "-t", pid, "-m", "-u", "-n", "--", "env", f"LD_PRELOAD={self.shim}", "booth", *args],
                              capture_output=True, timeout=20).returncode == 0

    def runs(self, i):
        return os.path.exists(f"{self.dir(i + 1)}/svc.state")

    def revoke(self, x):
        if not self.booth(x + 1, "revoke", "t1"):
            raise RuntimeError(f"booth: revoke at site {x + 1} failed")

    def grant(self, y):
        return self.booth(y + 1, "grant", "t1")

    def down(self):
        lab("down", check=False)


def hand_over(s, x, y):
    """Revoke at x, grant at y until accepted; the times (from the revoke) at which y's grant was
    accepted, x's service was seen stopped and y's runs, and whether x still ran it once y's grant
    had been accepted (None if no hand-over within 30 s)."""
    t0 = time.time()
    s.revoke(x)
    stopped, early = [None], [False]

    def x_stopped():
        if stopped[0] is None and not s.runs(x):
            stopped[0] = time.time() - t0
        return stopped[0] is not None

    def granted():
        x_stopped()
        if not s.grant(y):
            return False
        early[0] = s.runs(x)
        return True
    if not wait(granted, 30, 0.05):
        return None
    accepted = time.time() - t0
    if not wait(lambda: x_stopped() and s.runs(y), 30, 0.02):
        return None
    return accepted, stopped[0], time.time() - t0, early[0]


def tickets_bench(a, say, stats, fmt):
    if os.geteuid() != 0:
        raise SystemExit("bench: run as root")
    need = [p for p, path in (("etcd-server", "/usr/bin/etcd"), ("booth", "/usr/sbin/boothd"), ("pacemaker", "/usr/sbin/pacemakerd"),
                              ("corosync", "/usr/sbin/corosync"), ("gcc", "/usr/bin/cc")) if not os.path.exists(path)]
    if need:
        subprocess.run(["apt-get", "install", "-y", "-qq"] + need, check=True)
    systems = {"vigil": VigilTickets, "booth": BoothTickets}
    rows = []
    for key in a.systems.split(","):
        if key not in systems:
            raise SystemExit(f"bench tickets: unknown system {key} (vigil, booth)")
        s = systems[key]()
        say(f"\n{s.name}: {a.runs} hand-overs")
        times, early = [], 0
        try:
            s.up()
            for run in range(a.runs):
                x, y = run % 2, 1 - run % 2
                t = hand_over(s, x, y)
                if t is None:
                    say(f"  run {run + 1}: site {x + 1} -> site {y + 1}: no hand-over")
                    continue
                accepted, stopped, running, still = t
                early += still
                say(f"  run {run + 1}: site {x + 1} -> site {y + 1}: {running * 1000:.0f} ms (grant accepted at {accepted * 1000:.0f} ms,"
                    f" seen stopped at site {x + 1} at {stopped * 1000:.0f} ms{', STILL RUNNING there when the grant was accepted' if still else ''})")
                times.append(running * 1000)
        finally:
            s.down()
        rows.append((s.name, times, early))
    say("\nTicket hand-over (revoke at one site to the service running at the other), ms")
    for name, ts, early in rows:
        say(f"  {name:50s} {fmt(stats(ts)) if ts else '-'}")
    say("Runs where the old site still ran the service after the new site's grant was accepted:")
    for name, ts, early in rows:
        say(f"  {name:50s} {early}/{len(ts)}")
