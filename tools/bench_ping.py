"""tools/bench ping: connectivity-driven failover of a virtual IP (Vigil, real daemons, as root).

Debian's ocf:pacemaker:ping runs on every node (an anonymous clone, ping-clone) against a gateway
namespace (198.18.0.254 on link 0) and writes pingd through the attrd_updater shim; a virtual IP
(ocf:heartbeat:IPaddr2) has the rule "-INFINITY: not_defined pingd or pingd lt 1". Each run: the
node holding the address loses its route to the gateway only (a blackhole route in its namespace;
its heartbeat links stay up, nothing is fenced); the bench times, from that instant, (a) n1's
event that the node's pingd became 0 and (b) the address answering pings from the gateway again
(from another node). Then the route comes back and the bench waits for pingd = 1000 there. It
prints per run and the median, and what the agent's own settings account for: its monitor
interval (the failure is seen at the next monitor: up to one interval) and the dampening delay.
"""
import json, os, statistics, subprocess, time  # noqa: E401

from bench_systems import ENV, ROOT, STATE, Printed, lab, release_lab, wait, write_report

MONITOR, DAMPEN, TIMEOUT = 1.0, 1.0, 1  # seconds: the agent's settings in this bench
VIP = "198.18.0.224"


def config():
    return f"""[[resource]]
id = "ping"
agent = "ocf:pacemaker:ping"
params = ["host_list=198.18.0.254", "multiplier=1000", "dampen={int(DAMPEN)}s", "attempts=1", "timeout={TIMEOUT}", "pidfile={STATE}/%n/ping.pid"]
monitor_interval = "{int(MONITOR)}s"

[[clone]]
id = "ping-clone"
of = "ping"

[[resource]]
id = "vip"
agent = "ocf:heartbeat:IPaddr2"
params = ["ip={VIP}", "cidr_netmask=24", "nic=eth0"]
rules = ["-INFINITY: not_defined pingd or pingd lt 1"]
monitor_interval = "1s"
"""


def run(*args):
    """tools/lab ARGS, with its exit status (lab() only returns the output)."""
    return subprocess.run([os.path.join(ROOT, "tools/lab"), *args], env=ENV, text=True, capture_output=True)


def holders():
    out = []
    for n in (1, 2, 3):
        r = run("exec", str(n), "ip", "-o", "-4", "addr", "show", "dev", "eth0")
        if VIP + "/" in r.stdout:
            out.append(n)
    return out


def answers():
    return run("gw-exec", "ping", "-n", "-q", "-c", "1", "-W", "0.2", VIP).returncode == 0


def events(n=1):
    r = run("ctl", str(n), "events")
    return [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]


def pingd(node):
    r = run("ctl", "1", "attr", "get", "pingd", "--node", f"n{node}")
    return r.stdout.strip() if r.returncode == 0 else None


def iso_to_epoch(s):
    from datetime import datetime
    return datetime.strptime(s.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def ping_bench(a, say, stats, fmt):
    seen, answered, out = [], [], Printed(say)
    with release_lab("ping", config()):
        lab("gateway")
        if not wait(lambda: all(pingd(n) == "1000" for n in (1, 2, 3)) and len(holders()) == 1, 60, 0.2):
            raise RuntimeError("the address did not come up with pingd = 1000 everywhere")
        for run in range(1, a.runs + 1):
            victim = holders()[0]
            last = max((e["seq"] for e in events()), default=0)
            t0 = time.time()
            lab("exec", str(victim), "ip", "route", "add", "blackhole", "198.18.0.254/32")
            ok = wait(lambda: answers() and holders() not in ([], [victim]), 30, 0.02)
            t1 = time.time()
            zero = [e for e in events() if e["seq"] > last and e.get("type") == "attribute" and e.get("attribute") == "pingd"
                    and e.get("peer") == f"n{victim}" and e.get("value") == "0"]
            if ok:
                answered.append((t1 - t0) * 1000)
            if zero:
                seen.append((iso_to_epoch(zero[0]["time"]) - t0) * 1000)
            out(f"run {run}: n{victim} lost its gateway; pingd 0 after "
                + (f"{seen[-1]:.0f} ms" if zero else "?") + "; address answers from n"
                + (f"{holders()[0]} after {answered[-1]:.0f} ms" if ok else "? (no answer in 30 s)"))
            lab("exec", str(victim), "ip", "route", "del", "blackhole", "198.18.0.254/32")
            wait(lambda: pingd(victim) == "1000", 30, 0.2)
        out("")
        out(f"pingd = 0 seen (cut -> n1's event): {fmt(stats(seen))}")
        out(f"address answers again (cut -> ping from the gateway answered): {fmt(stats(answered))}")
        if answered:
            med = statistics.median(answered)
            agent = MONITOR / 2 + DAMPEN
            out(f"of the median {med:.0f} ms, the agent's own settings account for about {agent * 1000:.0f} ms on average: "
                f"half its {MONITOR:.0f} s monitor interval before the next check sees the loss, and its {DAMPEN:.0f} s "
                f"dampening (a blackhole route fails ping at once; a gateway that stops answering adds the {TIMEOUT} s ping "
                f"timeout); the rest ({med - agent * 1000:.0f} ms) is the agent's own run, the attribute write confirmed by "
                f"every member, the owner's decision, IPaddr2's stop and start, and the bench's polling")
        if a.write:
            write_report(a.write, "Connectivity failover (`tools/bench ping`)", f"tools/bench ping --runs {a.runs} --write {a.write}",
                         "tools/bench_ping.py", "PingLabTests", out.lines)
