"""tools/bench scale: what heartbeats cost as the cluster grows (Vigil against Corosync, as root).

For each size (3, 8, 16 nodes by default) the bench makes a lab of that many nodes (tools/lab: one
network namespace per node, two bridges as two links) and runs, in turn:
  - Vigil (release build, multicast on both links, no fencing) at each interval given, with the
    deadline of the compare bench's ladder (10 ms -> 25 ms, 20 ms -> 60 ms);
  - Corosync 3 (knet, both links, aes256/sha256) at its tightest stable token from
    docs/benchmarks.md (500 ms, token_coefficient 0), on the same namespaces.
Per system and setting, after the cluster formed and settled:
  idle window (--window s): CPU per node from the kernel's run time of every process in the node's
    namespace (/proc/PID/task/*/schedstat), split into user and system from /proc/PID/stat;
    wake-ups per second (context switches of those threads); PSS and RSS per node
    (/proc/PID/smaps_rollup, summed over the node's processes); datagrams received per node per
    second (the node's two interfaces, rx_packets) and, for Vigil, frames accepted (its counter);
    CPU per datagram received (us) = CPU time / datagrams; membership changes (Vigil: view and
    peer_dead events; Corosync: "A new membership" lines) on every node;
  stress window (--stress s) of `stress-ng --cpu 2`: membership changes.
What the lab charges where: a node's send fans out through the bridge to every other node inside
the sender's system call (the kernel delivers each copy into the receiver's socket in the sender's
softirq), so a node's CPU includes the kernel's receive path of its frames at the other nodes; the
per-node mean over the cluster is the fair figure, and is what is printed.
"""
import json, os, re, statistics, subprocess, sys, time  # noqa: E401

from bench_systems import STATE, Corosync, Printed, Vigil, lab, ns, ns_pids, wait, write_report

LADDER = {"10ms": "25ms", "20ms": "60ms", "5ms": "15ms"}
COROSYNC_TOKEN = 500


