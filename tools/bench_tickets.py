"""tools/bench tickets: a site ticket handed over between two sites (Vigil; booth not yet).

One run: the ticket is granted to site X and its service (Debian's Dummy) runs there. T0 = the
bench's clock just before the operator revokes it at X; the bench then asks the other site Y to
take it, again every 50 ms until Y accepts; hand-over = the service running at Y - T0. The next
run goes back the other way.

- Vigil: two two-node clusters (tools/lab up --arbiter, and a second lab --arbiter-of the first,
  cluster id 8) sharing the first lab's three-member etcd, a 3 s lease; `vigilctl ticket revoke`
  at X, `vigilctl ticket grant` at Y (refused until the revoked lease expired).

The same hand-over under booth (Debian's booth 1.0 with one-node Pacemaker sites and booth's
arbitrator) is not measured yet: the first attempt did not get the sites' boothd running inside
the lab's per-node namespaces.
"""
import os, subprocess, time

from bench_systems import LAB, STATE, ROOT, lab, sh
from bench_arbiter import wait

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

    def hand_over(self, x, y):
        t0 = time.time()
        labx(self.sites[x], "ctl", "1", "ticket", "revoke", "t1")
        if not wait(lambda: labx(self.sites[y], "ctl", "1", "ticket", "grant", "t1", check=False).returncode == 0, 30, 0.05):
            return None
        return time.time() - t0 if wait(lambda: self.runs(y) and not self.runs(x), 30, 0.02) else None

    def down(self):
        for s in reversed(self.sites):
            labx(s, "down", check=False)


def tickets_bench(a, say, stats, fmt):
    if os.geteuid() != 0:
        raise SystemExit("bench: run as root")
    need = [p for p, path in (("etcd-server", "/usr/bin/etcd"),) if not os.path.exists(path)]
    if need:
        subprocess.run(["apt-get", "install", "-y", "-qq"] + need, check=True)
    rows = []
    for key in a.systems.split(","):
        if key != "vigil":
            raise SystemExit(f"bench tickets: unknown system {key} (booth is not set up yet)")
        s = VigilTickets()
        say(f"\n{s.name}: {a.runs} hand-overs")
        times = []
        try:
            s.up()
            for run in range(a.runs):
                x, y = run % 2, 1 - run % 2
                t = s.hand_over(x, y)
                say(f"  run {run + 1}: site {x + 1} -> site {y + 1}: " + (f"{t * 1000:.0f} ms" if t is not None else "no hand-over"))
                if t is not None:
                    times.append(t * 1000)
        finally:
            s.down()
        rows.append((s.name, times))
    say("\nTicket hand-over (revoke at one site to the service running at the other), ms")
    for name, ts in rows:
        say(f"  {name:50s} {fmt(stats(ts)) if ts else '-'}")
