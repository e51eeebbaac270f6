#!/usr/bin/env bash
# Step 8 of a site's provisioning, run on the node as the panel's SSH user: tell the panel the
# site is up, signed like server-ready (HMAC-SHA256 over TIMESTAMP.NONCE.BODY with the server's
# callback secret, which the panel wrote to ~/.panel/callback-secret just before).
#   site-created.sh PANEL_URL SERVER_ID SITE_ID DOMAIN
set -euo pipefail
url=${1:?panel URL} server_id=${2:?server id} site_id=${3:?site id} domain=${4:?domain}
secret_file=$HOME/.panel/callback-secret
[[ -r $secret_file ]] || { echo "no callback secret at $secret_file" >&2; exit 1; }
# The ids are ULIDs and the domain a checked name: none needs JSON escaping.
body=$(printf '{"server_id":"%s","site_id":"%s","domain":"%s"}' "$server_id" "$site_id" "$domain")
ts=$(date +%s)
nonce=$(openssl rand -hex 16)
sig=$(printf '%s.%s.%s' "$ts" "$nonce" "$body" | openssl dgst -sha256 -hmac "$(cat "$secret_file")" -r | cut -d' ' -f1)
curl -fsS --max-time 30 -X POST \
  -H 'Content-Type: application/json' \
  -H "X-Panel-Timestamp: $ts" -H "X-Panel-Nonce: $nonce" -H "X-Panel-Signature: sha256=$sig" \
  --data-binary "$body" "$url/api/callbacks/site-created" >/dev/null
echo "the panel recorded $domain as created"
