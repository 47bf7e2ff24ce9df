#!/usr/bin/env bash
# qtscen benchmark: qtscen vs a raw reqwest baseline (and, with --peers, Hurl and Tavern)
# against nginx on 127.0.0.1 serving generated static JSON, and qtscen suites (W5) against
# a slow Python server. Prints one table; --json FILE also writes it as JSON (with the
# machine) so two commits can be compared.
#
#   bench/run.sh                     # 5 runs per tool and workload (+1 warm-up)
#   bench/run.sh --runs 9 --json /tmp/bench-$(date +%s).json
#   bench/run.sh --quick             # 2 runs, no warm-up: a smoke check
#   bench/run.sh --peers             # also Hurl 8.0.1 (cargo install, slow) and Tavern (pip)
#   bench/run.sh --workloads W1,W2   # a subset (W0 startup, W1, W2, W3, W4, W5 suites,
#                                    # W6 a 1,000,000-order walk reconciled with ClickHouse)
#   bench/run.sh --no-build          # use the existing target/release binaries
#   bench/run.sh --compare A.json B.json   # two --json files side by side (no runs)
#
# Needs: nginx and /usr/bin/time (installed with apt-get when missing and run as root),
# python3 >= 3.9, cargo; W6 also clickhouse-server (scripts/clickhouse-local.sh installs
# Debian's when missing, as root) and ~300 MB in the temp dir. Only 127.0.0.1 is
# contacted by the measured tools. The temp dir, nginx and ClickHouse are removed/stopped
# on exit, error or interrupt.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/qtscen-bench"
HURL_VERSION=8.0.1

peers=0
build=1
pass=()
workloads="W0,W1,W2,W3,W4,W5,W6"
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) peers=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --compare) exec "$(command -v python3.11 || command -v python3)" "$HERE/bench.py" --compare \
      "${2:?--compare needs two files}" "${3:?--compare needs two files}" ;;
    --workloads) workloads="${2:?$1 needs a value}"; pass+=("$1" "$2"); shift ;;
    --workloads=*) workloads="${1#*=}"; pass+=("$1") ;;
    --runs|--json|--note) pass+=("$1" "${2:?$1 needs a value}"); shift ;;
    --quick|--runs=*|--json=*) pass+=("$1") ;;
    *) echo "bench/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "bench: $*" >&2; }
notes=()

PY="$(command -v python3.11 || command -v python3)"

apt_updated=0
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    say "missing $*; install it (apt-get install $*) or run as root"
    return 1
  fi
  if [ $apt_updated -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

NGINX="$(command -v nginx || true)"
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
# Only W1, W2, W4 and W6 are served by nginx (W5 has a server of its own).
needs_nginx=0
case ",$(echo "$workloads" | tr '[:lower:]' '[:upper:]' | tr -d ' ')," in
  *,W1,*|*,W2,*|*,W4,*|*,W6,*) needs_nginx=1 ;;
esac
if [ -z "$NGINX" ] && [ $needs_nginx -eq 1 ]; then
  say "installing nginx"
  apt_install nginx
  NGINX=/usr/sbin/nginx
fi
if [ ! -x /usr/bin/time ]; then
  say "installing time (for peak RSS)"
  apt_install time
fi

if [ $build -eq 1 ]; then
  say "building qtscen and the baseline (release)"
  (cd "$ROOT" && cargo build --release --bin qtscen >&2 &&
    cargo build --release --example bench_baseline >&2)
fi
QTSCEN="$ROOT/target/release/qtscen"
BASELINE="$ROOT/target/release/examples/bench_baseline"
for b in "$QTSCEN" "$BASELINE"; do
  [ -x "$b" ] || { say "$b is missing (run without --no-build)"; exit 2; }
done

HURL=""
TAVERN_PY=""
if [ $peers -eq 1 ]; then
  mkdir -p "$CACHE"
  # Hurl: the pinned version (8.1 needs a newer rustc); compiled from crates.io (slow).
  h="$(command -v hurl || true)"
  if [ -n "$h" ] && "$h" --version 2>/dev/null | head -1 | grep -q "hurl $HURL_VERSION"; then
    HURL="$h"
  else
    say "installing hurl $HURL_VERSION (cargo install; may take 10+ minutes; log: $CACHE/hurl-install.log)"
    if apt_install libcurl4-openssl-dev libxml2-dev clang pkg-config &&
      cargo install hurl --locked --version "$HURL_VERSION" >"$CACHE/hurl-install.log" 2>&1; then
      HURL="$(command -v hurl || echo "$HOME/.cargo/bin/hurl")"
    else
      say "hurl could not be installed; skipped (see $CACHE/hurl-install.log)"
      notes+=(--note "hurl $HURL_VERSION could not be installed here; skipped (log: $CACHE/hurl-install.log)")
    fi
  fi
  # Tavern: from PyPI into a venv of its own (tavern 3.7 imports _pytest.python_api,
  # which pytest 9 removed, hence pytest<9).
  venv="$CACHE/venv"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import tavern._core.loader' 2>/dev/null; then
    TAVERN_PY="$venv/bin/python"
  else
    say "installing tavern into $venv"
    if "$PY" -m venv "$venv" >&2 && "$venv/bin/pip" install -q tavern 'pytest<9' >"$CACHE/tavern-install.log" 2>&1; then
      TAVERN_PY="$venv/bin/python"
    else
      say "tavern could not be installed; skipped (see $CACHE/tavern-install.log)"
      notes+=(--note "tavern could not be installed here; skipped (log: $CACHE/tavern-install.log)")
    fi
  fi
else
  notes+=(--note "peers (Hurl, Tavern) not run; pass --peers to include them")
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/qtscen-bench.XXXXXX")"
child=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  # nginx is stopped by bench.py; this is the safety net if bench.py died hard.
  if [ -f "$TMP/nginx/nginx.pid" ]; then
    pid="$(cat "$TMP/nginx/nginx.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

args=(--tmp "$TMP" --root "$ROOT" --qtscen "$QTSCEN" --baseline "$BASELINE" --nginx "$NGINX")
[ -n "$HURL" ] && args+=(--hurl "$HURL")
[ -n "$TAVERN_PY" ] && args+=(--tavern-python "$TAVERN_PY")
# Run in the background and wait, so a TERM to this script is handled at once.
"$PY" "$HERE/bench.py" "${args[@]}" ${notes[@]+"${notes[@]}"} ${pass[@]+"${pass[@]}"} &
child=$!
set +e
wait "$child"
rc=$?
set -e
child=""
exit "$rc"
