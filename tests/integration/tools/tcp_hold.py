#!/usr/bin/env python3
"""Opens many idle TCP connections and holds them, for tests/integration/test_attack_*.sh.

  tcp_hold.py DST PORT COUNT SECONDS SRC_IP...

Connects COUNT times (capped at 5,000) to DST:PORT, binding each socket to the next SRC_IP in
turn, sends nothing, prints "opened N" (connections the kernel completed or that are still
pending) and holds them until SECONDS (capped at 30) pass or stdin closes. Connections the far
side closes are not reopened. Only for the test's own namespaces.
"""
import errno
import resource
import select
import socket
import sys
import time

dst, port = sys.argv[1], int(sys.argv[2])
count, seconds = min(int(sys.argv[3]), 5000), min(float(sys.argv[4]), 30)
sources = sys.argv[5:] or [""]
resource.setrlimit(resource.RLIMIT_NOFILE, (count + 64, count + 64))
socks = []
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((sources[i % len(sources)], 0))
    err = s.connect_ex((dst, port))
    if err not in (0, errno.EINPROGRESS):
        s.close()
        continue
    socks.append(s)
print("opened", len(socks), flush=True)
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    r, _, _ = select.select([sys.stdin], [], [], 0.2)
    if r and not sys.stdin.read(1):
        break
for s in socks:
    s.close()
