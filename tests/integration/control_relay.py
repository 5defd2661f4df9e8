#!/usr/bin/env python3
"""A lossy UDP relay between two L2TP agents, for control_two_agents_test.sh.

Each agent's tunnel socket is connected to its peer's address and port, so
each agent must see the relay as its peer:

  agent A  <->  R1 (A_SIDE)  relay  R2 (B_SIDE)  <->  agent B

What R1 receives (from A) goes out of R2 to B; what R2 receives (from B)
goes out of R1 to A. Each datagram, independently: dropped with --drop,
else sent twice with --dup, and each copy delayed by 50-150 ms with --delay
(which reorders it behind the ones that follow). --dup-first S also sends
the first datagram from A (the SCCRQ) once more S seconds later: a late
duplicate. Datagrams from any other address are ignored.

Usage: control_relay.py A_SIDE B_SIDE A B [--drop P] [--dup P] [--delay P] [--dup-first S]
(each ADDR:PORT). Prints "ready" once bound; on SIGTERM prints its counters
as one JSON line and exits 0. Runs at most --lifetime seconds.
"""

import argparse
import heapq
import itertools
import json
import random
import select
import signal
import socket
import sys
import time


def addr(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a_side", type=addr)
    p.add_argument("b_side", type=addr)
    p.add_argument("a", type=addr)
    p.add_argument("b", type=addr)
    p.add_argument("--drop", type=float, default=0.1)
    p.add_argument("--dup", type=float, default=0.2)
    p.add_argument("--delay", type=float, default=0.2)
    p.add_argument("--dup-first", type=float, default=None, metavar="S")
    p.add_argument("--lifetime", type=float, default=300)
    args = p.parse_args()

    family = socket.AF_INET6 if ":" in args.a_side[0] else socket.AF_INET
    r1 = socket.socket(family, socket.SOCK_DGRAM)
    r1.bind(args.a_side)
    r2 = socket.socket(family, socket.SOCK_DGRAM)
    r2.bind(args.b_side)
    # sock -> (expected sender, socket to send out of, destination)
    routes = {r1: (args.a, r2, args.b), r2: (args.b, r1, args.a)}

    stats = {"received": 0, "dropped": 0, "duplicated": 0, "delayed": 0, "sent": 0, "ignored": 0}
    pending = []  # (due, seq, socket, data, destination)
    seq = itertools.count()

    def report(*_):
        print(json.dumps(stats), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, report)
    print("ready", flush=True)
    end = time.monotonic() + args.lifetime
    while time.monotonic() < end:
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, out, data, dst = heapq.heappop(pending)
            try:
                out.sendto(data, dst)
                stats["sent"] += 1
            except OSError:
                pass  # the agent's socket is gone (ICMP unreachable): nothing to do
        timeout = max(0.0, pending[0][0] - now) if pending else 0.5
        readable, _, _ = select.select([r1, r2], [], [], timeout)
        for sock in readable:
            try:
                data, src = sock.recvfrom(65535)
            except OSError:
                continue
            want, out, dst = routes[sock]
            if src[:2] != want:
                stats["ignored"] += 1
                continue
            stats["received"] += 1
            if args.dup_first is not None and sock is r1:
                heapq.heappush(pending, (time.monotonic() + args.dup_first, next(seq), out, data, dst))
                stats["duplicated"] += 1
                args.dup_first = None
            if random.random() < args.drop:
                stats["dropped"] += 1
                continue
            copies = 1
            if random.random() < args.dup:
                copies = 2
                stats["duplicated"] += 1
            for _ in range(copies):
                due = time.monotonic()
                if random.random() < args.delay:
                    due += random.uniform(0.05, 0.15)
                    stats["delayed"] += 1
                heapq.heappush(pending, (due, next(seq), out, data, dst))
    report()


if __name__ == "__main__":
    main()
