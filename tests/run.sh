#!/usr/bin/env bash
# The project's test command (README): installs what the suite needs if it is missing
# (idempotent), then runs the format check, clippy, cargo-deny and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

# --- system packages -------------------------------------------------------------------------
# Debian packages the suite uses; daemons among them are started by the tests themselves.
# python3-dotenv, php-cli and php-vlucas-phpdotenv (Laravel's loader): the dotenv parsers the
# .env round-trip test reads files back with.
# The SELinux tools and Debian's reference policy build and query the policy module offline.
# pebble (with pebble-challtestsrv) is the ACME server site certificates are issued by, BIND (bind9)
# the DNS server wildcard certificates are proven through (RFC 2136); curl and
# openssl read what a node serves over https; certutil (libnss3-tools) lets Chromium trust a test CA.
# ansible-core runs the playbook the provisioning benchmark measures the panel's job against.
# python3-venv and python3-pip hold Schemathesis (the API fuzzer) in its own environment.
APT_PACKAGES=(sqlite3 openssh-client openssh-server shellcheck chromium chromium-driver debootstrap iproute2 auditd python3-dotenv php-cli php-mbstring php-vlucas-phpdotenv
  checkpolicy semodule-utils policycoreutils policycoreutils-python-utils setools selinux-utils selinux-policy-default selinux-policy-dev
  pebble curl openssl testssl.sh libnss3-tools bind9 ansible-core python3-venv python3-pip)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  # Packages must not start daemons on install (nginx would grab port 80): policy-rc.d says no.
  if [[ ! -x /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- isolated test nodes --------------------------------------------------------------------
# A Debian 12 rootfs for network-namespace nodes (cached; built once per machine).
log "test node rootfs"
tests/nodes/build-rootfs.sh

# --- the SELinux VM node --------------------------------------------------------------------
# QEMU (tests/nodes/vm.sh boots a Debian kernel with SELinux enforcing). From bookworm-backports
# at the version of the qemu-utils this machine's kind ships (plain bookworm's 7.2 conflicts with
# it), through a private sources list: the machine's own apt configuration stays untouched.
if ! command -v qemu-system-x86_64 >/dev/null 2>&1 || ! command -v qemu-img >/dev/null 2>&1; then
  log "installing qemu-system-x86 from bookworm-backports"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  qapt=${PANEL_NODE_CACHE:-/var/cache/panel-tests}/qemu-apt
  $SUDO mkdir -p "$qapt/lists/partial"
  printf 'deb http://deb.debian.org/debian bookworm-backports main\ndeb http://deb.debian.org/debian bookworm main\n' \
    | $SUDO tee "$qapt/sources.list" >/dev/null
  qopts=(-o "Dir::Etc::sourcelist=$qapt/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::lists=$qapt/lists")
  $SUDO apt-get "${qopts[@]}" update -qq
  qv=$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)
  if [[ -n $qv ]]; then
    qpkgs=("qemu-system-x86=$qv" "qemu-system-common=$qv" "qemu-system-data=$qv")
  else
    qpkgs=(qemu-system-x86 qemu-system-common qemu-system-data qemu-utils)
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${qopts[@]}" install -y -qq --no-install-recommends \
    -t bookworm-backports "${qpkgs[@]}" >/dev/null
fi
# The guest's disk image (cached; built once per machine, ~5 minutes).
log "SELinux VM node image"
tests/nodes/build-vm.sh
# A VM an interrupted earlier run left behind would hold the VM node's link.
tests/nodes/vm.sh reap || true

# --- cargo tools -----------------------------------------------------------------------------
if ! cargo deny --version >/dev/null 2>&1; then
  log "installing cargo-deny"
  cargo install --locked cargo-deny
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

# --- checks ----------------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings

log "cargo deny check"
cargo deny --log-level error check bans licenses sources
# The RustSec advisory database is a git repository; where it cannot be fetched (CI here reaches
# only package registries) say so instead of failing or silently passing.
if timeout 60 cargo deny --log-level error check advisories 2>/tmp/panel-deny-advisories.log; then
  echo "advisories ok"
elif grep -q "failed to fetch advisory database" /tmp/panel-deny-advisories.log; then
  echo "advisories: skipped, the advisory database cannot be fetched from this machine"
else
  cat /tmp/panel-deny-advisories.log
  exit 1
fi

# The committed CSS and htmx must be what their pinned sources make. Node and npm are needed for
# this check only (never to build or run the panel); a machine without them gets Debian's.
if ! command -v npm >/dev/null 2>&1; then
  log "installing nodejs npm (for the static files check)"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
log "static files match their sources"
static/regenerate.sh --check

# Schemathesis (PyPI, pinned) fuzzes the REST API against its OpenAPI document in the suite
# (tests/suite/api.rs finds it through PANEL_SCHEMATHESIS). Its own virtual environment under
# target/, made once.
st_venv=target/schemathesis-venv
if [[ ! -x $st_venv/bin/st ]] || ! "$st_venv/bin/st" --version 2>/dev/null | grep -q 4.32.5; then
  log "installing schemathesis 4.32.5"
  rm -rf "$st_venv"
  python3 -m venv "$st_venv"
  "$st_venv/bin/pip" install -q schemathesis==4.32.5
fi
PANEL_SCHEMATHESIS="$(pwd)/$st_venv/bin/st"
export PANEL_SCHEMATHESIS

log "shellcheck"
shellcheck tests/run.sh tests/nodes/*.sh static/regenerate.sh .ci/run setup/*.sh

log "cargo test"
cargo test --all-targets 2>&1 -- --skip selinux_vm:: --skip newcomer::
# The newcomer's walk in Chromium on its own: the other tests start and stop network namespaces
# all the time, and Chromium drops a page load whenever the machine's interfaces change.
log "cargo test: the newcomer's walk in Chromium"
cargo test --test suite 2>&1 -- newcomer::
# The SELinux VM node on its own: QEMU emulating two CPUs takes both of this machine's cores,
# and its time (printed) is judged against the VM part's 15-minute budget.
log "cargo test: the SELinux VM node"
vm_started=$(date +%s)
cargo test --test suite 2>&1 -- selinux_vm:: --nocapture
echo "the VM part took $(($(date +%s) - vm_started)) s"
# The suite stops its VM by pid, also when a test fails; a VM still running here is a defect.
if tests/nodes/vm.sh reap; then
  echo "a test left the SELinux VM node running" >&2
  exit 1
fi

# The audit log parser against libFuzzer (tests/fuzz; stable Rust, so without a sanitizer:
# panics, hangs over 10 s and runaway memory are what it finds). New inputs go to a scratch
# corpus; a crashing input is kept in tests/artifacts/.
fuzz_seconds=${PANEL_FUZZ_SECONDS:-60}
log "fuzz the audit log parser for ${fuzz_seconds} s"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p tests/artifacts
cargo fuzz run --fuzz-dir tests/fuzz --sanitizer none audit_parse "$corpus" tests/fuzz/seeds/audit_parse -- \
  -max_total_time="$fuzz_seconds" -max_len=70000 -rss_limit_mb=1024 -timeout=10 \
  -artifact_prefix=tests/artifacts/fuzz- -print_final_stats=1 2>&1 \
  | sed -e '/^#[0-9]/d' -e '/Recommended dictionary/,/End of recommended dictionary/d'
