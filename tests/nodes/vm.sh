#!/usr/bin/env bash
# The SELinux VM test node: QEMU booting the image tests/nodes/build-vm.sh made (Debian 12,
# systemd, the Debian kernel with `security=selinux enforcing=1`), on a copy-on-write overlay,
# linked to the machine by a private tap link (the machine is 10.202.1.1, the guest 10.202.1.2;
# nothing is routed beyond it). One VM per test run.
#   vm.sh start DIR     boot (overlay, serial log and pid file in DIR); prints `accel=kvm|tcg`
#                       and `boot_seconds=N` once the guest's sshd answers
#   vm.sh stop DIR      stop it by its pid (a clean poweroff first when it still answers)
#   vm.sh reap          stop a VM an earlier run left behind (its process killed before it
#                       could stop it), by the pid kept beside the image; exit 1 if there was one
set -euo pipefail
CACHE=${PANEL_NODE_CACHE:-/var/cache/panel-tests}
VM=$CACHE/vm
TAP=panelvm0
HOST=10.202.1.1
GUEST=10.202.1.2
cmd=${1:?start|stop|reap}
DIR=${2:-}
# The pid of the running VM, machine-wide: its tap link is one per machine.
RUNNING=$VM/running.pid

ssh_guest() {
  ssh -F /dev/null -i "$VM/root_key" -o BatchMode=yes -o IdentitiesOnly=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -o ConnectTimeout=5 "root@$GUEST" "$@"
}

# KVM where it can boot a stock kernel; this machine's kind has a /dev/kvm that cannot (kvm-pvm,
# no vmx/svm: the kernel never gets past decompression), so the answer is probed once per
# machine (a kernel that prints its banner within 20 s) and kept beside the image.
accelerator() {
  local cached=$VM/accel flags
  flags=$(grep -m1 '^flags' /proc/cpuinfo | md5sum | cut -c1-12)
  if [[ -f $cached ]] && [[ $(cut -d' ' -f2 "$cached") == "$flags" ]]; then
    cut -d' ' -f1 "$cached"
    return
  fi
  local accel=tcg probe
  if [[ -r /dev/kvm && -w /dev/kvm ]]; then
    probe=$(mktemp -d)
    timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -display none \
      -kernel "$VM/vmlinuz" -append "console=ttyS0 earlyprintk=ttyS0 panic=-1" -no-reboot \
      -serial "file:$probe/serial" >/dev/null 2>&1 || true
    grep -q 'Linux version' "$probe/serial" 2>/dev/null && accel=kvm
    rm -rf "$probe"
  fi
  echo "$accel $flags" >"$cached"
  echo "$accel"
}

# Stop the VM whose pid is in $RUNNING, if that process is still a panel VM.
reap() {
  local pid
  pid=$(cat "$RUNNING" 2>/dev/null || true)
  rm -f "$RUNNING"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- '-name panel-vm' || return 1
  echo "stopping a VM left running by an earlier run (pid $pid)" >&2
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  ip link del "$TAP" 2>/dev/null || true
  return 0
}

start() {
  [[ -n $DIR ]] || { echo "usage: vm.sh start DIR" >&2; exit 2; }
  [[ -f $VM/base.raw ]] || { echo "no VM image: run tests/nodes/build-vm.sh" >&2; exit 1; }
  reap || true
  stop 2>/dev/null || true
  mkdir -p "$DIR"
  qemu-img create -q -f qcow2 -b "$VM/base.raw" -F raw "$DIR/run.qcow2"
  ip tuntap add dev "$TAP" mode tap 2>/dev/null || true
  ip addr flush dev "$TAP"
  ip addr add "$HOST/24" dev "$TAP"
  ip link set "$TAP" up
  local accel cpu started
  accel=$(accelerator)
  if [[ $accel == kvm ]]; then cpu=host; else cpu=max; fi
  started=$(date +%s)
  qemu-system-x86_64 -name panel-vm -accel "$accel" -cpu "$cpu" -smp 2 -m 1536 \
    -nodefaults -display none -no-reboot \
    -kernel "$VM/vmlinuz" -initrd "$VM/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 security=selinux selinux=1 enforcing=1 panic=-1" \
    -drive "file=$DIR/run.qcow2,if=virtio,format=qcow2,cache=unsafe" \
    -netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no" -device virtio-net-pci,netdev=n0 \
    -serial "file:$DIR/serial.log" -pidfile "$DIR/qemu.pid" -daemonize
  cp "$DIR/qemu.pid" "$RUNNING"
  # Up to 4 minutes: TCG on a loaded 2-core machine.
  for _ in $(seq 240); do
    if ssh_guest true 2>/dev/null; then
      echo "accel=$accel"
      echo "boot_seconds=$(($(date +%s) - started))"
      return 0
    fi
    if ! kill -0 "$(cat "$DIR/qemu.pid" 2>/dev/null)" 2>/dev/null; then break; fi
    sleep 1
  done
  tail -30 "$DIR/serial.log" >&2 || true
  echo "the VM did not answer on ssh" >&2
  stop
  exit 1
}

stop() {
  [[ -n $DIR ]] || { echo "usage: vm.sh stop DIR" >&2; exit 2; }
  local pid
  pid=$(cat "$DIR/qemu.pid" 2>/dev/null || true)
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    ssh_guest 'systemctl poweroff' >/dev/null 2>&1 || true
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  if [[ -n $pid && $(cat "$RUNNING" 2>/dev/null) == "$pid" ]]; then rm -f "$RUNNING"; fi
  rm -f "$DIR/qemu.pid" "$DIR/run.qcow2"
  ip link del "$TAP" 2>/dev/null || true
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  reap) reap ;;
  *) echo "usage: vm.sh start|stop DIR | reap" >&2; exit 2 ;;
esac
