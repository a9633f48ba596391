"""The checkers of tools/chaos, from evidence outside Vigil's own view. Pure functions over logs.

Evidence (every time is CLOCK_MONOTONIC, which every lab namespace shares):
  - the Checker agent's logs (agents/ocf/vigil/Checker): per resource and node, its start, the
    holder's ticks, each monitor, its stop;
  - the lab's power switch log (agents/stonith/fence_lab): "T off nI BY" / "T on nI BY";
  - the PostgreSQL role samples (tools/chaos): per node, the interval of one read, whether it was
    a primary, and its postmaster's start time;
  - the write client's acknowledged values.

A life of a Checker resource on a node runs from its start record to its stop record or, if it
never stopped, to the first power-off of that node after the start (the switch killed the holder
there). A node that fell silent is allowed the interval between its last sign of life and its
confirmed fence, and no more: a start elsewhere before that power-off is a violation.
"""
from collections import defaultdict, namedtuple

Life = namedtuple("Life", "node start end ended last")  # ended: "stop", "power off" or "running"


def read_checker(lines_by_node):
    """{node: [line, ...]} of one resource -> {node: [(t, what)]} sorted by time."""
    out = {}
    for node, lines in lines_by_node.items():
        recs = []
        for line in lines:
            f = line.split()
            if len(f) >= 2:
                try:
                    recs.append((float(f[0]), " ".join(f[1:])))
                except ValueError:
                    pass
        out[node] = sorted(recs)
    return out


def read_power(lines):
    """The power log -> {node: [(t, "off"|"on", by)]}."""
    out = defaultdict(list)
    for line in lines:
        f = line.split()
        if len(f) >= 3:
            try:
                out[f[2]].append((float(f[0]), f[1], f[3] if len(f) > 3 else "?"))
            except ValueError:
                pass
    return out


def lives(records, power, now):
    """Each node's lives of one resource, in start order. `now`: the end of an open life whose
    holder still runs."""
    result = []
    for node, recs in records.items():
        offs = [t for t, what, _ in power.get(node, []) if what == "off"]
        start = last = None

        def close(end, how):
            result.append(Life(node, start, end, how, last))

        for t, what in recs:
            if what == "start":
                if start is not None:
                    # Started again with no stop recorded: the earlier life ended at a power-off in
                    # between, or it never ended (a second holder would be a bug of the agent).
                    off = next((o for o in offs if start <= o <= t), None)
                    close(off if off is not None else t, "power off" if off is not None else "restarted")
                start, last = t, t
            elif start is None:
                continue
            elif what == "stop":
                off = next((o for o in offs if start <= o <= t), None)
                close(off if off is not None else t, "power off" if off is not None else "stop")
                start = last = None
            elif what.startswith("tick") or what == "monitor 0":
                last = t
        if start is not None:
            off = next((o for o in offs if o >= start), None)
            close(off if off is not None else now, "power off" if off is not None else "running")
    return sorted(result, key=lambda l: l.start)


def overlaps(all_lives, limit):
    """Moments when more than `limit` lives were active at once: [(t, [lives])]. A life ends
    exactly when the next may start (a stop record is written after the holder is gone)."""
    events = sorted([(l.start, 1, i) for i, l in enumerate(all_lives)] + [(l.end, 0, i) for i, l in enumerate(all_lives)])
    active, found = set(), []
    for t, kind, i in events:
        if kind == 0:
            active.discard(i)
            continue
        active.add(i)
        if len(active) > limit:
            found.append((t, [all_lives[j] for j in sorted(active)]))
    return found


def longest_gap(times, begin, end):
    """The longest stretch in [begin, end] with no time in `times`: (length, where it began)."""
    ts = sorted(t for t in times if begin <= t <= end)
    best, at, prev = 0.0, begin, begin
    for t in ts + [end]:
        if t - prev > best:
            best, at = t - prev, prev
        prev = t
    return best, at


def ticks(records):
    return [t for recs in records.values() for t, what in recs if what == "tick"]


def two_primaries(samples):
    """PostgreSQL role samples [(t0, t1, node, primary, started)] -> proven moments with two
    primaries: node A read primary before and after a read of B as primary, with the same
    postmaster both times (a primary never returns to recovery without a restart)."""
    by_node = defaultdict(list)
    for s in sorted(samples):
        if s[3]:
            by_node[s[2]].append(s)
    found = []
    for a, reads in by_node.items():
        for x, y in zip(reads, reads[1:]):
            if x[4] != y[4]:
                continue
            for b, other in by_node.items():
                if b == a:
                    continue
                hit = next((s for s in other if x[1] <= s[0] and s[1] <= y[0]), None)
                if hit:
                    found.append((hit[0], a, b))
                    break
    return sorted(set(found))


def self_test():
    """Planted violations must be found and clean histories pass (tools/chaos --self-test)."""
    power = read_power(["10.0 off n1 fencing", "20.0 on n1 chaos"])
    # n1 holds from 1 until the switch kills it at 10; n2 starts at 10.5 after the fence: clean.
    good = read_checker({"n1": ["1.0 start", "1.05 tick", "5.0 tick", "6.0 monitor 0"],
                         "n2": ["10.5 start", "10.55 tick", "12.0 tick", "13.0 stop"]})
    ls = lives(good, power, 30.0)
    assert [(l.node, l.end, l.ended) for l in ls] == [("n1", 10.0, "power off"), ("n2", 13.0, "stop")], ls
    assert overlaps(ls, 1) == []
    # Planted: n2 starts at 8, after n1's last sign of life (6) but before its fence (10).
    bad = read_checker({"n1": ["1.0 start", "6.0 tick"], "n2": ["8.0 start", "8.05 tick", "9.0 stop"]})
    found = overlaps(lives(bad, power, 30.0), 1)
    assert found and found[0][0] == 8.0, found
    # A clone of two: three at once is found, two is not.
    three = read_checker({"n1": ["1 start", "9 stop"], "n2": ["2 start", "9 stop"], "n3": ["3 start", "4 stop"]})
    assert len(overlaps(lives(three, {}, 30.0), 2)) == 1 and overlaps(lives(three, {}, 30.0), 3) == []
    # A stop that comes after the power-off that already ended the life counts from the power-off.
    late = read_checker({"n1": ["1 start", "15 stop"], "n2": ["11 start"]})
    assert overlaps(lives(late, power, 30.0), 1) == []
    assert longest_gap([1, 2, 5, 6], 0, 8) == (3, 2)
    # Two primaries: n1 primary at reads [1,1.1] and [3,3.1] (same postmaster), n2 primary at 2.
    assert two_primaries([(1, 1.1, "n1", True, "a"), (2, 2.1, "n2", True, "b"), (3, 3.1, "n1", True, "a")]) == [(2, "n1", "n2")]
    # n1 restarted in between (another postmaster): not proven.
    assert two_primaries([(1, 1.1, "n1", True, "a"), (2, 2.1, "n2", True, "b"), (3, 3.1, "n1", True, "c")]) == []
    return "chaos checkers: 7 planted and clean histories judged right"
