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
# How services are controlled: systemd when it runs, otherwise the binaries directly.
if [[ -d /run/systemd/system ]]; then echo "init=systemd"; else echo "init=none"; fi
# PHP-FPM versions present: Debian's php-fpmX.Y, Remi's /opt/remi/phpXY.
for f in /usr/sbin/php-fpm[0-9]* /opt/remi/php[0-9]*/root/usr/sbin/php-fpm; do
  [[ -x $f ]] || continue
  case "$f" in
    /usr/sbin/php-fpm*) echo "php=${f#/usr/sbin/php-fpm}" ;;
    *) v=${f#/opt/remi/php}; v=${v%%/*}; echo "php=${v:0:1}.${v:1}" ;;
  esac
done
echo "uptime_seconds=$(cut -d. -f1 /proc/uptime)"
