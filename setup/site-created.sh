#!/usr/bin/env bash
# The last step of a site's provisioning, run on the node in the plan's root shell: tell the
# panel the site is up, signed like server-ready (HMAC-SHA256 over TIMESTAMP.NONCE.BODY with the
# server's callback secret, which the plan wrote to /run/panel-callback/secret (root, 0600) just
# before and which is removed once used).
#   site-created.sh PANEL_URL SERVER_ID SITE_ID DOMAIN
set -euo pipefail
url=${1:?panel URL} server_id=${2:?server id} site_id=${3:?site id} domain=${4:?domain}
secret_file=/run/panel-callback/secret
[[ -r $secret_file ]] || { echo "no callback secret at $secret_file" >&2; exit 1; }
# Gone however this ends (a failed request or a killed job included).
trap 'rm -f -- "$secret_file"' EXIT

# The same HMAC as setup.sh's: shell builtins and a pipe, so the secret is in no process's argv
# or environment (where other users of this server could read it).
hmac_sha256() {
  local key=$1 msg=$2 i c byte ipad='' opad='' inner outer=''
  ((${#key} <= 64)) || { echo "hmac_sha256: key longer than a block" >&2; return 1; }
  for ((i = 0; i < 64; i++)); do
    c=0
    if ((i < ${#key})); then printf -v c '%d' "'${key:i:1}"; fi
    printf -v byte '\\x%02x' $((c ^ 0x36)); ipad+=$byte
    printf -v byte '\\x%02x' $((c ^ 0x5c)); opad+=$byte
  done
  inner=$({ printf '%b' "$ipad"; printf '%s' "$msg"; } | sha256sum)
  for ((i = 0; i < 64; i += 2)); do outer+="\\x${inner:i:2}"; done
  { printf '%b' "$opad"; printf '%b' "$outer"; } | sha256sum | cut -d' ' -f1
}

# The ids are ULIDs and the domain a checked name: none needs JSON escaping.
body=$(printf '{"server_id":"%s","site_id":"%s","domain":"%s"}' "$server_id" "$site_id" "$domain")
ts=$(date +%s)
nonce=$(openssl rand -hex 16)
read -r secret <"$secret_file"
sig=$(hmac_sha256 "$secret" "$ts.$nonce.$body")
# Written for this callback only: it does not stay on the server.
rm -f -- "$secret_file"
curl -fsS --max-time 30 -X POST \
  -H 'Content-Type: application/json' \
  -H "X-Panel-Timestamp: $ts" -H "X-Panel-Nonce: $nonce" -H "X-Panel-Signature: sha256=$sig" \
  --data-binary "$body" "$url/api/callbacks/site-created" >/dev/null
echo "the panel recorded $domain as created"
