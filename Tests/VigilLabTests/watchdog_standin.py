#!/usr/bin/env python3
"""STAND-IN for a hardware watchdog device (there is none on the test machines): a FIFO that
vigild opens as its watchdog device. It logs, one per line with a monotonic timestamp:
  armed            the daemon opened the device
  ping             a keepalive write
  magic-close      'V' then close (clean shutdown disarms a real watchdog)
  would-reset      no keepalive for TIMEOUT seconds while armed (a real board resets here)
  closed-armed     the writer went away without the magic 'V' (a real watchdog keeps counting)
Usage: watchdog_standin.py PATH TIMEOUT_SECONDS   (runs until killed)"""
import os, select, sys, time

path, timeout = sys.argv[1], float(sys.argv[2])
if os.path.exists(path):
    os.unlink(path)
os.mkfifo(path, 0o600)
log = open(path + ".log", "a", buffering=1)
def note(what):
    log.write("%.3f %s\n" % (time.monotonic(), what))

fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
keep = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # so that reads do not see EOF before the daemon opens
armed = False
last = time.monotonic()
reset = False
magic = False
while True:
    r, _, _ = select.select([fd], [], [], 0.05)
    now = time.monotonic()
    if r:
        data = os.read(fd, 4096)
        if data:
            if not armed:
                armed, reset, magic = True, False, False
                note("armed")
            last = now
            magic = data.endswith(b"V")
            note("magic-close" if magic else "ping")
    if armed and not reset and not magic and now - last > timeout:
        reset = True
        note("would-reset")
