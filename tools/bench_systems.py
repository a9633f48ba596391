"""The three systems tools/bench runs side by side on one lab: Vigil, Corosync 3 (knet) and
Heartbeat 3. Each knows how to start its daemons in the lab's namespaces, and how a survivor's own
status or log shows that node 3 is gone. Only processes inside the lab's namespaces are stopped,
by PID (`ip netns pids`)."""
import json, os, re, shutil, signal, subprocess, time
from contextlib import contextmanager
from datetime import datetime

LAB = os.environ.get("VIGIL_LAB", "bench")
STATE = f"/run/vigil-lab/{LAB}"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, VIGIL_LAB=LAB)
NODES = (1, 2, 3)


def sh(*args, check=True, input=None):
    r = subprocess.run(args, env=ENV, text=True, capture_output=True, input=input)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r.stdout


def lab(*args, check=True):
    return sh(os.path.join(ROOT, "tools/lab"), *args, check=check)


def ns(n):
    return f"{LAB}-n{n}"


def ns_pids(n):
    return [int(p) for p in sh("ip", "netns", "pids", ns(n), check=False).split()]



def write_report(path, title, command, source, test, lines):
    """A bench's figures as docs/NAME.md: who wrote it, when, on what, then the printed lines."""
    from datetime import timezone
    binaries = "VIGIL_BIN=" + os.environ["VIGIL_BIN"] if os.environ.get("VIGIL_BIN") else "release binaries"
    head = [f"# {title}", "",
            f"Written by `{command}` on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} "
            f"({os.cpu_count()} cores, {binaries}).",
            f"What is measured: see {source}; the lab test is {test}.", "", "```"]
    open(path, "w").write("\n".join(head + lines + ["```", ""]))

class Printed:
    """A bench's printed lines, kept for its report (write_report)."""
    def __init__(self, say):
        self.lines, self._say = [], say

    def __call__(self, text=""):
        self.lines.append(text)
        self._say(text)


@contextmanager
def release_lab(name, extra_text):
    """A fresh release lab with `extra_text` appended to its config (tools/lab up --fence-extra);
    removed afterwards, also when the bench fails."""
    extra = f"/tmp/vigil-bench-{name}-{os.getpid()}.conf"
    open(extra, "w").write(extra_text)
    try:
        lab("down", check=False)
        lab("up", "--release", "--fence-extra", extra)
        yield
    finally:
        lab("down", check=False)
        os.unlink(extra)


def wait(cond, timeout, step=0.005):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return False


class System:
    """Common parts: cables, freezing, stopping, cost counters."""
    name = "?"

    def __init__(self, setting, params, nodes=NODES):
        self.setting, self.params, self.nodes = setting, params, tuple(nodes)

    def label(self):
        return f"{self.name} {self.setting} ({self.describe()})"

    def cut(self, node, links=(0, 1), up=False):
        cmds = "".join(f"link set n{node}-{l} {'up' if up else 'down'}\n" for l in links)
        subprocess.run(["ip", "-n", f"{LAB}-sw", "-batch", "-"], input=cmds, text=True, check=True)

    def freeze(self, node, stop=True):
        for p in ns_pids(node):
            os.kill(p, signal.SIGSTOP if stop else signal.SIGCONT)

    def stop(self):
        for n in self.nodes:
            for p in ns_pids(n):
                try:
                    os.kill(p, signal.SIGCONT)
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        wait(lambda: not any(ns_pids(n) for n in self.nodes), 10, 0.05)

    def cpu_ticks(self, node):
        total = 0
        for p in ns_pids(node):
            try:
                f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
                total += int(f[11]) + int(f[12])
            except OSError:
                pass
        return total

    def rss_mb(self, node):
        total = 0
        for p in ns_pids(node):
            try:
                total += int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{p}/status").read()).group(1))
            except (OSError, AttributeError):
                pass
        return total / 1024

    def wait_formed(self, timeout=60):
        return wait(self.formed, timeout, 0.05)