def schedstat_ns(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def ctx_switches(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += sum(int(x) for x in re.findall(r"ctxt_switches:\s+(\d+)", open(f"/proc/{pid}/task/{tid}/status").read()))
        except OSError:
            pass
    return total


def user_sys_ticks(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]), int(f[12])


def memory_kb(pid):
    pss = rss = 0
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def rx_packets(n):
    out = subprocess.run(["ip", "netns", "exec", ns(n), "cat", "/sys/class/net/eth0/statistics/rx_packets",
                          "/sys/class/net/eth1/statistics/rx_packets"], capture_output=True, text=True).stdout.split()
    return sum(int(x) for x in out)


class Sample:
    """Counters of every process of every node, at one instant."""
    def __init__(self, nodes, frames=None):
        self.t = time.time()
        self.run, self.ticks, self.ctx, self.rx = {}, {}, {}, {}
        self.frames = {n: frames(n) for n in nodes} if frames else {}
        for n in nodes:
            pids = ns_pids(n)
            self.run[n] = sum(schedstat_ns(p) for p in pids if os.path.exists(f"/proc/{p}"))
            ticks = [user_sys_ticks(p) for p in pids if os.path.exists(f"/proc/{p}")]
            self.ticks[n] = (sum(u for u, _ in ticks), sum(s for _, s in ticks))
            self.ctx[n] = sum(ctx_switches(p) for p in pids if os.path.exists(f"/proc/{p}"))
            self.rx[n] = rx_packets(n)


def measure(nodes, window, frames=None):
    hz = os.sysconf("SC_CLK_TCK")
    a = Sample(nodes, frames)
    time.sleep(window)
    b = Sample(nodes, frames)
    dt = b.t - a.t
    cpu = [(b.run[n] - a.run[n]) / 1e9 / dt for n in nodes]
    user = [(b.ticks[n][0] - a.ticks[n][0]) / hz for n in nodes]
    system = [(b.ticks[n][1] - a.ticks[n][1]) / hz for n in nodes]
    share = sum(user) / max(1e-9, sum(user) + sum(system))
    rx = [(b.rx[n] - a.rx[n]) / dt for n in nodes]
    mem = [[memory_kb(p) for p in ns_pids(n)] for n in nodes]
    r = {"cpu": statistics.mean(cpu) * 100, "cpu_max": max(cpu) * 100, "user_share": share,
         "wakeups": statistics.mean((b.ctx[n] - a.ctx[n]) / dt for n in nodes),
         "rx": statistics.mean(rx), "pss": statistics.mean(sum(p for p, _ in m) for m in mem) / 1024,
         "rss": statistics.mean(sum(r for _, r in m) for m in mem) / 1024}
    r["us_per_datagram"] = statistics.mean(cpu) * 1e6 / r["rx"] if r["rx"] else 0
    if frames:
        r["frames"] = statistics.mean((b.frames[n] - a.frames[n]) / dt for n in nodes)
        r["us_per_frame"] = statistics.mean(cpu) * 1e6 / r["frames"] if r["frames"] else 0
    return r


def stress(sys_, nodes, seconds):
    marks = {n: sys_.mark(n) for n in nodes}
    subprocess.run(["stress-ng", "--cpu", "2", "--timeout", f"{seconds}s", "--quiet"], check=False)
    time.sleep(1)
    return sum(sys_.changes(n, marks[n]) for n in nodes)


def vigil_run(size, interval, a, say):
    deadline = LADDER[interval]
    lab("down", check=False)
    try:
        lab("up", "--release", "--nodes", str(size), "--interval", interval, "--deadline", deadline, "--no-fencing")
        nodes = tuple(range(1, size + 1))
        v = Vigil("scale", (interval, deadline), nodes)
        v.bin = open(f"{STATE}/bin").read().strip()

        def members_all():
            want = [f"n{i}" for i in nodes]
            return all(v.members(n) == want for n in nodes)

        if not wait(members_all, 60, 0.2):
            raise RuntimeError(f"Vigil: {size} nodes did not form one view in 60 s")

        def frames(n):
            try:
                return json.loads(v.ctl(n, "status", "--json"))["frames"]["received"]
            except (ValueError, KeyError):
                return 0

        time.sleep(a.settle)
        marks = {n: v.mark(n) for n in nodes}
        r = measure(nodes, a.window, frames)
        r["idle_changes"] = sum(v.changes(n, marks[n]) for n in nodes)
        r["stress_changes"] = stress(v, nodes, a.stress) if a.stress else None
        r.update(system="Vigil", size=size, timing=f"interval {interval}, deadline {deadline}")
        return r
    finally:
        lab("down", check=False)


def corosync_run(size, token, a, say):
    lab("down", check=False)
    c = None
    try:
        lab("up", "--release", "--nodes", str(size), "--no-start")
        nodes = tuple(range(1, size + 1))
        c = Corosync("scale", (token, 0), nodes)
        c.start()
        if not wait(c.formed, 120, 0.2):
            raise RuntimeError(f"Corosync: {size} nodes did not form one membership in 120 s")
        time.sleep(a.settle)
        marks = {n: c.mark(n) for n in nodes}
        r = measure(nodes, a.window)
        r["idle_changes"] = sum(c.changes(n, marks[n]) for n in nodes)
        r["stress_changes"] = stress(c, nodes, a.stress) if a.stress else None
        r.update(system="Corosync", size=size, timing=f"token {token} ms, token_coefficient 0")
        return r
    finally:
        if c:
            c.stop()
        lab("down", check=False)


def row(r):
    frames = f"{r['frames']:.0f}" if "frames" in r else "-"
    per_frame = f"{r['us_per_frame']:.1f}" if "us_per_frame" in r else "-"
    stress_ = "-" if r["stress_changes"] is None else str(r["stress_changes"])
    return (f"| {r['size']} | {r['system']} | {r['timing']} | {r['cpu']:.2f} ({r['cpu_max']:.2f}) | "
            f"{100 * r['user_share']:.0f} / {100 * (1 - r['user_share']):.0f} | {r['cpu'] * r['size']:.1f} | {r['wakeups']:.0f} | "
            f"{r['rx']:.0f} | {frames} | {r['us_per_datagram']:.1f} | {per_frame} | {r['pss']:.1f} / {r['rss']:.1f} | "
            f"{r['idle_changes']} | {stress_} |")


HEADER = ["| nodes | system | timing | CPU % per node, mean (max) | user / system % | CPU % all nodes | wake-ups/s per node | "
          "datagrams/s received per node | frames/s accepted per node | us CPU per datagram | us CPU per frame | "
          "PSS / RSS MB per node | membership changes idle | under stress |",
          "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]


def scale_bench(a, say):
    if subprocess.run(["sh", "-c", "command -v stress-ng && command -v corosync"], capture_output=True).returncode:
        subprocess.run(["apt-get", "install", "-y", "-qq", "stress-ng", "corosync"], check=True)
    out = Printed(say)
    results = []
    sizes = [int(s) for s in a.sizes.split(",")]
    systems = a.systems.split(",")
    out(f"tools/bench scale: sizes {sizes}, Vigil intervals {a.intervals}, Corosync token {a.token} ms; "
        f"{a.window} s idle window, {a.stress} s of stress-ng --cpu 2 (release build, {os.cpu_count()} cores)")
    for size in sizes:
        if "vigil" in systems:
            for interval in a.intervals.split(","):
                r = vigil_run(size, interval, a, say)
                results.append(r)
                say(row(r))
        if "corosync" in systems:
            r = corosync_run(size, a.token, a, say)
            results.append(r)
            say(row(r))
    out("")
    for line in HEADER + [row(r) for r in results]:
        out(line)
    out("")
    for r in results:
        if r["system"] == "Vigil" and r.get("us_per_frame"):
            goal = "met" if r["us_per_frame"] <= 5 else "MISSED"
            out(f"- Vigil {r['size']} nodes, {r['timing']}: {r['us_per_frame']:.1f} us of CPU per frame accepted, kernel "
                f"included (goal at most 5: {goal}); {r['cpu']:.2f} % of a core per node")
    if a.write:
        write_report(a.write, "Heartbeat cost as the cluster grows", "tools/bench " + " ".join(sys.argv[1:]),
                     "tools/bench_scale.py", "none (a bench, not a test)", out.lines)
