#!/usr/bin/env bash
# Build (once) the Debian 12 root filesystem that isolated test nodes boot from: a minbase
# debootstrap with sshd and what setup.sh needs. Cached outside the checkout; rebuilt only when
# the package list below changes. Needs root and Debian's package mirror.
set -euo pipefail
CACHE=${PANEL_NODE_CACHE:-/var/cache/panel-tests}
PACKAGES=openssh-server,iproute2,sudo,curl,openssl,ca-certificates,procps,passwd
ROOTFS=$CACHE/rootfs-bookworm
STAMP=$ROOTFS/.panel-rootfs
if [[ -f $STAMP && $(cat "$STAMP") == "$PACKAGES" ]]; then
  echo "node rootfs ready: $ROOTFS"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
rm -rf "$ROOTFS.tmp"
mkdir -p "$CACHE"
debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS.tmp" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 \
  || { tail -20 "$CACHE/debootstrap.log"; exit 1; }
# Nodes start sshd by hand: no host keys baked in (each node makes its own), no policy-rc.d games.
rm -f "$ROOTFS.tmp"/etc/ssh/ssh_host_*
echo "$PACKAGES" >"$ROOTFS.tmp/.panel-rootfs"
rm -rf "$ROOTFS"
mv "$ROOTFS.tmp" "$ROOTFS"
echo "node rootfs built: $ROOTFS"
