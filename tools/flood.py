#!/usr/bin/env python3
"""Forged Vigil frames as fast as one Python sender can: run inside a lab namespace on a link
(tools/bench flood runs it in the lab's gateway namespace, on link 0). It first captures genuine
frames from the link's multicast group, then sends, for SECONDS, a mix of the kinds given:
  random       80 random bytes (no Vigil header: dropped at the header)
  badtag       a genuine frame's header with a fresh sequence number and a made-up payload and tag
               (a forgery without the key: the AEAD check fails)
  replay       genuine frames sent again (dropped by the replay window before decryption)
  incarnation  a genuine header claiming a new incarnation of its sender, made-up payload (a new
               subkey is derived, then the AEAD check fails)
Prints one JSON line: frames sent per kind and the rate.

  flood.py GROUP PORT IFNAME SECONDS [KINDS]
"""
import json, os, socket, struct, sys, time  # noqa: E401

SEQ, INC = 24, 16  # clear header: incarnation bytes 16-23, sequence 24-31 (VigilWire/Frame.swift)


def capture(group, port, ifname, count=32):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    rx.setsockopt(socket.SOL_SOCKET, 25, ifname.encode())  # SO_BINDTODEVICE
    rx.bind((group, port))
    mreq = struct.pack("4s4si", socket.inet_aton(group), socket.inet_aton("0.0.0.0"), socket.if_nametoindex(ifname))
    rx.setsockopt(socket.IPPROTO_IP, 35, mreq)  # IP_ADD_MEMBERSHIP (ip_mreqn)
    rx.settimeout(5)
    got = []
    while len(got) < count:
        data, _ = rx.recvfrom(2048)
        if data[:4] == b"VIGL":
            got.append(data)
    rx.close()
    return got


def main():
    group, port, ifname, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    kinds = (sys.argv[5] if len(sys.argv) > 5 else "random,badtag,replay,incarnation").split(",")
    genuine = capture(group, port, ifname)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setsockopt(socket.SOL_SOCKET, 25, ifname.encode())
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    # Pools made in advance, so that the loop only sends.
    pool = {
        "random": [os.urandom(80) for _ in range(64)],
        "badtag": [g[:SEQ] + struct.pack(">Q", struct.unpack(">Q", g[SEQ:SEQ + 8])[0] + 10_000_000 + i)
                   + os.urandom(len(g) - SEQ - 8) for i, g in enumerate(genuine * 8)],
        "replay": genuine,
        "incarnation": [g[:INC] + struct.pack(">Q", struct.unpack(">Q", g[INC:INC + 8])[0] + 1 + i) + g[INC + 8:SEQ]
                        + os.urandom(len(g) - SEQ) for i, g in enumerate(genuine * 24)],
    }
    # Kinds in turn, as many of each. 768 made-up incarnations: more than a node keeps subkeys for
    # (512), so most of them cost a key derivation, the worst case.
    longest = max(len(pool[k]) for k in kinds)
    order = [(k, pool[k][i % len(pool[k])]) for i in range(longest) for k in kinds]
    sent = {k: 0 for k in kinds}
    dest = (group, port)
    start = time.monotonic()
    end = start + seconds
    n = 0
    while True:
        for k, f in order:
            try:
                tx.sendto(f, dest)
                sent[k] += 1
            except OSError:
                pass
        n += 1
        if n % 8 == 0 and time.monotonic() >= end:
            break
    took = time.monotonic() - start
    print(json.dumps({"sent": sent, "seconds": took, "rate": sum(sent.values()) / took}))


if __name__ == "__main__":
    main()
