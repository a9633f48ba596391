"""tools/chaos's report (docs/chaos.md) and the logs it keeps when something failed."""
import os, re, shutil
from datetime import datetime, timezone

from bench_systems import STATE


def report(run, a, path):
    q = [x for x in run.quiet if x is not None]
    head = [f"# Chaos run on real daemons", "",
            f"Written by `tools/chaos --nodes {a.nodes} --minutes {a.minutes:g} --seed {a.seed} --phase {a.phase:g} "
            f"--write {path}` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} ({os.cpu_count()} cores, "
            f"{'release' if a.release else os.environ.get('VIGIL_BIN') or 'debug'} binaries, interval {a.interval}, "
            f"deadline {a.deadline}). How it works and what each checker proves: tools/chaos (its help) and "
            f"tools/chaos_checks.py; the 3-minute run in `swift test` is ChaosLabTests.", ""]
    body = ["## Faults injected", "", "| kind | count |", "|---|---|"]
    body += [f"| {k} | {run.counts.get(k, 0)} |" for k in run.KINDS if k != "operator"]
    body += [f"| operator {op} | {n} |" for op, n in sorted(run.ops.items())]
    body += [f"| all | {sum(run.counts.values())} |", "", "## What happened", ""]
    body += [f"- {l}" for l in run.summary]
    body += [f"- quiet checks: {len(run.quiet)}, whole and placed after the last heal in at most "
             f"{max(q):.1f} s (median {sorted(q)[len(q) // 2]:.1f} s)" if q else "- quiet checks: none passed"]
    body += ["", "## Checkers", ""]
    what = {
        "never active twice": f"svc's Checker: {run.lives_checked.get('guard', 0)} lives, no two on different nodes overlapping "
                              f"(a life ends at its stop record or at its node's power-off by the lab's switch); web-clone: "
                              f"{run.lives_checked.get('web', 0)} lives, never more than 2 at once"
                              + (f"; PostgreSQL: {len(run.samples)} role reads over the nodes' sockets, never two primaries "
                                 "proven at once" if run.paf else ""),
        "acknowledged writes": (f"{run.write_checks} checks (after each failover, at each quiet check, at the end), "
                                f"{run.writes[0]} writes acknowledged to the client, {run.writes[1]} missing at the last"
                                if run.paf else "not run: PAF or psycopg2 not installed"),
        "liveness": f"{len(run.quiet)} quiet checks, each within {a.quiet_bound:.0f} s of the last heal (fenced nodes brought "
                    "back included): every node in one view of all nodes, svc on one node (its holder and address there only), "
                    "web on two, PostgreSQL promoted on one node with its address, standbys everywhere else, every node's status "
                    "the same, nothing failed; a node where a resource failed as often as migration_threshold (3) is out of "
                    f"its placement until a cleanup, as in Pacemaker: {run.exclusions} such exclusions seen at quiet checks "
                    "(each in the fault log)",
    }
    for name in ("never active twice", "acknowledged writes", "liveness"):
        vs = [v for v in run.violations if v[1] == name]
        body.append(f"- {name}: " + ("**no violation**" if not vs else f"**{len(vs)} violations**") + f". {what[name]}.")
    if run.violations:
        body += ["", "## Violations", "", f"Seed {a.seed}; logs kept in {run.kept}.", ""]
        body += [f"- {t:.2f} s, {c}: {text}" for t, c, text in run.violations]
    body += ["", "## Fault log", "", "```"] + run.log_lines + ["```", ""]
    open(path, "w").write("\n".join(head + body))


def keep_logs(dest):
    os.makedirs(dest, exist_ok=True)
    for f in ["power.log", "acked", "lab.conf"]:
        if os.path.exists(f"{STATE}/{f}"):
            shutil.copy(f"{STATE}/{f}", dest)
    if os.path.isdir(f"{STATE}/checker"):
        shutil.copytree(f"{STATE}/checker", f"{dest}/checker", dirs_exist_ok=True)
    for d in os.listdir(STATE):
        if re.fullmatch(r"n\d+", d) and os.path.exists(f"{STATE}/{d}/vigild.log"):
            shutil.copy(f"{STATE}/{d}/vigild.log", f"{dest}/{d}-vigild.log")
