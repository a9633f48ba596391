#!/usr/bin/env python3
"""The replication demo's client (tools/lab demo --replication): writes an increasing counter
through the virtual IP, a committed transaction then 10 ms of pause, again (synchronous commit: acknowledged
means on the primary and a standby), records every acknowledged value, and prints each outage.
It stops when the file STOP exists; then it reads the table back and checks that every value it
saw acknowledged is there (exit 0), or names the lost ones (exit 1).

    replication_client.py HOST PORT STATE_DIR
"""
import os
import sys
import time

import psycopg2

host, port, state = sys.argv[1], int(sys.argv[2]), sys.argv[3]
stop, cut_file = os.path.join(state, "client.stop"), os.path.join(state, "cut")


def connect():
    # A dead primary must not hold a write for minutes: fail within about a second.
    c = psycopg2.connect(host=host, port=port, user="postgres", dbname="postgres", connect_timeout=1,
                         keepalives=1, keepalives_idle=1, keepalives_interval=1, keepalives_count=1,
                         tcp_user_timeout=1000)
    c.autocommit = True
    return c


def log(msg):
    print(time.strftime("%H:%M:%S", time.gmtime()) + " client: " + msg, flush=True)


acked, conn, value, last_ok, failing_since, fails, cut_reported = [], None, 0, None, None, 0, False
while not os.path.exists(stop):
    try:
        if conn is None:
            conn = connect()
        value += 1
        conn.cursor().execute("insert into counter values (%s)", (value,))
        now = time.time()
        acked.append(value)
        if failing_since is not None:
            cut = float(open(cut_file).read()) if os.path.exists(cut_file) else None
            since = ""
            if cut and not cut_reported:  # the first outage after the demo's cut
                since, cut_reported = f", {now - cut:.3f} s after the cut", True
            log(f"writes acknowledged again after an outage of {now - (last_ok or failing_since):.3f} s{since} "
                f"({fails} failed tries)")
            failing_since, fails = None, 0
        if len(acked) % 500 == 0:
            log(f"{len(acked)} writes acknowledged (last {value})")
        last_ok = now
        time.sleep(0.01)
    except psycopg2.Error as e:
        if failing_since is None:
            failing_since = time.time()
            log("write failed: " + str(e).strip().splitlines()[0][:100])
        fails += 1
        conn = None
        time.sleep(0.01)

# Every acknowledged write must be in the primary now.
for _ in range(100):
    try:
        c = connect()
        break
    except psycopg2.Error:
        time.sleep(0.1)
cur = c.cursor()
cur.execute("select i from counter")
present = {r[0] for r in cur.fetchall()}
lost = [v for v in acked if v not in present]
log(f"{len(acked)} writes acknowledged, {len(lost)} of them missing in the primary"
    + (": " + ", ".join(map(str, lost[:20])) if lost else ""))
sys.exit(1 if lost else 0)
