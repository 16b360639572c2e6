#!/usr/bin/env python3
"""Forged frames from inside a workload, for tests/integration/test_attack_workload_spoof.sh.

  spoof.py ip   IFACE SRC_IP DST_IP DST_MAC COUNT   ICMP echo requests with another's source IP
  spoof.py mac  IFACE SRC_MAC DST_IP DST_MAC MY_IP COUNT   ... with another's source MAC
  spoof.py arp  IFACE CLAIMED_IP VICTIM_IP VICTIM_MAC COUNT  ARP replies: CLAIMED_IP is at my MAC
  spoof.py broadcast IFACE SECONDS   broadcast frames (ethertype 0x88b5, local experimental) as
                                     fast as it goes, for SECONDS (capped at 10)
  spoof.py unknown IFACE SECONDS     the same, unicast to a MAC nobody has (02:00:5e:77:ee:01)

Sends COUNT (capped at 100) frames on IFACE with an AF_PACKET socket; prints how many.
"""
import socket
import struct
import sys


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def icmp_frame(src_mac, dst_mac, src_ip, dst_ip, seq):
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x5EF, seq) + b"weft-spoof-test!"
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq, 0, 64, 1, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + icmp


def main():
    mode, iface = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    my_mac = s.getsockname()[4][:6]
    frames = []
    if mode == "ip":
        src_ip, dst_ip, dst_mac, n = sys.argv[3], sys.argv[4], mac_bytes(sys.argv[5]), int(sys.argv[6])
        frames = [icmp_frame(my_mac, dst_mac, src_ip, dst_ip, i) for i in range(min(n, 100))]
    elif mode == "mac":
        src_mac, dst_ip, dst_mac = mac_bytes(sys.argv[3]), sys.argv[4], mac_bytes(sys.argv[5])
        my_ip, n = sys.argv[6], int(sys.argv[7])
        frames = [icmp_frame(src_mac, dst_mac, my_ip, dst_ip, i) for i in range(min(n, 100))]
    elif mode == "arp":
        claimed, victim_ip, victim_mac, n = sys.argv[3], sys.argv[4], mac_bytes(sys.argv[5]), int(sys.argv[6])
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, my_mac, socket.inet_aton(claimed),
                          victim_mac, socket.inet_aton(victim_ip))
        frames = [victim_mac + my_mac + b"\x08\x06" + arp] * min(n, 100)
    elif mode in ("broadcast", "unknown"):
        import time
        dst = b"\xff" * 6 if mode == "broadcast" else mac_bytes("02:00:5e:77:ee:01")
        frame = dst + my_mac + b"\x88\xb5" + b"weft-flood-test!" * 4
        end, sent = time.monotonic() + min(float(sys.argv[3]), 10), 0
        while time.monotonic() < end:
            for _ in range(256):
                try:
                    s.send(frame)
                    sent += 1
                except OSError:
                    pass
        print(sent)
        return
    else:
        raise SystemExit(__doc__)
    for f in frames:
        s.send(f)
    print(len(frames))


main()