class Vigil(System):
    name = "Vigil"
    settings = {"default": ("20ms", "100ms"), "10ms": ("10ms", "25ms")}
    ladder = [("5ms", "15ms"), ("10ms", "25ms"), ("10ms", "40ms"), ("20ms", "60ms"), ("20ms", "100ms")]
    how = "events: the survivor's own `vigilctl events` timestamps (daemon wall clock, ms)"

    def describe(self):
        return f"interval {self.params[0]}, deadline {self.params[1]}"

    def start(self):
        interval, deadline = self.params
        conf = open(f"{STATE}/lab.conf").read()
        conf = re.sub(r'interval = "[^"]*"', f'interval = "{interval}"', conf)
        conf = re.sub(r'deadline = "[^"]*"', f'deadline = "{deadline}"', conf)
        open(f"{STATE}/lab.conf", "w").write(conf)
        self.bin = open(f"{STATE}/bin").read().strip()
        for n in NODES:
            lab("start", str(n))

    def ctl(self, n, *args):
        return sh(f"{self.bin}/vigilctl", *args, "--socket", f"{STATE}/n{n}/vigild.sock", check=False)

    def events(self, n):
        out = []
        for line in self.ctl(n, "events").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def members(self, n):
        try:
            return [m["name"] for m in (json.loads(self.ctl(n, "status", "--json")).get("view") or {}).get("members", [])]
        except ValueError:
            return []

    def formed(self):
        return all(self.members(n) == ["n1", "n2", "n3"] for n in NODES)

    def mark(self, n):
        return max([e["seq"] for e in self.events(n)] or [0])

    def _first(self, n, mark, pred):
        for e in self.events(n):
            if e["seq"] > mark and pred(e):
                return datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() + _utc_offset()
        return None

    def gone(self, n, mark):
        return self._first(n, mark, lambda e: e["type"] == "view" and "n3" not in e.get("members", []))

    def link_event(self, n, mark, up):
        return self._first(n, mark, lambda e: e["type"] == ("link_up" if up else "link_down") and e.get("peer") == "n3" and e.get("link") == "ring1")

    def changes(self, n, mark):
        return len([e for e in self.events(n) if e["seq"] > mark and e["type"] in ("view", "peer_dead")])


def _utc_offset():
    # Event times are UTC; time.time() is UTC too, but naive strptime().timestamp() assumes local time.
    return -time.timezone if time.localtime().tm_isdst == 0 else -time.altzone


class LogSystem(System):
    """Systems whose survivor state is read from a log file per node (with the mark = file size)."""
    def log(self, n):
        raise NotImplementedError

    def mark(self, n):
        try:
            return os.path.getsize(self.log(n))
        except OSError:
            return 0

    def lines_after(self, n, mark):
        try:
            with open(self.log(n), errors="replace") as f:
                f.seek(mark)
                return f.read().splitlines()
        except OSError:
            return []


class Corosync(LogSystem):
    name = "Corosync"
    # Debian's shipped corosync.conf sets no token: corosync 3 defaults to token 3000 ms with
    # token_coefficient 650 ms per node beyond two.
    settings = {"default": (3000, 650)}
    ladder = [(150, 0), (200, 0), (300, 0), (500, 0), (1000, 0), (3000, 650)]
    how = "log: the survivor's corosync.log (timestamp: hires, ms), line 'A new membership ... Members left: 3'"

    def describe(self):
        return f"token {self.params[0]} ms, token_coefficient {self.params[1]} ms"

    def dir(self, n):
        return f"{STATE}/corosync/n{n}"

    def log(self, n):
        return f"{self.dir(n)}/log/corosync.log"

    def start(self):
        token, coeff = self.params
        shutil.rmtree(f"{STATE}/corosync", ignore_errors=True)
        os.makedirs(f"{STATE}/corosync")
        sh("corosync-keygen", "-k", f"{STATE}/corosync/authkey")
        nodes = "".join(f"""    node {{
        ring0_addr: 198.18.0.{n}
        ring1_addr: 198.18.1.{n}
        nodeid: {n}
        name: n{n}
    }}
""" for n in self.nodes)
        conf = f"""totem {{
    version: 2
    cluster_name: bench
    transport: knet
    token: {token}
    token_coefficient: {coeff}
    crypto_cipher: aes256
    crypto_hash: sha256
    interface {{
        linknumber: 0
    }}
    interface {{
        linknumber: 1
    }}
}}
nodelist {{
{nodes}}}
quorum {{
    provider: corosync_votequorum
}}
logging {{
    to_stderr: no
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: no
    timestamp: hires
}}
"""
        for n in self.nodes:
            d = self.dir(n)
            for sub in ("etc", "lib", "log"):
                os.makedirs(f"{d}/{sub}")
            shutil.copy(f"{STATE}/corosync/authkey", f"{d}/etc/authkey")
            os.chmod(f"{d}/etc/authkey", 0o400)
            open(f"{d}/etc/corosync.conf", "w").write(conf)
            script = (f"mount --bind {d}/etc /etc/corosync && mount --bind {d}/lib /var/lib/corosync && "
                      f"mkdir -p /var/log/corosync && mount --bind {d}/log /var/log/corosync && "
                      f"mount -t tmpfs tmpfs /run && exec corosync -f")
            subprocess.Popen(["ip", "netns", "exec", ns(n), "unshare", "-m", "sh", "-c", script],
                             stdout=open(f"{d}/stdout.log", "w"), stderr=subprocess.STDOUT)

    def members(self, n):
        last = None
        for line in self.lines_after(n, 0):
            m = re.search(r"\[QUORUM\] Members\[\d+\]:((?: \d+)+)", line)
            if m:
                last = m.group(1).split()
        return last

    def formed(self):
        want = [str(n) for n in self.nodes]
        return all(self.members(n) == want for n in self.nodes)

    @staticmethod
    def stamp(line):
        m = re.match(r"(\w{3} +\d+ [\d:]+\.\d+)", line)
        if not m:
            return None
        return datetime.strptime(f"{datetime.now().year} {m.group(1)}", "%Y %b %d %H:%M:%S.%f").timestamp()

    def _first(self, n, mark, pattern):
        for line in self.lines_after(n, mark):
            if re.search(pattern, line):
                return self.stamp(line)
        return None

    def gone(self, n, mark):
        return self._first(n, mark, r"A new membership .* was formed\. Members left: 3")

    def link_event(self, n, mark, up):
        return self._first(n, mark, rf"host: 3 link: 1 is {'up' if up else 'down'}")

    def changes(self, n, mark):
        return len([l for l in self.lines_after(n, mark) if "A new membership" in l])


