"""tools/chaos's faults: how each is injected and healed, and how a node is brought back as an
operator would (a mixin of tools/chaos's Run; every choice from its seeded generator)."""
import os, re, shutil, signal, subprocess

from bench_systems import LAB, STATE, ROOT, lab, ns, sh, wait
from chaos_lab import PGPORT, SW, VIP, now, pg_bin, resource


class Faults:
    """Needs the Run's rng, nodes, n, maxdown, paf, kinds, active, faults, counts, ops and say()."""

    def disturbed(self):
        return {n for f in self.active for n in f.get("nodes", [])}

    def role_node(self, which):
        """The node running svc or the PostgreSQL primary, by node 1..N's view (any that answers)."""
        for node in self.nodes:
            if not node.alive():
                continue
            st = node.status()
            r = resource(st, "guard" if which == "svc" else "pgsqld")
            if r is None:
                continue
            on = r.get("promotedOn") if which == "primary" else r.get("activeOn")
            if on and len(on) == 1:
                return int(on[0][1:])
            return None
        return None

    def eligible(self):
        busy = self.disturbed()
        return [n.i for n in self.nodes if n.i not in busy and n.alive() and n.powered()]

    def pick_nodes(self, k, role=None):
        free = self.eligible()
        room = self.maxdown - len(self.disturbed())
        if k > room or len(free) < k:
            return None
        if role and self.rng.random() < 0.5:
            r = self.role_node(role)
            if r in free:
                rest = [x for x in free if x != r]
                return [r] + self.rng.sample(rest, k - 1)
        return sorted(self.rng.sample(free, k))

    KINDS = ["cut-both", "cut-one", "partition", "netem", "freeze", "kill", "power", "restart", "reboot", "operator", "stress"]

    def start_fault(self):
        kind = self.rng.choice(self.kinds)
        dur = round(self.rng.uniform(0.3, 10.0), 2)
        f = {"kind": kind, "duration": dur}
        if kind in ("cut-both", "freeze", "kill", "power", "restart", "reboot"):
            nodes = self.pick_nodes(1, self.rng.choice(["svc", "primary"]) if self.paf else "svc")
            if not nodes:
                return
            f["nodes"] = nodes
            i = nodes[0]
            if kind == "restart":
                f["duration"] = round(self.rng.uniform(0.1, 2.0), 2)
        elif kind == "partition":
            if any(x["kind"] == "partition" for x in self.active):
                return
            k = self.rng.randint(1, self.maxdown)
            nodes = self.pick_nodes(k, "primary" if self.paf else "svc")
            if not nodes:
                return
            f["nodes"], f["client_with"] = nodes, self.rng.choice(["majority", "minority"])
        elif kind in ("cut-one", "netem"):
            free = [n.i for n in self.nodes if n.powered()]
            f["links_of"], f["link"] = self.rng.choice(free), self.rng.randint(0, 1)
            if any(x.get("links_of") == f["links_of"] and x.get("link") == f["link"] for x in self.active):
                return
            if kind == "netem":
                how = self.rng.choice(["loss", "delay", "duplicate", "reorder"])
                f["netem"] = {"loss": f"loss {self.rng.randint(10, 60)}%",
                              "delay": f"delay {self.rng.randint(5, 60)}ms {self.rng.randint(1, 10)}ms",
                              "duplicate": f"duplicate {self.rng.randint(10, 50)}%",
                              "reorder": f"delay 10ms reorder {self.rng.randint(10, 50)}% 50%"}[how]
        elif kind == "operator":
            if any(x["kind"] == "operator" for x in self.active):
                return
            ops = ["move", "standby", "maintenance", "config"] + (["switchover"] if self.paf else [])
            f["op"] = self.rng.choice(ops)
            f["target"] = self.rng.randint(1, self.n)
        elif kind == "stress":
            if any(x["kind"] == "stress" for x in self.active):
                return
            f["duration"] = round(self.rng.uniform(2, 15), 2)
        self.apply(f)
        f["start"], f["heal_at"] = now(), now() + f["duration"]
        self.active.append(f)
        self.faults.append(f)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "operator":
            self.ops[f["op"]] = self.ops.get(f["op"], 0) + 1

    def describe(self, f):
        k = f["kind"]
        if "nodes" in f:
            extra = f" (client with the {f['client_with']})" if k == "partition" else ""
            return f"{k} {','.join('n%d' % i for i in f['nodes'])}{extra}"
        if k in ("cut-one", "netem"):
            return f"{k} n{f['links_of']} link {f['link']}" + (f" {f['netem']}" if k == "netem" else "")
        if k == "operator":
            return f"operator {f['op']} n{f['target']}"
        return k

    def ports(self, nodes):
        return [f"n{i}-{l}" for i in nodes for l in (0, 1)]

    def vigilctl(self, *args):
        """An operator command on a node that runs and is not disturbed (returns its output)."""
        for node in sorted(self.nodes, key=lambda n: (n.i in self.disturbed(), n.i)):
            if node.alive():
                r = subprocess.run([os.path.join(ROOT, "tools/lab"), "ctl", str(node.i), *args], text=True, capture_output=True,
                                   env=dict(os.environ, VIGIL_LAB=LAB), timeout=60)
                return (r.stdout + r.stderr).strip().splitlines()[-1:] or [""]
        return ["no node to ask"]

    def apply(self, f):
        k = f["kind"]
        self.say(f"fault  {self.describe(f)} for {f['duration']} s")
        if k == "cut-both":
            lab("cut", str(f["nodes"][0]))
        elif k == "cut-one":
            lab("cut", str(f["links_of"]), str(f["link"]))
        elif k == "partition":
            moved = self.ports(f["nodes"]) + (["client"] if self.paf and f["client_with"] == "minority" else [])
            # The other side gets switches of its own: its ports move to bridges brLp (made once).
            if "br0p" not in sh("ip", "-n", SW, "-o", "link", "show"):
                sh("ip", "-n", SW, "-batch", "-", input="".join(
                    f"link add br{l}p type bridge\nlink set br{l}p type bridge mcast_snooping 0\nlink set br{l}p up\n" for l in (0, 1)))
            sh("ip", "-n", SW, "-batch", "-", input="".join(f"link set {p} master br{p[-1] if p != 'client' else 0}p\n" for p in moved))
            f["moved"] = moved
        elif k == "netem":
            i, l = f["links_of"], f["link"]
            sh("ip", "netns", "exec", SW, "tc", "qdisc", "replace", "dev", f"n{i}-{l}", "root", "netem", *f["netem"].split(), check=False)
            sh("ip", "netns", "exec", ns(i), "tc", "qdisc", "replace", "dev", f"eth{l}", "root", "netem", *f["netem"].split(), check=False)
        elif k == "freeze":
            p = self.nodes[f["nodes"][0] - 1].pid()
            p and os.kill(p, signal.SIGSTOP)
        elif k == "kill":
            p = self.nodes[f["nodes"][0] - 1].pid()
            p and os.kill(p, signal.SIGKILL)
        elif k == "power":
            self.power(f["nodes"][0], "off", "chaos")
        elif k in ("restart", "reboot"):
            self.clean_stop(f["nodes"][0])
            if k == "reboot":
                self.power(f["nodes"][0], "off", "chaos-reboot")
        elif k == "operator":
            t, op = f"n{f['target']}", f["op"]
            if op == "move":
                out = self.vigilctl("resource", "move", "svc", t)
            elif op == "standby":
                out = self.vigilctl("node", "standby", t)
            elif op == "maintenance":
                out = self.vigilctl("node", "maintenance", t)
            elif op == "switchover":
                out = self.vigilctl("resource", "move", "pgsqld", t, "--promoted")
            else:
                out = self.config_prefer(t)
            self.say(f"       -> {out[0] if out else ''}")
        elif k == "stress":
            f["proc"] = subprocess.Popen(["stress-ng", "--cpu", "2", "--timeout", f"{int(f['duration']) + 1}s", "--quiet"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def heal(self, f):
        k = f["kind"]
        self.say(f"heal   {self.describe(f)}")
        if k == "cut-both":
            lab("heal", str(f["nodes"][0]))
        elif k == "cut-one":
            lab("heal", str(f["links_of"]), str(f["link"]))
        elif k == "partition":
            sh("ip", "-n", SW, "-batch", "-", input="".join(f"link set {p} master br{p[-1] if p != 'client' else 0}\n" for p in f["moved"]))
        elif k == "netem":
            i, l = f["links_of"], f["link"]
            sh("ip", "netns", "exec", SW, "tc", "qdisc", "del", "dev", f"n{i}-{l}", "root", check=False)
            sh("ip", "netns", "exec", ns(i), "tc", "qdisc", "del", "dev", f"eth{l}", "root", check=False)
        elif k == "freeze":
            node = self.nodes[f["nodes"][0] - 1]
            p = node.pid()
            if p and node.alive():
                os.kill(p, signal.SIGCONT)
        elif k == "operator":
            t, op = f"n{f['target']}", f["op"]
            out = {"move": lambda: self.vigilctl("resource", "clear", "svc"),
                   "standby": lambda: self.vigilctl("node", "online", t),
                   "maintenance": lambda: self.vigilctl("node", "ready", t),
                   "switchover": lambda: self.vigilctl("resource", "clear", "pgsqld"),
                   "config": lambda: self.config_prefer("n1")}[op]()
            self.say(f"       -> {out[0] if out else ''}")
        elif k == "stress":
            p = f.pop("proc")
            if p.poll() is None:
                p.kill()
            p.wait()

    def config_prefer(self, target):
        """A live config change: svc's preference moved to `target` (vigilctl config apply)."""
        path = f"{STATE}/chaos-doc.conf"
        out = self.vigilctl("config", "export", path)
        if not os.path.exists(path):
            return out
        text = open(path).read()
        text = re.sub(r'prefer = \["n\d+:100"\]', f'prefer = ["{target}:100"]', text, count=1)
        open(path, "w").write(text)
        return self.vigilctl("config", "apply", path)

    def power(self, i, action, by):
        r = subprocess.run([os.path.join(ROOT, "agents/stonith/fence_lab")], input=f"action={action}\nplug={i}\nlab={LAB}\n",
                           text=True, capture_output=True, env=dict(os.environ, FENCE_LAB_BY=by))
        if r.returncode != 0:
            self.say(f"power {action} n{i} failed: {r.stderr.strip()}")

    def clean_stop(self, i):
        node = self.nodes[i - 1]
        p = node.pid()
        if not p or not node.alive():
            return
        os.kill(p, signal.SIGTERM)
        if not wait(lambda: not node.alive(), 120, 0.05):
            self.say(f"n{i}: vigild did not stop within 120 s of SIGTERM")

    def restore(self, node):
        """Brings a node back as an operator would: data rebuilt, power on, vigild started."""
        if not node.powered():
            if self.paf:
                p = None
                if not wait(lambda: self.primary() is not None, 120, 0.5):
                    self.say(f"restore n{node.i}: no primary within 120 s to rebuild from")
                else:
                    p = self.primary()
                if p is not None:
                    self.rebuild(node.i, p.i)
            self.power(node.i, "on", "chaos")
            lab("heal", str(node.i))
            self.say(f"restore n{node.i}: powered on" + (" (PostgreSQL rebuilt)" if self.paf else ""))
        if not node.alive():
            if os.path.exists(f"{STATE}/n{node.i}/pid"):
                os.unlink(f"{STATE}/n{node.i}/pid")
            lab("start", str(node.i))
            self.say(f"restore n{node.i}: vigild started")

    def rebuild(self, x, y):
        data = f"{STATE}/repl/n{x}/data"
        shutil.rmtree(data, ignore_errors=True)
        r = subprocess.run(["runuser", "-u", "postgres", "--", f"{pg_bin()}/pg_basebackup", "-h", self.sock(y), "-p", str(PGPORT),
                            "-U", "postgres", "-D", data, "-X", "stream"], capture_output=True, text=True, cwd="/")
        if r.returncode != 0:
            self.say(f"rebuild n{x} from n{y} failed: {r.stderr.strip()[:200]}")
            return
        conf = f"{data}/postgresql.conf"
        lines = [l for l in open(conf).read().splitlines() if not l.startswith(("primary_conninfo", "unix_socket_directories"))]
        lines += [f"primary_conninfo = 'host={VIP} port={PGPORT} user=postgres application_name=n{x}'",
                  f"unix_socket_directories = '{self.sock(x)}'"]
        open(conf, "w").write("\n".join(lines) + "\n")
        for f in ("standby.signal", "recovery.signal", "postmaster.pid"):
            if os.path.exists(f"{data}/{f}"):
                os.unlink(f"{data}/{f}")

    def restore_idle(self):
        # Not while a fault still holds the node or one of its links (restore brings links up).
        busy = self.disturbed() | {f["links_of"] for f in self.active if "links_of" in f}
        for node in self.nodes:
            if node.i not in busy and (not node.alive() or not node.powered()):
                self.restore(node)

    # ---- the run
