#!/usr/bin/env bash
# Add or remove one key in the login user's ~/.ssh/authorized_keys, matched by its key blob
# (so a different comment still matches). Usage: bash -s -- add|remove 'ssh-ed25519 AAAA… comment'
set -euo pipefail
action=${1:?add|remove}
line=${2:?public key line}
blob=$(printf '%s\n' "$line" | awk '{print $2}')
[[ -n $blob ]] || { echo "no key blob in the given line" >&2; exit 2; }
file=$HOME/.ssh/authorized_keys
install -d -m 0700 "$HOME/.ssh"
touch "$file"
chmod 0600 "$file"
has_key() { awk -v k="$blob" '$2 == k {found = 1} END {exit !found}' "$file"; }
case "$action" in
  add)
    if has_key; then echo "already authorized"; else printf '%s\n' "$line" >>"$file"; echo "authorized"; fi
    ;;
  remove)
    if has_key; then
      tmp=$(mktemp "$HOME/.ssh/.authorized_keys.XXXXXX")
      awk -v k="$blob" '$2 != k' "$file" >"$tmp"
      chmod 0600 "$tmp"
      mv -f "$tmp" "$file"
      echo "removed"
    else
      echo "not present"
    fi
    ;;
  *) echo "add or remove" >&2; exit 2 ;;
esac
