#!/usr/bin/env bash
# Facts the panel records at first contact, one `key=value` per line. Read-only.
set -euo pipefail
# shellcheck disable=SC1091 # the file is the node's, not ours
. /etc/os-release
echo "os_id=${ID:-unknown}"
echo "os_version=${VERSION_ID:-unknown}"
if command -v getenforce >/dev/null 2>&1; then
  echo "selinux=$(getenforce | tr '[:upper:]' '[:lower:]')"
else
  echo "selinux=disabled"
fi
echo "kernel=$(uname -r)"
echo "uptime_seconds=$(cut -d. -f1 /proc/uptime)"
