"""tools/chaos's view of the lab: its nodes, and the evidence the checkers read (the Checker
agent's logs, the lab switch's power log, each PostgreSQL's role, the client's acknowledged
writes). Imported by tools/chaos, which sets VIGIL_LAB first."""
import json, os, subprocess, time

from bench_systems import LAB, STATE, ROOT, lab, ns, sh, wait
import chaos_checks as checks

VIP, SVC_IP, PGPORT = "198.18.0.200", "198.18.0.201", 5433
PY = "/usr/bin/python3"
SW = f"{LAB}-sw"


def now():
    return time.monotonic()


def pg_bin():
    d = sorted(os.listdir("/usr/lib/postgresql")) if os.path.isdir("/usr/lib/postgresql") else []
    return f"/usr/lib/postgresql/{d[-1]}/bin" if d else None


def have_paf():
    if not (pg_bin() and os.access("/usr/lib/ocf/resource.d/heartbeat/pgsqlms", os.X_OK)):
        return False
    return subprocess.run([PY, "-c", "import psycopg2"], capture_output=True).returncode == 0


class Node:
    """What the run knows of one lab node, from the lab's own files and the switch."""
    def __init__(self, i):
        self.i, self.name = i, f"n{i}"

    def pid(self):
        try:
            return int(open(f"{STATE}/n{self.i}/pid").read())
        except (OSError, ValueError):
            return None

    def alive(self):
        p = self.pid()
        if not p:
            return False
        try:
            return open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    def powered(self):
        return subprocess.run([os.path.join(ROOT, "agents/stonith/fence_lab")], input=f"action=status\nplug={self.i}\nlab={LAB}\n",
                              text=True, capture_output=True).returncode == 0

    def status(self):
        try:
            return json.loads(lab("ctl", str(self.i), "status", "--json"))
        except (RuntimeError, ValueError):
            return None


def resource(st, rid):
    return next((r for r in (st or {}).get("resources") or [] if r["id"] == rid), None)




class Evidence:
    """Ground truth, read from outside Vigil (a mixin of tools/chaos's Run)."""
    def sock(self, i):
        return f"{STATE}/repl/sock-n{i}"


    def primary(self):
        """The node whose PostgreSQL answers as primary now (over its socket), if exactly one."""
        found = []
        for node in self.nodes:
            r = subprocess.run(["runuser", "-u", "postgres", "--", f"{pg_bin()}/psql", "-h", self.sock(node.i), "-p", str(PGPORT),
                                "-U", "postgres", "-d", "postgres", "-Atqc", "select pg_is_in_recovery()"],
                               capture_output=True, text=True, cwd="/", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PGCONNECT_TIMEOUT": "1"})
            if r.returncode == 0 and r.stdout.strip() == "f":
                found.append(node)
        return found[0] if len(found) == 1 else None

    def addresses(self, ip):
        return [n.name for n in self.nodes
                if f" {ip}/" in sh("ip", "-n", ns(n.i), "-o", "-4", "addr", "show", "dev", "eth0", check=False)]

    def checker_records(self, name):
        d, out = f"{STATE}/checker", {}
        for f in os.listdir(d) if os.path.isdir(d) else []:
            if f.startswith(name + ".") and f.endswith(".log"):
                out[f[len(name) + 1:-4]] = open(os.path.join(d, f)).read().splitlines()
        return checks.read_checker(out)

    def power_log(self):
        try:
            return checks.read_power(open(f"{STATE}/power.log").read().splitlines())
        except OSError:
            return {}

    def acked(self):
        try:
            return [(float(t), int(v)) for t, v in (l.split() for l in open(f"{STATE}/acked").read().splitlines() if len(l.split()) == 2)]
        except OSError:
            return []

    # ---- faults
