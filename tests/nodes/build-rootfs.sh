#!/usr/bin/env bash
# Build (once) the Debian 12 root filesystem that isolated test nodes boot from: a minbase
# debootstrap with sshd and what setup.sh needs. Cached outside the checkout; rebuilt only when
# the package list below changes. Needs root and Debian's package mirror.
set -euo pipefail
CACHE=${PANEL_NODE_CACHE:-/var/cache/panel-tests}
# git: deployments fetch sites' repositories (and a node can serve one as a git host).
# strace: a test records every program setup.sh starts, with its arguments and environment.
PACKAGES=openssh-server,iproute2,sudo,curl,openssl,ca-certificates,procps,passwd,git,strace
# Downloaded into the rootfs's apt cache but not installed: nodes have no route out, so the
# panel's installs (software, sites) are served from this cache, as from a local mirror.
# python3: the provisioning benchmark runs an Ansible playbook beside the panel (Ansible's
# modules run in the node's Python).
CACHED="nginx redis-server mariadb-server postgresql php8.2-fpm php8.2-cli php8.2-mysql php8.2-pgsql python3"
ROOTFS=$CACHE/rootfs-bookworm
STAMP=$ROOTFS/.panel-rootfs
WEB=$CACHE/rootfs-bookworm-web

# The "web" variant: the same rootfs with the cached packages installed (nginx, PHP-FPM,
# MariaDB, PostgreSQL), for the site tests, which need them running rather than installable.
build_web() {
  local stamp=$WEB/.panel-rootfs
  if [[ -f $stamp && $(cat "$stamp") == "web $(cat "$STAMP")" ]]; then
    echo "node web rootfs ready: $WEB"
    return 0
  fi
  rm -rf "$WEB.tmp"
  cp -a "$ROOTFS" "$WEB.tmp"
  mount -t proc proc "$WEB.tmp/proc"
  # shellcheck disable=SC2086 # the package list splits on purpose
  if ! chroot "$WEB.tmp" env DEBIAN_FRONTEND=noninteractive sh -c "apt-get install -y -qq --no-download $CACHED" >>"$CACHE/debootstrap.log" 2>&1; then
    umount "$WEB.tmp/proc"
    tail -20 "$CACHE/debootstrap.log"
    exit 1
  fi
  umount "$WEB.tmp/proc"
  chroot "$WEB.tmp" apt-get clean
  echo "web $(cat "$STAMP")" >"$WEB.tmp/.panel-rootfs"
  rm -rf "$WEB"
  mv "$WEB.tmp" "$WEB"
  echo "node web rootfs built: $WEB"
}

if [[ -f $STAMP && $(cat "$STAMP") == "$PACKAGES $CACHED" ]]; then
  echo "node rootfs ready: $ROOTFS"
  build_web
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
rm -rf "$ROOTFS.tmp"
mkdir -p "$CACHE"
debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS.tmp" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 \
  || { tail -20 "$CACHE/debootstrap.log"; exit 1; }
# Package lists and the cached downloads (the host's network, the rootfs's apt).
cp /etc/resolv.conf "$ROOTFS.tmp/etc/resolv.conf"
# shellcheck disable=SC2086 # the package list splits on purpose
chroot "$ROOTFS.tmp" sh -c "apt-get update -qq && apt-get install -y -qq --download-only $CACHED" >>"$CACHE/debootstrap.log" 2>&1 \
  || { tail -20 "$CACHE/debootstrap.log"; exit 1; }
# Packages must not start daemons when a node installs them (no init system in a node).
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS.tmp/usr/sbin/policy-rc.d"
chmod +x "$ROOTFS.tmp/usr/sbin/policy-rc.d"
# Nodes start sshd by hand: no host keys baked in (each node makes its own).
rm -f "$ROOTFS.tmp"/etc/ssh/ssh_host_*
echo "$PACKAGES $CACHED" >"$ROOTFS.tmp/.panel-rootfs"
rm -rf "$ROOTFS"
mv "$ROOTFS.tmp" "$ROOTFS"
echo "node rootfs built: $ROOTFS"
build_web
