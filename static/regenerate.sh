#!/usr/bin/env bash
# Rebuild the committed front-end files from pinned npm packages: static/app.css (Tailwind 4 +
# daisyUI 5, only the classes the maud views use) and the vendored htmx + SSE extension.
# Node is needed only to run this script, never to build or run the panel.
# Usage: static/regenerate.sh            (writes the files)
#        static/regenerate.sh --check    (exits 1 if the committed files are stale)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${PANEL_UI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/panel-ui-tools}
mkdir -p "$tools"
cd "$tools"
[[ -f package.json ]] || echo '{"private":true}' > package.json
want="tailwindcss@4.3.5 @tailwindcss/cli@4.3.5 daisyui@5.8.1 htmx.org@2.0.11 htmx-ext-sse@2.2.4"
if [[ ! -f .installed ]] || [[ "$(cat .installed)" != "$want" ]]; then
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  npm install --no-audit --no-fund --save-exact $want >/dev/null 2>&1
  echo "$want" > .installed
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The input must sit next to node_modules for `@import "tailwindcss"` to resolve.
sed "s#\.\./\.\./src/#$here/../src/#; s#\.\./panel.js#$here/panel.js#" "$here/src/input.css" > input.css
npx --no-install @tailwindcss/cli -i input.css -o "$out/app.css" --minify >"$out/tailwind.log" 2>&1 || { cat "$out/tailwind.log"; exit 1; }
cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.min.js "$out/"
if [[ ${1:-} == --check ]]; then
  if cmp -s "$out/app.css" "$here/app.css" && cmp -s "$out/htmx.min.js" "$here/vendor/htmx.min.js" \
    && cmp -s "$out/sse.min.js" "$here/vendor/sse.min.js"; then
    echo "static files are up to date"
  else
    echo "static files are stale: run static/regenerate.sh"
    exit 1
  fi
else
  cp "$out/app.css" "$here/app.css"
  cp "$out/htmx.min.js" "$out/sse.min.js" "$here/vendor/"
  echo "wrote static/app.css ($(wc -c < "$here/app.css") bytes) and static/vendor/"
fi