class Heartbeat(LogSystem):
    name = "Heartbeat"
    # ha.cf as documented in the package's sample: keepalive 2 s, deadtime 30 s, warntime 10 s.
    settings = {"default": ("2", "30", "10")}
    ladder = [("20ms", "100ms", "60ms"), ("50ms", "250ms", "150ms"), ("100ms", "500ms", "300ms"),
              ("250ms", "1000ms", "600ms"), ("2", "30", "10")]
    how = "status tool: `cl_status nodestatus n3` polled on the survivor (its log has only 1 s resolution)"

    def describe(self):
        return f"keepalive {self.params[0]}, deadtime {self.params[1]}, warntime {self.params[2]}"

    def dir(self, n):
        return f"{STATE}/heartbeat/n{n}"

    def log(self, n):
        return f"{self.dir(n)}/log/ha-log"

    def start(self):
        keepalive, deadtime, warntime = self.params
        shutil.rmtree(f"{STATE}/heartbeat", ignore_errors=True)
        for n in NODES:
            d = self.dir(n)
            os.makedirs(f"{d}/log")
            shutil.copytree("/etc/ha.d", f"{d}/etc")
            shutil.copytree("/var/lib/heartbeat", f"{d}/lib")
            sh("chown", "-R", "hacluster:haclient", f"{d}/lib")
            open(f"{d}/etc/ha.cf", "w").write(f"""logfile /var/log/ha-log
keepalive {keepalive}
warntime {warntime}
deadtime {deadtime}
initdead {max(2, int(_seconds(deadtime) * 2) + 1)}
udpport 694
mcast eth0 239.192.0.9 694 1 0
mcast eth1 239.192.1.9 694 1 0
node n1
node n2
node n3
crm off
autojoin none
auto_failback off
""")
            open(f"{d}/etc/authkeys", "w").write("auth 1\n1 sha1 vigil-bench\n")
            os.chmod(f"{d}/etc/authkeys", 0o600)
            open(f"{d}/etc/haresources", "w").close()
            script = (f"hostname n{n} && mount --bind {d}/etc /etc/ha.d && mount --bind {d}/lib /var/lib/heartbeat && "
                      f"mount --bind {d}/log /var/log && mount -t tmpfs tmpfs /run && "
                      f"mkdir -p /run/heartbeat/ccm /run/heartbeat/dopd && chown -R hacluster:haclient /run/heartbeat && "
                      f"exec /usr/libexec/heartbeat/heartbeat")
            subprocess.Popen(["ip", "netns", "exec", ns(n), "unshare", "-m", "-u", "sh", "-c", script],
                             stdout=open(f"{d}/stdout.log", "w"), stderr=subprocess.STDOUT)

    def master(self, n):
        pids = ns_pids(n)
        return min(pids) if pids else None

    def cl_status(self, n, *args):
        p = self.master(n)
        if p is None:
            return ""
        return subprocess.run(["nsenter", "-t", str(p), "-m", "-n", "cl_status", *args],
                              capture_output=True, text=True).stdout.strip()

    def formed(self):
        return all(self.cl_status(n, "nodestatus", f"n{o}") == "active" for n in NODES for o in NODES if o != n)

    # Heartbeat's status is polled (see `how`), so its timing is taken while waiting.
    def poll_gone(self, survivors, timeout):
        got = {}
        end = time.time() + timeout
        while len(got) < len(survivors) and time.time() < end:
            for n in survivors:
                if n not in got and self.cl_status(n, "nodestatus", "n3") not in ("active", ""):
                    got[n] = time.time()
        return got

    def link_state(self, n):
        return self.cl_status(n, "linkstatus", "n3", "eth1")

    def poll_link(self, n, up, timeout, healthy):
        """Polls until link 1 to n3 is back to (`up`) or away from (not `up`) its healthy state
        word, as read before the cut (cl_status's words differ between versions)."""
        end = time.time() + timeout
        while time.time() < end:
            if (self.link_state(n) == healthy) == up:
                return time.time()
        return None

    def changes(self, n, mark):
        return len([l for l in self.lines_after(n, mark) if re.search(r": is dead|status dead", l)])


def _seconds(v):
    return float(v[:-2]) / 1000 if v.endswith("ms") else float(v)
