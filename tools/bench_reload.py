"""tools/bench reload: a resource added and removed live (Vigil, real daemons, as root).

The lab runs one Dummy resource ("base", Debian's ocf:heartbeat:Dummy). Each run appends a new
Dummy resource preferring the next node to the lab's one config file and reloads every node
(`vigilctl reload`, one after another, as an operator's loop over the nodes would); the bench
times, from the first reload, (a) the last node's reload sent and (b) the new resource running
(its agent's state file there). Then the resource is taken out again the same way and the bench
times its stop (the state file gone). "base" must never restart (its state file keeps its inode
and time), and the bench says if it did. Until every node has reloaded, the owner places nothing
(docs/resources.md, "Changing resources live"): (b) includes the reload loop, the probes of the
new resource on every node, the owner's decision and Dummy's start.
"""
import os, statistics, subprocess, time  # noqa: E401

from bench_systems import ENV, ROOT, STATE, lab, wait, write_report


def dummy(rid, node):
    return (f'\n[[resource]]\nid = "{rid}"\nagent = "ocf:heartbeat:Dummy"\n'
            f'params = ["state={STATE}/%n/{rid}.state"]\nprefer = ["n{node}:200"]\nmonitor_interval = "1s"\n')


def reload_all():
    for n in (1, 2, 3):
        subprocess.run([os.path.join(ROOT, "tools/lab"), "ctl", str(n), "reload"], env=ENV, check=True, capture_output=True)


def stamp(path):
    try:
        st = os.stat(path)
        return (st.st_ino, st.st_mtime_ns)
    except FileNotFoundError:
        return None


def reload_bench(a, say, stats, fmt):
    extra = f"/tmp/vigil-bench-reload-{os.getpid()}.conf"
    open(extra, "w").write(dummy("base", 1))
    added, removed, loop, lines = [], [], [], []

    def out(text=""):
        lines.append(text)
        say(text)
    try:
        lab("down", check=False)
        lab("up", "--release", "--fence-extra", extra)
        base = f"{STATE}/n1/base.state"
        if not wait(lambda: stamp(base) is not None, 30, 0.05):
            raise RuntimeError("base did not start")
        base_stamp = stamp(base)
        conf = f"{STATE}/lab.conf"
        original = open(conf).read()
        for run in range(1, a.runs + 1):
            rid, node = f"r{run}", 1 + run % 3
            state = f"{STATE}/n{node}/{rid}.state"
            open(conf, "w").write(original + dummy(rid, node))
            t0 = time.time()
            reload_all()
            t1 = time.time()
            ok = wait(lambda: stamp(state) is not None, 30, 0.005)
            t2 = time.time()
            loop.append((t1 - t0) * 1000)
            if ok:
                added.append((t2 - t0) * 1000)
            open(conf, "w").write(original)
            t3 = time.time()
            reload_all()
            gone = wait(lambda: stamp(state) is None, 30, 0.005)
            t4 = time.time()
            if gone:
                removed.append((t4 - t3) * 1000)
            out(f"run {run}: {rid} on n{node}: reloads sent in {loop[-1]:.0f} ms; running after "
                + (f"{added[-1]:.0f} ms" if ok else "? (not within 30 s)") + "; stopped after "
                + (f"{removed[-1]:.0f} ms" if gone else "? (not within 30 s)") + " of its removal")
        untouched = stamp(base) == base_stamp
        out("")
        out(f"reload sent to all three nodes (first to last): {fmt(stats(loop))}")
        out(f"first reload -> the added resource running: {fmt(stats(added))}")
        out(f"first reload -> the removed resource stopped: {fmt(stats(removed))}")
        out("base (never changed) was " + ("not restarted" if untouched else "RESTARTED: its state file changed"))
        if added:
            out(f"of the median {statistics.median(added):.0f} ms, sending the reloads takes {statistics.median(loop):.0f} ms "
                "(vigilctl per node through the lab's namespaces); the rest is the probes of the new resource on every "
                "node (each node probes once it reloaded), the owner's decision once every member reports the new policy, "
                "and Dummy's start")
        if a.write:
            write_report(a.write, "A resource added and removed live (`tools/bench reload`)",
                         f"tools/bench reload --runs {a.runs} --write {a.write}", "tools/bench_reload.py", "LivePolicyLabTests", lines)
    finally:
        lab("down", check=False)
        os.unlink(extra)
