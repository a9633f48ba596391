#!/usr/bin/env python3
"""Hostile frames for the lab test: run inside a lab namespace. Captures one genuine Vigil frame
from the multicast group, then sends: truncated, bad magic, wrong cluster, tampered (bad tag),
unknown node, random bytes, and the genuine frame again (a replay). Prints what it sent."""
import os, socket, struct, sys

group, port, ifname = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
rx.setsockopt(socket.SOL_SOCKET, 25, ifname.encode())  # SO_BINDTODEVICE
rx.bind((group, port))
mreq = struct.pack("4s4si", socket.inet_aton(group), socket.inet_aton("0.0.0.0"), socket.if_nametoindex(ifname))
rx.setsockopt(socket.IPPROTO_IP, 35, mreq)  # IP_ADD_MEMBERSHIP with ip_mreqn
rx.settimeout(5)
genuine = None
while genuine is None:
    data, _ = rx.recvfrom(2048)
    if data[:4] == b"VIGL" and struct.unpack(">H", data[12:14])[0] != 3:  # a frame not from n3
        genuine = data
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.setsockopt(socket.SOL_SOCKET, 25, ifname.encode())
tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
SEQ = 24  # the clear header's sequence number: bytes 24-31, big-endian (VigilWire/Frame.swift)


def forged_sequence(frame):
    seq = struct.unpack(">Q", frame[SEQ:SEQ + 8])[0]
    return frame[:SEQ] + struct.pack(">Q", seq + 1000) + frame[SEQ + 8:]


frames = {
    "truncated": genuine[:20],
    "bad_magic": b"XXXX" + genuine[4:],
    "wrong_cluster": genuine[:8] + struct.pack(">I", 999) + genuine[12:],
    # A fresh sequence number (a replayed one is dropped before its tag is checked).
    "bad_tag": forged_sequence(genuine)[:-1] + bytes([genuine[-1] ^ 0xFF]),
    "unknown_node": genuine[:12] + struct.pack(">H", 60) + genuine[14:],
    "random": os.urandom(80),
    "replayed": genuine,
}
for name, f in frames.items():
    for _ in range(3):
        tx.sendto(f, (group, port))
    print("sent", name, len(f), "bytes")
