#!/usr/bin/env python3
"""CPU sampler for bench/datapath.sh.

    cpu_sample.py NETNS_NAME... -- [LABEL=PID ...]

Prints one JSON object: task run time in nanoseconds (sum of the first field
of /proc/PID/task/TID/schedstat, i.e. the scheduler's exact sum_exec_runtime)
for
  iperf3     every iperf3 process in the named network namespaces,
  ksoftirqd  every ksoftirqd/N kernel thread (softirq work deferred there),
  LABEL      each process given as LABEL=PID (all its threads), summed per label,
(SAMPLE_DEBUG=1 also lists each iperf3 process as pidN), and the
system-wide busy and total jiffies of /proc/stat (user+nice+system+irq+
softirq+steal, and that plus idle+iowait) for a quiet-machine cross-check.

Without CONFIG_IRQ_TIME_ACCOUNTING (tick-based accounting, as on the machine
this was written on) softirq work done on the way in or out of a syscall
runs in, and is charged to, the task that made the syscall, so these sums
cover almost all the work a packet causes while staying blind to unrelated
load (e.g. a compiler running at the same time). With IRQ_TIME_ACCOUNTING
the kernel keeps (soft)irq time out of the tasks' run time and counts it
precisely in /proc/stat's irq and softirq columns instead ("irq_jiffies"):
the caller then adds those.
"""
import json
import os
import sys


def task_ns(pid):
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def netns_inode(name):
    try:
        return os.stat(f"/run/netns/{name}").st_ino
    except OSError:
        return None


def main(argv):
    if "--" in argv:
        i = argv.index("--")
        names, labelled = argv[:i], argv[i + 1:]
    else:
        names, labelled = argv, []
    inodes = {n for n in (netns_inode(x) for x in names) if n is not None}
    out = {"iperf3": 0, "ksoftirqd": 0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("ksoftirqd/"):
            out["ksoftirqd"] += task_ns(entry)
        elif comm == "iperf3":
            try:
                ino = os.stat(f"/proc/{entry}/ns/net").st_ino
            except OSError:
                continue
            if ino in inodes:
                out["iperf3"] += task_ns(entry)
                if os.environ.get("SAMPLE_DEBUG"):
                    out["pid" + entry] = task_ns(entry)
    for item in labelled:
        label, _, pid = item.partition("=")
        out[label] = out.get(label, 0) + task_ns(pid)
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7]
    out["sys_busy_jiffies"] = busy
    out["irq_jiffies"] = cpu[5] + cpu[6]
    out["sys_total_jiffies"] = busy + cpu[3] + cpu[4]
    out["clk_tck"] = os.sysconf("SC_CLK_TCK")
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1:])
