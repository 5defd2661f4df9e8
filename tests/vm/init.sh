#!/bin/sh
# PID 1 of the test VM (busybox sh). Mounts the usual file systems, loads the
# modules listed in /vm/modules, runs the payload's job (/payload/.vmjob,
# written by run.sh) under bash, then reports its exit status on the console
# and powers off. Serial ports: ttyS0 console, ttyS1 result archive (raw tar
# of /results), ttyS2 messages from the host (appended to /run/host.msgs).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /root /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# bash's process substitution, <(...), opens /dev/fd/N; udev is not here to make it.
ln -sfn /proc/self/fd /dev/fd
echo 1 >/proc/sys/kernel/printk_ratelimit 2>/dev/null
# Kernel messages stay off the console unless they are errors.
echo 3 >/proc/sys/kernel/printk

t0=$(cut -d' ' -f1 /proc/uptime)
while read -r ko; do insmod "$ko" 2>/dev/null; done </vm/modules
ip link set lo up

# Host messages: keep ttyS2 open from now on, so nothing sent early is lost.
(stty raw -echo 2>/dev/null; exec cat) </dev/ttyS2 >/run/host.msgs 2>/dev/null &

rc=125
if [ -f /payload/.vmjob ]; then
  echo "@@VM-JOB-START kernel=$(uname -r) uptime=$t0 modules-loaded=$(cut -d' ' -f1 /proc/uptime)@@"
  cd /payload
  VM_RESULTS=/results VM_HOST_MSGS=/run/host.msgs /bin/bash /payload/.vmjob </dev/null
  rc=$?
  cd /
else
  echo "vm init: no /payload/.vmjob"
fi

# Result archive on ttyS1, 8-bit clean (raw: no CR/LF translation). The tty
# drains on the last close, so the archive is complete before poweroff.
if [ -n "$(ls -A /results 2>/dev/null)" ]; then
  (stty raw -echo; tar -C /results -cf - . ) </dev/ttyS1 >/dev/ttyS1 2>/dev/null
fi
echo "@@VM-EXIT $rc uptime=$(cut -d' ' -f1 /proc/uptime)@@"
sync
poweroff -f
