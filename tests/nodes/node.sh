#!/usr/bin/env bash
# An isolated test node: its own network namespace (10.200.K.2, the machine is 10.200.K.1), its own
# mount/PID/UTS namespaces and an overlay over the cached Debian rootfs, running sshd. Users,
# files and services inside are invisible to the machine and to other nodes.
#   node.sh start K AUTHORIZED_KEYS_FILE     node.sh stop K
#   node.sh link K J     a private link between nodes K and J (K is 10.201.K.1, J is 10.201.K.2),
#                        e.g. for a git host node: traffic between two test nodes, nothing else
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${PANEL_NODE_CACHE:-/var/cache/panel-tests}
# PANEL_NODE_FLAVOR=web boots the rootfs with nginx, PHP-FPM, MariaDB and PostgreSQL installed.
ROOTFS=$CACHE/rootfs-bookworm${PANEL_NODE_FLAVOR:+-$PANEL_NODE_FLAVOR}
cmd=${1:?start|stop|init}
K=${2:?node number 1-250}
if ! [[ $K =~ ^[0-9]+$ ]] || ((K < 1 || K > 250)); then
  echo "node number 1-250" >&2
  exit 2
fi
NAME=panel-node$K
DIR=/run/panel-nodes/$NAME

start() {
  local keys=$1
  [[ -f $ROOTFS/.panel-rootfs ]] || { echo "no node rootfs: run tests/nodes/build-rootfs.sh" >&2; exit 1; }
  stop_node 2>/dev/null || true
  mkdir -p "$DIR"/{upper,work,root}
  install -d -m 0700 "$DIR/upper/root/.ssh"
  install -m 0600 "$keys" "$DIR/upper/root/.ssh/authorized_keys"
  ip netns add "$NAME"
  ip link add "pv$K" type veth peer name "pn$K"
  ip link set "pn$K" netns "$NAME"
  ip addr add "10.200.$K.1/24" dev "pv$K"
  ip link set "pv$K" up
  ip netns exec "$NAME" ip addr add "10.200.$K.2/24" dev "pn$K"
  ip netns exec "$NAME" ip link set "pn$K" up
  ip netns exec "$NAME" ip link set lo up
  # Other test nodes' gateways are reachable through this one (a panel on one node's gateway
  # serves them all); nothing beyond the test range is routed.
  ip netns exec "$NAME" ip route add 10.200.0.0/16 via "10.200.$K.1"
  ip netns exec "$NAME" unshare --mount --uts --pid --fork --kill-child --propagation private \
    "$HERE/node.sh" init "$K" >"$DIR/node.log" 2>&1 &
  echo $! >"$DIR/pid"
  # Up to 30 s: a loaded 2-core machine can be slow to start the first sshd.
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/10.200.$K.2/22") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  cat "$DIR/node.log" >&2
  echo "node $NAME did not start sshd" >&2
  exit 1
}

# Runs inside the node's new namespaces.
init() {
  mount -t overlay overlay -o "lowerdir=$ROOTFS,upperdir=$DIR/upper,workdir=$DIR/work" "$DIR/root"
  mount -t proc proc "$DIR/root/proc"
  mount -t sysfs sysfs "$DIR/root/sys"
  mount --rbind /dev "$DIR/root/dev"
  mount -t tmpfs tmpfs "$DIR/root/run"
  mount -t tmpfs tmpfs "$DIR/root/tmp"
  hostname "$NAME"
  # Like any server, the node resolves its own name (sudo asks for it).
  printf '127.0.1.1\t%s\n' "$NAME" >>"$DIR/root/etc/hosts"
  mkdir -p "$DIR/root/run/sshd"
  # The usual container marker: setup.sh leaves kernel-wide settings to the host.
  touch "$DIR/root/run/.containerenv"
  chroot "$DIR/root" ssh-keygen -A >/dev/null
  exec chroot "$DIR/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/sshd -D -e
}

link() {
  local j=$1
  if ! [[ $j =~ ^[0-9]+$ ]] || ((j < 1 || j > 250)); then
    echo "node number 1-250" >&2
    exit 2
  fi
  local a="pl${K}j${j}" b="pl${j}j${K}"
  # Made in this namespace, then moved into the two nodes': when either node stops (its
  # namespace goes), the pair goes with it.
  ip link add "$a" type veth peer name "$b"
  ip link set "$a" netns "panel-node$K"
  ip link set "$b" netns "panel-node$j"
  ip netns exec "panel-node$K" ip addr add "10.201.$K.1/24" dev "$a"
  ip netns exec "panel-node$K" ip link set "$a" up
  ip netns exec "panel-node$j" ip addr add "10.201.$K.2/24" dev "$b"
  ip netns exec "panel-node$j" ip link set "$b" up
}

stop_node() {
  # `unshare --fork` ignores SIGTERM while it waits for its child, so it gets SIGKILL; its
  # --kill-child then kills the node's init, and with it every process of the node's PID
  # namespace (daemons a plain TERM would have left running, and spinning, forever).
  if [[ -f $DIR/pid ]]; then
    local pid
    pid=$(cat "$DIR/pid")
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  ip netns del "$NAME" 2>/dev/null || true
  ip link del "pv$K" 2>/dev/null || true
  rm -rf "$DIR"
}

case "$cmd" in
  start) start "${3:?authorized_keys file}" ;;
  init) init ;;
  stop) stop_node ;;
  link) link "${3:?the other node number}" ;;
  *) echo "usage: node.sh start|stop|link K [AUTHORIZED_KEYS_FILE|J]" >&2; exit 2 ;;
esac
