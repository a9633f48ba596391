"""tools/bench flood: forged frames on one link at the highest rate one sender in the lab makes
(Vigil, real daemons, as root).

A release lab of three nodes (10 ms interval, 25 ms deadline, fencing on); a flooder
(tools/flood.py) in the lab's gateway namespace on link 0's bridge captures genuine frames, then
sends a mix of forgeries (random bytes, fresh sequence with a made-up tag, replayed captures, made-up
incarnations) to link 0's multicast group, so every node receives all of it. The bench prints:
  - idle: CPU per node without the flood (the nodes' run time, /proc/PID/task/*/schedstat);
  - flood: the flooder's rate, datagrams each node received, frames each rejected (by reason, from
    the daemons' counters), CPU per node, and the added CPU per rejected frame
    ((CPU with flood - CPU idle) / frames rejected), against the CPU per accepted frame when idle;
  - membership changes (view and peer_dead events) on every node during the flood: the goal is 0;
  - the detection time of a real death during the flood: n3's cables are cut (both links) while
    the flood goes on, T0 -> n1's view without n3, for --runs runs (n3 is powered on and rejoins
    between runs).
"""
import json, os, statistics, subprocess, threading, time  # noqa: E401

from bench_systems import ROOT, STATE, Printed, Vigil, lab, ns_pids, wait, write_report
from bench_scale import measure

FLOOD = os.path.join(ROOT, "tools/flood.py")


def counters(v, n):
    try:
        f = json.loads(v.ctl(n, "status", "--json"))["frames"]
        return f["received"], f["rejected"]
    except (ValueError, KeyError):
        return 0, {}


def start_flood(seconds, kinds):
    return subprocess.Popen(["ip", "netns", "exec", f"{os.environ.get('VIGIL_LAB', 'bench')}-gw", "python3", FLOOD,
                             "239.192.0.1", "5405", "eth0", str(seconds), kinds],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def flood_bench(a, say, stats, fmt):
    out = Printed(say)
    nodes = (1, 2, 3)
    lab("down", check=False)
    try:
        lab("up", "--release", "--interval", "10ms", "--deadline", "25ms")
        lab("gateway")
        v = Vigil("flood", ("10ms", "25ms"))
        v.bin = open(f"{STATE}/bin").read().strip()
        if not wait(v.formed, 60, 0.2):
            raise RuntimeError("the lab did not form")
        time.sleep(2)
        idle = measure(nodes, a.window, lambda n: counters(v, n)[0])
        out(f"tools/bench flood: 3 nodes, interval 10ms, deadline 25ms, flood on link 0 of kinds {a.kinds} "
            f"(release build, {os.cpu_count()} cores)")
        out(f"idle: CPU {idle['cpu']:.2f} % per node, {idle['frames']:.0f} frames/s accepted per node, "
            f"{idle['us_per_frame']:.1f} us CPU per accepted frame (kernel included)")

        marks = {n: v.mark(n) for n in nodes}
        c1 = {n: counters(v, n) for n in nodes}
        p = start_flood(a.window + 4, a.kinds)
        time.sleep(2)  # capture, then full rate
        rej0 = {n: sum(counters(v, n)[1].values()) for n in nodes}
        t0 = time.time()
        during = measure(nodes, a.window)
        rej1 = {n: sum(counters(v, n)[1].values()) for n in nodes}
        dt = time.time() - t0
        sent = json.loads(p.communicate(timeout=60)[0].strip().splitlines()[-1])
        rejected_rate = statistics.mean((rej1[n] - rej0[n]) / dt for n in nodes)
        changes = sum(v.changes(n, marks[n]) for n in nodes)
        c2 = {n: counters(v, n) for n in nodes}
        reasons = {}
        for n in nodes:
            for k, x in c2[n][1].items():
                reasons[k] = reasons.get(k, 0) + x - c1[n][1].get(k, 0)
        per_rejected = (during["cpu"] - idle["cpu"]) / 100 * 1e6 / rejected_rate if rejected_rate else 0
        out(f"flood: {sent['rate']:.0f} frames/s sent ({', '.join(f'{k} {x}' for k, x in sent['sent'].items())}); "
            f"per node {during['rx']:.0f} datagrams/s received, {rejected_rate:.0f} frames/s rejected")
        out(f"  rejected by reason (all nodes): {', '.join(f'{k} {x}' for k, x in sorted(reasons.items()) if x)}")
        out(f"  CPU {during['cpu']:.2f} % per node (max {during['cpu_max']:.2f}); added CPU per rejected frame "
            f"{per_rejected:.2f} us, kernel included (the idle average per accepted frame above also carries "
            f"the ticks' fixed cost; docs/scale.md has the cost per accepted frame as the cluster grows)")
        out(f"  membership changes during the flood (all nodes): {changes} (goal 0: {'met' if changes == 0 else 'MISSED'})")

        det = []
        for i in range(a.runs):
            if not wait(v.formed, 60, 0.2):
                out(f"  run {i + 1}: the cluster did not re-form")
                break
            p = start_flood(30, a.kinds)
            time.sleep(3)
            mark = v.mark(1)
            t0 = time.time()
            v.cut(3)  # both of n3's cables, one `ip -batch` (as tools/bench compare cuts)
            got = wait(lambda: v.gone(1, mark) is not None, 20, 0.01)
            t = v.gone(1, mark)
            p.kill()
            p.wait()
            if got and t:
                det.append((t - t0) * 1000)
                say(f"  run {i + 1}: detection during the flood {det[-1]:.0f} ms")
            else:
                out(f"  run {i + 1}: n1 did not see n3 gone within 20 s")
            lab("power", "3", "on", check=False)
            lab("heal", "3")
            if not v.members(3):
                lab("start", "3", check=False)
        out(f"detection of a silent death during the flood (T0 -> n1's view without n3): {fmt(stats(det))}")
        if a.write:
            write_report(a.write, "Forged frames: what a flood costs", "tools/bench flood",
                         "tools/bench_flood.py, tools/flood.py", "LabTests.testHostileFramesAreDroppedAndCounted",
                         out.lines)
    finally:
        lab("down", check=False)
