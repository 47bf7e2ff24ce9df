#!/usr/bin/env bash
# qtscen limits benchmark: peak RSS and wall time of the release binary where input, not
# the scenario, used to decide memory and time (issue 12). Prints one table.
#
#   bench/limits.sh               # build (release), then measure (3 runs each, median)
#   bench/limits.sh --no-build    # use the existing target/release/qtscen
#   bench/limits.sh --runs 5      # more runs
#
#   L1  one GET of a 100 MiB JSON body, `status: 200`           (target: < 150 MiB RSS)
#   L2  the same, with a JSONPath check (the body parsed from its file)
#   L3  an exec step printing 80 MiB of lines, log: on          (target: < 50 MiB RSS)
#   L4  `validate` of 1 MiB of `[` (deepest nesting)            (target: < 1 s)
#   L5  `validate` of 1 MiB nested 63 deep (within the default max_depth), with a problem
#   L5b the same nested 127 deep, limits.max_depth raised to 128
#   L6  `validate` of a 1 MiB scenario of 16,000 steps, with a problem
#   L7  `validate` of a 50 MiB scenario (refused by size)
#   L8  `run` of a var with two nested range(100000) loops (stopped by template_fuel)
#
# Needs python3 (a 127.0.0.1 HTTP server and the inputs) and /usr/bin/time (GNU time).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
build=1
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --runs) runs="${2:?--runs needs a number}"; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/limits.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x /usr/bin/time ] || { echo "bench/limits.sh: needs GNU time (apt-get install time)" >&2; exit 2; }
PY="$(command -v python3)"
if [ $build -eq 1 ]; then
  (cd "$ROOT" && cargo build --release --bin qtscen >&2)
fi
QTSCEN="$ROOT/target/release/qtscen"
[ -x "$QTSCEN" ] || { echo "bench/limits.sh: $QTSCEN is missing" >&2; exit 2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/qtscen-limits.XXXXXX")"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Inputs.
"$PY" - "$TMP" <<'EOF'
import json, sys
tmp = sys.argv[1]
item = '{"id":%d,"name":"item %d","pad":"' + "x" * 80 + '"}'
with open(f"{tmp}/big.json", "w") as f:
    f.write('{"count":1,"items":[')
    n, size = 0, 0
    while size < 100 << 20:
        s = ("," if n else "") + item % (n, n)
        f.write(s); size += len(s); n += 1
    f.write("]}")
with open(f"{tmp}/deep.yaml", "w") as f:
    f.write("name: deep\nsteps: " + "[" * (1 << 20) + "\n")
for name, depth, limits in [("nested", 61, ""), ("nested128", 125, "limits: {max_depth: 128}\n")]:
    unit = "[" * depth + "]" * depth
    with open(f"{tmp}/{name}.yaml", "w") as f:
        f.write(limits + "name: nested\nvars:\n")
        i = 0
        while f.tell() < 1 << 20:
            f.write(f"  v{i}: {unit}\n"); i += 1
        f.write("steps: []\n")
with open(f"{tmp}/steps.yaml", "w") as f:
    f.write("name: many\nsteps:\n")
    for i in range(16000):
        f.write(f'  - id: s{i}\n    http: {{ url: "http://127.0.0.1:9/x?p={i}" }}\n')
    f.write("  - id: bad\n    http: { urll: 1 }\n")
with open(f"{tmp}/huge.yaml", "w") as f:
    f.write("name: huge\nsteps:\n")
    step = '  - id: s%d\n    http: { url: "http://127.0.0.1:9/x" }\n'
    i = 0
    while f.tell() < 50 << 20:
        f.write(step % i); i += 1
with open(f"{tmp}/spin.yaml", "w") as f:
    f.write('name: spin\nvars:\n  spin: "{% for i in range(100000) %}{% for j in range(100000) %}'
            '{% endfor %}{% endfor %}"\nsteps:\n  - id: s\n    assert: [{ expr: "true" }]\n')
EOF
port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
(cd "$TMP" && exec "$PY" -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
server=$!
cat >"$TMP/body.yaml" <<EOF
name: body
steps:
  - id: big
    http: { url: "http://127.0.0.1:$port/big.json", timeout: 120s }
    assert: [{ status: 200 }]
EOF
cat >"$TMP/body_json.yaml" <<EOF
name: body-json
steps:
  - id: big
    http: { url: "http://127.0.0.1:$port/big.json", timeout: 120s }
    assert: [{ jsonpath: \$.count, equals: 1 }]
EOF
cat >"$TMP/output.yaml" <<'EOF'
name: output
steps:
  - id: loud
    exec:
      program: sh
      args: ["-c", "yes 'a line of program output, about seventy bytes long, to fill the log' | head -c 83886080"]
      log: loud.log
      timeout: 120s
EOF
for _ in $(seq 50); do
  "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/spin.yaml')" 2>/dev/null && break
  sleep 0.1
done

# One workload, $runs times: label, expected exit code, then the command. A row with the
# median wall time and peak RSS (GNU time's maximum resident set size) and the largest.
rows=()
measure() {
  local label="$1" want="$2"; shift 2
  local out="$TMP/time.txt" code=0 walls="" rsss="" note=""
  for _ in $(seq "$runs"); do
    code=0
    (cd "$TMP" && /usr/bin/time -f '%e %M' -o "$out" "$@" >"$TMP/stdout.txt" 2>"$TMP/stderr.txt") || code=$?
    walls="$walls $(tail -1 "$out" | cut -d' ' -f1)"
    rsss="$rsss $(tail -1 "$out" | cut -d' ' -f2)"
    [ "$code" = "$want" ] || note=" (exit $code, expected $want: $(head -c 200 "$TMP/stderr.txt" | tr '\n' ' '))"
    rm -rf "$TMP/out"
  done
  rows+=("$("$PY" -c '
import statistics, sys
label, code, note, walls, rsss = sys.argv[1:6]
w = [float(x) for x in walls.split()]
r = [int(x) / 1024 for x in rsss.split()]
print(f"| {label} | {statistics.median(w):.2f} s | {statistics.median(r):.1f} MiB | {max(r):.1f} MiB | {code} |{note}")
' "$label" "$code" "$note" "$walls" "$rsss")")
}

measure "L1 100 MiB body, status check" 0 "$QTSCEN" run body.yaml --out out
measure "L2 100 MiB body, JSONPath check" 0 "$QTSCEN" run body_json.yaml --out out
measure "L3 80 MiB of program output" 0 "$QTSCEN" run output.yaml --out out
measure "L4 validate 1 MiB of [" 2 "$QTSCEN" validate deep.yaml
measure "L5 validate 1 MiB nested 63 deep" 2 "$QTSCEN" validate nested.yaml
measure "L5b validate 1 MiB nested 127 deep (max_depth: 128)" 2 "$QTSCEN" validate nested128.yaml
measure "L6 validate 1 MiB, 16,000 steps" 2 "$QTSCEN" validate steps.yaml
measure "L7 validate a 50 MiB scenario" 2 "$QTSCEN" validate huge.yaml
measure "L8 run: nested range(100000) in a var" 2 "$QTSCEN" run spin.yaml --out out

echo "qtscen $("$QTSCEN" --version | awk '{print $2}') ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')), $(nproc) CPUs"
echo
echo "| workload ($runs runs) | wall (median) | peak RSS (median) | peak RSS (max) | exit |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
