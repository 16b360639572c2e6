#!/usr/bin/env python3
"""A bounded UDP flood toward a weft router's tunnel port, for tests/integration/test_attack_*.sh.

  udp_flood.py forged-epoch PCAP DST_IP PORT SECONDS RATE   datagrams that copy the receiver id
      of the first weft data datagram in PCAP (captured on the underlay toward DST_IP), with the
      epoch 32 ahead (the most an old receiver ratcheted for) and random counter and body
  udp_flood.py random DST_IP PORT SECONDS RATE              random bytes of random length

Sends at most RATE datagrams a second for SECONDS (both capped: a test tool, not a weapon), only
to the address given (the test's own namespaces), and prints how many it sent.
"""
import os
import socket
import struct
import sys
import time

MAX_RATE, MAX_SECONDS = 200_000, 10


def first_weft_header(pcap_path):
    data = open(pcap_path, "rb").read()
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4, "not a little-endian usec pcap"
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        payload = ip[ihl + 8:]
        if len(payload) >= 32 and payload[0] == 1 and payload[2:4] == b"\0\0":
            return payload[:16]
    raise SystemExit("no weft data datagram in " + pcap_path)


def main():
    mode = sys.argv[1]
    if mode == "forged-epoch":
        hdr = first_weft_header(sys.argv[2])
        args = sys.argv[3:]
    elif mode == "random":
        hdr = None
        args = sys.argv[2:]
    else:
        raise SystemExit(__doc__)
    dst, port = args[0], int(args[1])
    seconds, rate = min(float(args[2]), MAX_SECONDS), min(int(args[3]), MAX_RATE)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((dst, port))
    # Precomputed bodies: the tool's own cost per datagram stays low so it can reach RATE.
    pool = [os.urandom(1200) for _ in range(64)]
    sent, start, i = 0, time.monotonic(), 0
    burst = max(1, rate // 1000)  # datagrams per millisecond tick
    while True:
        now = time.monotonic() - start
        if now >= seconds:
            break
        due = int(now * rate)
        while sent < due:
            for _ in range(min(burst, due - sent)):
                body = pool[i % len(pool)]
                i += 1
                if hdr is not None:
                    d = hdr[:1] + bytes([(hdr[1] + 32) & 0xFF]) + hdr[2:8] + body[:8] + body[8:1208]
                else:
                    d = body[: 1 + (body[0] * 5) % 1200]
                try:
                    s.send(d)
                except (BlockingIOError, ConnectionRefusedError):
                    pass
                sent += 1
        time.sleep(0.0005)
    print(sent)


main()
