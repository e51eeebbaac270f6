#!/usr/bin/env bash
# The SELinux state a server's SELinux tab shows, one `key=value` per line. Read-only.
set -uo pipefail
mode=disabled
if command -v getenforce >/dev/null 2>&1; then
  mode=$(getenforce 2>/dev/null | tr '[:upper:]' '[:lower:]')
fi
echo "mode=${mode:-disabled}"
echo "configured=$(sed -n 's/^SELINUX=//p' /etc/selinux/config 2>/dev/null | head -n 1)"
echo "module_version=$(head -n 1 /usr/share/panel/selinux/VERSION 2>/dev/null | head -c 40)"
if [[ $mode != disabled ]] && sudo -n semodule -l 2>/dev/null | grep -qx panel; then
  echo "module_loaded=yes"
else
  echo "module_loaded=no"
fi
for b in panel_can_manage_users panel_can_reload_nginx; do
  v=$(getsebool "$b" 2>/dev/null | awk '{print $3}')
  echo "bool_$b=${v:-absent}"
done
echo "nginx_context=$(ps -eo label=,comm= 2>/dev/null | awk '$2 == "nginx" { print $1; exit }')"
if [[ -e /usr/share/selinux/devel/Makefile ]]; then echo "devel=yes"; else echo "devel=no"; fi
