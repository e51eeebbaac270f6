#!/usr/bin/env bash
# Build (once) the disk image of the SELinux VM test node: Debian 12 with systemd as init, the
# Debian kernel, the reference policy (an MCS policy) enforcing from boot, auditd, sshd and
# everything setup.sh and the site steps would install (the guest has no route out). The
# files are labelled offline with the image's own policy (`setfiles`, which works on this
# SELinux-less host) and written into an ext4 image that keeps the labels (`mkfs.ext4 -d`), so
# the first boot needs no relabel. Cached outside the checkout, rebuilt only when this
# script's package list changes; each run boots a copy-on-write overlay (tests/nodes/vm.sh).
# Needs root and Debian's package mirror.
set -euo pipefail
CACHE=${PANEL_NODE_CACHE:-/var/cache/panel-tests}
VM=$CACHE/vm
# The kernel, init and SELinux: what makes it a real server with a real policy.
BASE="systemd-sysv udev dbus linux-image-amd64 initramfs-tools openssh-server iproute2 sudo \
  curl openssl ca-certificates procps passwd less"
SELINUX="selinux-basics selinux-policy-default selinux-policy-dev auditd policycoreutils \
  policycoreutils-python-utils selinux-utils checkpolicy semodule-utils setools make"
# What setup.sh wants on Debian and the sites use, but firewalld: under Debian's reference
# policy its D-Bus replies to an operator's unconfined shell are denied, so `firewall-cmd` waits
# forever (setup.sh skips its firewall step when firewalld is absent; its package step says
# what it could not install offline).
WEB="git composer nginx mariadb-server postgresql redis-server php8.2-fpm php8.2-cli \
  php8.2-mysql php8.2-pgsql"
STAMP_TEXT="v2 $BASE $SELINUX $WEB"
STAMP=$VM/.panel-vm
# The guest's address on its private link (the host is .1): one VM per test run.
GUEST_NET=10.202.1

if [[ -f $STAMP && $(cat "$STAMP") == "$STAMP_TEXT" && -f $VM/base.raw ]]; then
  echo "VM image ready: $VM/base.raw"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
command -v setfiles >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq policycoreutils >/dev/null; }
mkdir -p "$VM"
LOG=$VM/build.log
ROOT=$VM/rootfs.tmp
cleanup() {
  for m in dev/pts dev proc sys; do umount "$ROOT/$m" 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
rm -rf "$ROOT"
echo "building the VM image (debootstrap and packages; a few minutes, once per machine)"
debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian >"$LOG" 2>&1 \
  || { tail -20 "$LOG"; exit 1; }
# Package scripts must not start daemons here, on the host.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod +x "$ROOT/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sys "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
# shellcheck disable=SC2086 # the package lists split on purpose
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive sh -c \
  "apt-get update -qq && apt-get install -y -qq --no-install-recommends $BASE $SELINUX $WEB" >>"$LOG" 2>&1 \
  || { tail -30 "$LOG"; exit 1; }
chroot "$ROOT" apt-get clean

# Boot: the root file system is the whole disk; SELinux permissive by configuration (the
# kernel line makes it enforcing; the panel's enforce flow starts from permissive).
printf '/dev/vda / ext4 defaults 0 1\n' >"$ROOT/etc/fstab"
echo vm-node >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 vm-node\n' >"$ROOT/etc/hosts"
printf 'SELINUX=permissive\nSELINUXTYPE=default\n' >"$ROOT/etc/selinux/config"
# The private link: a static address, no DHCP, no route beyond the host.
mkdir -p "$ROOT/etc/systemd/network"
printf '[Match]\nType=ether\n\n[Network]\nAddress=%s.2/24\n' "$GUEST_NET" >"$ROOT/etc/systemd/network/10-panel-link.network"
{
  chroot "$ROOT" systemctl enable systemd-networkd
  # Nothing waits for a network that will never come up further.
  chroot "$ROOT" systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer
  # A serial console for the boot log; no login prompts (their AVCs are noise).
  chroot "$ROOT" systemctl mask getty@tty1.service serial-getty@ttyS0.service
} >>"$LOG" 2>&1
# Root logs in with the test key only (made here, kept beside the image).
rm -f "$VM/root_key" "$VM/root_key.pub"
ssh-keygen -q -t ed25519 -N '' -C panel-vm-root -f "$VM/root_key"
install -d -m 0700 "$ROOT/root/.ssh"
install -m 0600 "$VM/root_key.pub" "$ROOT/root/.ssh/authorized_keys"
# The guest is a server like any other: packages may start their daemons there.
rm -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT/etc/resolv.conf"
touch "$ROOT/etc/resolv.conf"
cleanup

# Kernel and initramfs boot the image directly (no boot loader).
# (The newest by version: the globs expand sorted, and Debian installs one kernel.)
newest() { local f last=""; for f in "$@"; do last=$f; done; echo "$last"; }
cp "$(newest "$ROOT"/boot/vmlinuz-*)" "$VM/vmlinuz"
cp "$(newest "$ROOT"/boot/initrd.img-*)" "$VM/initrd.img"
chmod 0644 "$VM/vmlinuz" "$VM/initrd.img"

# Label every file with the image's own policy, then make the disk: the labels travel as
# extended attributes.
policy=$(newest "$ROOT"/etc/selinux/default/policy/policy.*)
setfiles -r "$ROOT" -c "$policy" "$ROOT/etc/selinux/default/contexts/files/file_contexts" "$ROOT" >>"$LOG" 2>&1 \
  || { tail -20 "$LOG"; exit 1; }
rm -f "$VM/base.raw.tmp"
mkfs.ext4 -q -F -L root -d "$ROOT" "$VM/base.raw.tmp" 6G >>"$LOG" 2>&1 || { tail -20 "$LOG"; exit 1; }
mv "$VM/base.raw.tmp" "$VM/base.raw"
rm -rf "$ROOT"
echo "$STAMP_TEXT" >"$STAMP"
echo "VM image built: $VM/base.raw"
