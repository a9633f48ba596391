"""tools/bench reload: a resource added and removed live (Vigil, real daemons, as root).

The lab runs one Dummy resource ("base", Debian's ocf:heartbeat:Dummy). Each run adds a new Dummy
resource preferring the next node, then takes it out again; the bench times, from the change, the
new resource running (its agent's state file there) and, from its removal, its stop (the file
gone). "base" must never restart (its state file keeps its inode and time), and the bench says if
it did. Two ways to make the change:

- `--apply` (the replicated document, docs/live-config.md): `vigilctl config apply FILE` on n1,
  FILE being the exported document with the resource added; the command returns once every member
  runs the new version. Times: apply returned, and apply -> running.
- default (the file): the lab's one config file edited and every node reloaded (`vigilctl reload`,
  one after another, as an operator's loop over the nodes would); the first reload applies the
  file's document part, the others find it is the cluster's already. Times: the reloads sent, and
  first reload -> running.
"""
import os, statistics, subprocess, time  # noqa: E401

from bench_systems import ENV, ROOT, STATE, Printed, lab, release_lab, wait, write_report


def dummy(rid, node):
    return (f'\n[[resource]]\nid = "{rid}"\nagent = "ocf:heartbeat:Dummy"\n'
            f'params = ["state={STATE}/%n/{rid}.state"]\nprefer = ["n{node}:200"]\nmonitor_interval = "1s"\n')


def reload_all():
    for n in (1, 2, 3):
        subprocess.run([os.path.join(ROOT, "tools/lab"), "ctl", str(n), "reload"], env=ENV, check=True, capture_output=True)


def ctl(*args):
    return subprocess.run([os.path.join(ROOT, "tools/lab"), "ctl", "1", *args], env=ENV, check=True, capture_output=True, text=True)


def stamp(path):
    try:
        st = os.stat(path)
        return (st.st_ino, st.st_mtime_ns)
    except FileNotFoundError:
        return None


def reload_bench(a, say, stats, fmt):
    added, removed, loop, out = [], [], [], Printed(say)
    what = "config apply returned (every member runs it)" if a.apply else "reloads sent to all three nodes"
    with release_lab("reload", dummy("base", 1)):
        base = f"{STATE}/n1/base.state"
        if not wait(lambda: stamp(base) is not None, 30, 0.05):
            raise RuntimeError("base did not start")
        base_stamp = stamp(base)
        if a.apply:
            conf = f"{STATE}/cluster.conf"
            ctl("config", "export", conf)

            def change():
                ctl("config", "apply", conf)
        else:
            conf = f"{STATE}/lab.conf"
            change = reload_all
        original = open(conf).read()
        for run in range(1, a.runs + 1):
            rid, node = f"r{run}", 1 + run % 3
            state = f"{STATE}/n{node}/{rid}.state"
            open(conf, "w").write(original + dummy(rid, node))
            t0 = time.time()
            change()
            t1 = time.time()
            ok = wait(lambda: stamp(state) is not None, 30, 0.005)
            t2 = time.time()
            loop.append((t1 - t0) * 1000)
            if ok:
                added.append((t2 - t0) * 1000)
            open(conf, "w").write(original)
            t3 = time.time()
            change()
            gone = wait(lambda: stamp(state) is None, 30, 0.005)
            t4 = time.time()
            if gone:
                removed.append((t4 - t3) * 1000)
            out(f"run {run}: {rid} on n{node}: {what} in {loop[-1]:.0f} ms; running after "
                + (f"{added[-1]:.0f} ms" if ok else "? (not within 30 s)") + "; stopped after "
                + (f"{removed[-1]:.0f} ms" if gone else "? (not within 30 s)") + " of its removal")
        untouched = stamp(base) == base_stamp
        start = "config apply" if a.apply else "first reload"
        out("")
        out(f"{what} (median, p99): {fmt(stats(loop))}")
        out(f"{start} -> the added resource running: {fmt(stats(added))}")
        out(f"{start} -> the removed resource stopped: {fmt(stats(removed))}")
        out("base (never changed) was " + ("not restarted" if untouched else "RESTARTED: its state file changed"))
        if added and a.apply:
            out(f"the apply returns once every member runs the new version (median {statistics.median(loop):.0f} ms, vigilctl "
                "through the lab's namespace included); the rest is the probes of the new resource on every node, the "
                "owner's decision once every member reports the new policy, and Dummy's start")
        elif added:
            out(f"the loop of reloads takes {statistics.median(loop):.0f} ms (median; vigilctl per node through the lab's "
                "namespaces); the first reload already makes the change cluster-wide (the other nodes' reloads find their "
                "file's part is the cluster's document), so the resource may run before the loop ends: the time to running "
                "is the first reload, the probes of the new resource on every node, the owner's decision and Dummy's start")
        if a.write:
            flag = " --apply" if a.apply else ""
            title = "A resource added and removed live with `vigilctl config apply`" if a.apply else "A resource added and removed live by a reload"
            write_report(a.write, f"{title} (`tools/bench reload{flag}`)", f"tools/bench reload{flag} --runs {a.runs} --write {a.write}",
                         "tools/bench_reload.py", "DocumentLabTests" if a.apply else "LivePolicyLabTests", out.lines)
