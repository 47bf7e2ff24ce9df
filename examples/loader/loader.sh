#!/bin/sh
# A miniature of the QTickets loader (integrations/qtickets_api in the dashboard repo),
# for qtscen's tests and demo. POSIX sh for busybox ash: runs in a FROM-scratch image
# holding only a static busybox (see Dockerfile and build.sh beside this file).
#
# It fetches the paid orders of the last 48 h from the QTickets API (GET /orders with a
# `where` filter in Moscow time, `+03:00`; 3 attempts with 1 s and 2 s pauses, then a
# POST /orders fallback), then writes them into ClickHouse over HTTP:
#   zakaz.stg_qtickets_api_orders_raw   one row per order
#   zakaz.fact_qtickets_sales_daily     one row per (Moscow sales date, event, city)
#   zakaz.meta_job_runs                 one row per run (status ok | error)
#
# Configuration: the real loader's dotenv keys, passed with `docker run --env-file`:
#   QTICKETS_BASE_URL   e.g. http://127.0.0.1:PORT/api/rest/v1            (required)
#   QTICKETS_TOKEN      Bearer token; never printed                         (required)
#   ORG_NAME            sent as ?organization=                              (required)
#   CLICKHOUSE_HOST, CLICKHOUSE_PORT (HTTP, default 8123), CLICKHOUSE_DB (default zakaz),
#   CLICKHOUSE_USER (default default), CLICKHOUSE_PASSWORD (never printed; sent as the
#   X-ClickHouse-Key header, never in the URL), CLICKHOUSE_SECURE (true: https)
#   JOB_NAME (default qtickets_api), DRY_RUN (true/1/yes/on: no ClickHouse writes at all),
#   TZ, REPORT_TZ (accepted and ignored: times are Moscow, UTC+3, computed by hand)
# Test knobs (not in the real loader):
#   LOADER_FAIL=traceback  after fetching, print a Python traceback to stderr, record
#                          status 'error' in meta_job_runs and exit 1
#   LOADER_SLOW=SECONDS    log a line, sleep SECONDS, log another, then carry on
#   LOADER_NOW=EPOCH|ISO   the clock to compute the window from (default: now)
#   LOADER_HTTP_TIMEOUT    seconds per HTTP request (default 30); a timeout is a failure
#   LOADER_MAX_PAGES       page limit (default 20)
#   LOADER_LOG_STREAM      stdout (default) or stderr
#
# Exit status: 0 ok; 1 the run failed (API gave up, traceback, ClickHouse error);
# 2 bad configuration; 143/130 on SIGTERM/SIGINT.

set -u
umask 077

MSK_OFFSET=10800 # Europe/Moscow: UTC+3, no DST since 2014
WINDOW_SECONDS=172800
PER_PAGE=200
CITY='Москва'

JOB_NAME=${JOB_NAME:-qtickets_api}
[ -n "$JOB_NAME" ] || JOB_NAME=qtickets_api
QTICKETS_BASE_URL=${QTICKETS_BASE_URL:-}
QTICKETS_TOKEN=${QTICKETS_TOKEN:-}
ORG_NAME=${ORG_NAME:-}
CLICKHOUSE_HOST=${CLICKHOUSE_HOST:-}
CLICKHOUSE_PORT=${CLICKHOUSE_PORT:-8123}
CLICKHOUSE_DB=${CLICKHOUSE_DB:-zakaz}
CLICKHOUSE_USER=${CLICKHOUSE_USER:-default}
CLICKHOUSE_PASSWORD=${CLICKHOUSE_PASSWORD:-}
CLICKHOUSE_SECURE=${CLICKHOUSE_SECURE:-false}
DRY_RUN=${DRY_RUN:-false}
LOADER_FAIL=${LOADER_FAIL:-}
LOADER_SLOW=${LOADER_SLOW:-}
LOADER_NOW=${LOADER_NOW:-}
HTTP_TIMEOUT=${LOADER_HTTP_TIMEOUT:-30}
MAX_PAGES=${LOADER_MAX_PAGES:-20}
LOG_STREAM=${LOADER_LOG_STREAM:-stdout}
# The secrets are read by awk from the environment (mask), never from its arguments.
export QTICKETS_TOKEN CLICKHOUSE_PASSWORD

CHILD=
WORK=
ERR=

# ---------------------------------------------------------------------------- logging

# Replaces the token and the ClickHouse password with *** (fast path: no fork).
mask() {
  _m=$1
  _hit=
  if [ -n "$QTICKETS_TOKEN" ]; then
    case $_m in *"$QTICKETS_TOKEN"*) _hit=1 ;; esac
  fi
  if [ -n "$CLICKHOUSE_PASSWORD" ]; then
    case $_m in *"$CLICKHOUSE_PASSWORD"*) _hit=1 ;; esac
  fi
  if [ -z "$_hit" ]; then
    printf '%s' "$_m"
    return
  fi
  printf '%s' "$_m" | awk 'BEGIN { RS = "\001" }
    function rep(s, secret,   out, i) {
      if (secret == "") return s
      out = ""
      while ((i = index(s, secret)) > 0) {
        out = out substr(s, 1, i - 1) "***"
        s = substr(s, i + length(secret))
      }
      return out s
    }
    { s = rep($0, ENVIRON["QTICKETS_TOKEN"]); s = rep(s, ENVIRON["CLICKHOUSE_PASSWORD"]); printf "%s", s }'
}

# Moscow wall-clock time of an epoch: FORMAT is a date(1) format.
msk_fmt() {
  date -u -d "@$(($1 + MSK_OFFSET))" "$2"
}

# The window bounds as the API wants them: 2025-11-05T16:46:54+03:00.
iso_msk() {
  printf '%s+03:00' "$(msk_fmt "$1" +%Y-%m-%dT%H:%M:%S)"
}

# log LEVEL MESSAGE: "2025-11-05 16:46:54 INFO qtickets_api: message" (Moscow time,
# like the Python loader's logging with datefmt "%Y-%m-%d %H:%M:%S" and TZ=Europe/Moscow).
log() {
  _lvl=$1
  shift
  _line="$(msk_fmt "$(date +%s)" '+%Y-%m-%d %H:%M:%S') $_lvl $JOB_NAME: $(mask "$*")"
  if [ "$LOG_STREAM" = stderr ]; then
    printf '%s\n' "$_line" >&2
  else
    printf '%s\n' "$_line"
  fi
}

is_true() {
  case $1 in
  [Tt][Rr][Uu][Ee] | 1 | [Yy][Ee][Ss] | [Oo][Nn]) return 0 ;;
  *) return 1 ;;
  esac
}

is_uint() {
  case $1 in
  '' | *[!0-9]*) return 1 ;;
  *) return 0 ;;
  esac
}

# --------------------------------------------------------------------- process control

cleanup() {
  if [ -n "$CHILD" ]; then
    kill "$CHILD" 2>/dev/null
  fi
  if [ -n "$WORK" ]; then
    rm -rf "$WORK"
  fi
}

on_signal() {
  trap '' TERM INT
  log WARNING "Received SIG$1, stopping"
  cleanup
  trap - EXIT
  if [ "$1" = INT ]; then exit 130; fi
  exit 143
}

trap cleanup EXIT
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT

# Runs a command in the background and waits, so that a signal is handled at once
# (as PID 1 the shell would otherwise wait for the child first).
run_child() {
  "$@" &
  CHILD=$!
  wait "$CHILD"
  _rc=$?
  CHILD=
  return $_rc
}

pause() {
  run_child sleep "$1"
}

# ------------------------------------------------------------------------------- HTTP

# Percent-encodes $1 (RFC 3986 unreserved characters stay).
urlencode() {
  printf '%s' "$1" | od -An -v -tx1 | awk '
    BEGIN {
      keep = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
      for (i = 32; i < 127; i++) {
        c = sprintf("%c", i)
        if (index(keep, c)) ch[sprintf("%02x", i)] = c
      }
    }
    { for (i = 1; i <= NF; i++) printf "%s", (($i in ch) ? ch[$i] : "%" toupper($i)) }'
}

# http OUTFILE WGET_ARGS... : one request bounded by HTTP_TIMEOUT. Sets ERR on failure
# ("HTTP 503 Service Unavailable", "timed out after 30 s", "connection refused", ...).
http() {
  _out=$1
  shift
  rm -f "$_out" "$WORK/wget.err"
  run_child timeout -s TERM "$HTTP_TIMEOUT" wget -q -O "$_out" -U qtickets-loader-mini/1.0 "$@" \
    2>"$WORK/wget.err"
  _rc=$?
  [ $_rc -eq 0 ] && return 0
  if [ $_rc -eq 143 ] || [ $_rc -eq 137 ]; then
    ERR="timed out after ${HTTP_TIMEOUT} s (no HTTP status)"
  else
    ERR=$(sed -e 's/^wget: //' -e 's/^server returned error: HTTP\/1\.[01] /HTTP /' \
      "$WORK/wget.err" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')
    [ -n "$ERR" ] || ERR="wget exit status $_rc"
  fi
  rm -f "$_out"
  return 1
}

api_get_page() { # PAGE
  http "$WORK/page.json" \
    --header "Authorization: Bearer $QTICKETS_TOKEN" \
    --header 'Accept: application/json' \
    --header 'Cache-Control: no-cache' \
    "$API_BASE/orders?organization=$ORG_ENC&where=$WHERE_ENC&orderBy=$ORDER_ENC&per_page=$PER_PAGE&page=$1"
}

api_post_page() { # PAGE
  printf '{"where":%s,"orderBy":%s,"page":%s,"per_page":%s}' \
    "$WHERE_JSON" "$ORDER_JSON" "$1" "$PER_PAGE" >"$WORK/post.json"
  http "$WORK/page.json" \
    --header "Authorization: Bearer $QTICKETS_TOKEN" \
    --header 'Accept: application/json' \
    --header 'Cache-Control: no-cache' \
    --header 'Content-Type: application/json' \
    --post-file "$WORK/post.json" \
    "$API_BASE/orders?organization=$ORG_ENC"
}

# fetch_page PAGE: GET with 3 attempts (pauses 1 s, 2 s), then the POST fallback, which
# is also used for every later page. Leaves the body in $WORK/page.json.
MODE=GET
fetch_page() {
  _page=$1
  if [ "$MODE" = GET ]; then
    _attempt=1
    while :; do
      api_get_page "$_page" && return 0
      if [ $_attempt -ge 3 ]; then
        log WARNING "GET /orders page=$_page failed (attempt $_attempt/3): $ERR"
        break
      fi
      log WARNING "GET /orders page=$_page failed (attempt $_attempt/3): $ERR; retrying in $_attempt s"
      pause "$_attempt"
      _attempt=$((_attempt + 1))
    done
    log WARNING "GET failed, switching to POST fallback"
    MODE=POST
  fi
  log INFO "Fetching orders via POST /orders page=$_page body={\"where\":$WHERE_JSON,\"orderBy\":$ORDER_JSON,\"page\":$_page,\"per_page\":$PER_PAGE}"
  api_post_page "$_page" && return 0
  log ERROR "POST /orders page=$_page failed: $ERR"
  return 1
}

# ------------------------------------------------------------------------- ClickHouse

# ch_exec FILE: sends FILE (one statement, with its data) to ClickHouse; sets ERR.
ch_exec() {
  set -- --header "X-ClickHouse-User: $CLICKHOUSE_USER" \
    --header 'Content-Type: text/plain; charset=utf-8' --post-file "$1"
  if [ -n "$CLICKHOUSE_PASSWORD" ]; then
    set -- "$@" --header "X-ClickHouse-Key: $CLICKHOUSE_PASSWORD"
  fi
  http "$WORK/ch.out" "$@" "$CH_URL"
}

# TabSeparated escaping of one value.
tsv_escape() {
  printf '%s' "$1" | awk 'BEGIN { RS = "\001" } {
    gsub(/\\/, "\\\\"); gsub(/\t/, "\\t"); gsub(/\n/, "\\n"); gsub(/\r/, "\\r"); printf "%s", $0 }'
}

# record_run STATUS ROWS MESSAGE: one zakaz.meta_job_runs row (skipped in dry runs).
record_run() {
  is_true "$DRY_RUN" && return 0
  {
    printf 'INSERT INTO %s.meta_job_runs (job, run_id, started_at, finished_at, status, rows_processed, message, metrics) FORMAT TabSeparated\n' "$CLICKHOUSE_DB"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t{}\n' "$(tsv_escape "$JOB_NAME")" "$RUN_ID" "$STARTED" \
      "$(date +%s)" "$1" "$2" "$(tsv_escape "$(mask "$3")")"
  } >"$WORK/meta.sql"
  if ch_exec "$WORK/meta.sql"; then
    log INFO "Recorded run $RUN_ID in $CLICKHOUSE_DB.meta_job_runs: status=$1"
    return 0
  fi
  log ERROR "Could not write $CLICKHOUSE_DB.meta_job_runs: $ERR"
  return 1
}

# finish STATUS ROWS MESSAGE: records the run, logs the final line and exits.
finish() {
  _meta_ok=0
  record_run "$1" "$2" "$3" || _meta_ok=1
  log INFO "Job $JOB_NAME finished: status=$1 rows=$2"
  if [ "$1" != ok ] || [ $_meta_ok -ne 0 ]; then exit 1; fi
  exit 0
}

# ------------------------------------------------------------------------------- JSON

# Turns one page of the API's answer into lines:
#   O <tab> id <tab> event_id <tab> payed_at <tab> price <tab> currency_id   per order
#   M <tab> 1|0            whether there is a next page (meta.has_next, meta.next_page,
#                          meta.page/current_page < total_pages/last_page, or links.next)
#   D <tab> 1|0            whether a top-level "data" array was seen
#   X <tab> message        a top-level "error" field
# A tokenizer that tracks depth, so nested client/baskets ids never count as orders.
# Input: RS is '"', so even records are string contents (escaped quotes and backslashes
# are rewritten to \u0022 / \u005c by sed beforehand) and odd records are the rest.
PARSE_AWK='
function open(c) {
  sp++; typ[sp] = c; ek[sp] = (c == "{"); key[sp] = ""
  if (sp == 3 && c == "{" && typ[2] == "[" && key[1] == "data") {
    o["id"] = ""; o["event_id"] = ""; o["payed_at"] = ""; o["price"] = ""; o["currency_id"] = ""
  }
}
function close_() {
  if (sp == 3 && typ[3] == "{" && typ[2] == "[" && key[1] == "data")
    printf "O\t%s\t%s\t%s\t%s\t%s\n", o["id"], o["event_id"], o["payed_at"], o["price"], o["currency_id"]
  if (sp == 2 && typ[2] == "[" && key[1] == "data") has_data = 1
  if (sp > 0) sp--
  if (sp > 0 && typ[sp] == "{") ek[sp] = 1
}
function value(kind, v) {
  if (sp > 0 && typ[sp] == "{" && ek[sp]) { key[sp] = v; ek[sp] = 0; return }
  if (sp == 3 && typ[2] == "[" && key[1] == "data" && typ[3] == "{") {
    if (key[3] in o) o[key[3]] = (kind == "v" && v == "null") ? "" : v
  } else if (sp == 2 && key[1] == "meta" && typ[2] == "{") {
    meta[key[2]] = (kind == "v" && v == "null") ? "" : v
  } else if (sp == 2 && key[1] == "links" && key[2] == "next" && typ[2] == "{") {
    links_next = (kind == "v" && v == "null") ? "" : v
  } else if (sp == 1 && key[1] == "error") {
    err = v
  }
  if (sp > 0 && typ[sp] == "{") ek[sp] = 1
}
function scan(f,   i, n, c, sc) {
  n = length(f); sc = ""
  for (i = 1; i <= n; i++) {
    c = substr(f, i, 1)
    if (index("[]{}:, \t\r\n", c)) {
      if (sc != "") { value("v", sc); sc = "" }
      if (c == "{" || c == "[") open(c)
      else if (c == "}" || c == "]") close_()
    } else sc = sc c
  }
  if (sc != "") value("v", sc)
}
NR % 2 == 0 { value("s", $0); next }
{ scan($0) }
END {
  more = 0
  if ("has_next" in meta) more = (meta["has_next"] == "true")
  else if ("next_page" in meta) more = (meta["next_page"] != "")
  else if (("total_pages" in meta || "last_page" in meta) && ("page" in meta || "current_page" in meta)) {
    cur = ("current_page" in meta) ? meta["current_page"] : meta["page"]
    last = ("total_pages" in meta) ? meta["total_pages"] : meta["last_page"]
    more = (cur + 0 < last + 0)
  } else more = (links_next != "")
  printf "M\t%d\nD\t%d\n", more, has_data
  if (err != "") printf "X\t%s\n", err
}'

# Shared date arithmetic (proleptic Gregorian; no time zone files in the image).
DATE_AWK='
function days_from_civil(y, m, d,   era, yoe, doy, doe) {
  y -= (m <= 2)
  era = int((y >= 0 ? y : y - 399) / 400)
  yoe = y - era * 400
  doy = int((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
  doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
  return era * 146097 + doe - 719468
}
function ymd(days,   z, era, doe, yoe, y, doy, mp, d, m) {
  z = days + 719468
  era = int((z >= 0 ? z : z - 146096) / 146097)
  doe = z - era * 146097
  yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
  y = yoe + era * 400
  doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
  mp = int((5 * doy + 2) / 153)
  d = doy - int((153 * mp + 2) / 5) + 1
  m = mp < 10 ? mp + 3 : mp - 9
  return sprintf("%04d-%02d-%02d", y + (m <= 2), m, d)
}
# ISO-8601 (2025-11-05T16:34:30+03:00, +0300, Z, or no offset = Moscow) -> epoch; -1 if bad.
function iso_epoch(s,   rest, off, sign) {
  if (s !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]:[0-9][0-9]/) return -1
  rest = substr(s, 20)
  sub(/^\.[0-9]+/, "", rest)
  if (rest == "") off = 10800
  else if (rest == "Z" || rest == "z") off = 0
  else if (rest ~ /^[+-][0-9][0-9]:?[0-9][0-9]$/) {
    sign = (substr(rest, 1, 1) == "-") ? -1 : 1
    sub(/:/, "", rest)
    off = sign * (substr(rest, 2, 2) * 3600 + substr(rest, 4, 2) * 60)
  } else return -1
  return days_from_civil(substr(s, 1, 4) + 0, substr(s, 6, 2) + 0, substr(s, 9, 2) + 0) * 86400 \
    + substr(s, 12, 2) * 3600 + substr(s, 15, 2) * 60 + substr(s, 18, 2) - off
}'

# ------------------------------------------------------------------------------- main

STARTED=$(date +%s)
RUN_ID=$(cat /proc/sys/kernel/random/uuid 2>/dev/null)
case $RUN_ID in
????????-????-????-????-????????????) ;;
*)
  RUN_ID=$(printf '%s-%s-%s' "$STARTED" "$$" "$(od -An -N8 -tx1 /dev/urandom 2>/dev/null)" | md5sum |
    sed 's/^\(........\)\(....\)\(....\)\(....\)\(............\).*/\1-\2-\3-\4-\5/')
  ;;
esac
if is_true "$DRY_RUN"; then DRY=true; else DRY=false; fi

log INFO "Starting $JOB_NAME loader (org=$ORG_NAME, dry_run=$DRY)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/loader.XXXXXX" 2>/dev/null) || {
  WORK=
  log ERROR "Configuration error: cannot create a work folder under ${TMPDIR:-/tmp}"
  exit 2
}

config_error() {
  log ERROR "Configuration error: $1"
  log INFO "Job $JOB_NAME finished: status=error rows=0"
  exit 2
}
[ -n "$QTICKETS_BASE_URL" ] || config_error "QTICKETS_BASE_URL is not set"
[ -n "$QTICKETS_TOKEN" ] || config_error "QTICKETS_TOKEN is not set"
[ -n "$ORG_NAME" ] || config_error "ORG_NAME is not set"
is_uint "$HTTP_TIMEOUT" && [ "$HTTP_TIMEOUT" -gt 0 ] || config_error "LOADER_HTTP_TIMEOUT must be a positive integer"
is_uint "$MAX_PAGES" && [ "$MAX_PAGES" -gt 0 ] || config_error "LOADER_MAX_PAGES must be a positive integer"
if [ -n "$LOADER_SLOW" ]; then is_uint "$LOADER_SLOW" || config_error "LOADER_SLOW must be a number of seconds"; fi
case $LOADER_FAIL in '' | traceback) ;; *) config_error "LOADER_FAIL must be empty or traceback" ;; esac
if [ "$DRY" = false ]; then
  [ -n "$CLICKHOUSE_HOST" ] || config_error "CLICKHOUSE_HOST is not set"
  is_uint "$CLICKHOUSE_PORT" || config_error "CLICKHOUSE_PORT must be a port number"
  case $CLICKHOUSE_DB in '' | *[!A-Za-z0-9_]*) config_error "CLICKHOUSE_DB must be a plain identifier" ;; esac
fi
if is_true "$CLICKHOUSE_SECURE"; then CH_SCHEME=https; else CH_SCHEME=http; fi
CH_URL="$CH_SCHEME://$CLICKHOUSE_HOST:$CLICKHOUSE_PORT/?database=$CLICKHOUSE_DB"

if [ -n "$LOADER_SLOW" ]; then
  log INFO "LOADER_SLOW=$LOADER_SLOW: sleeping $LOADER_SLOW s before fetching"
  pause "$LOADER_SLOW"
  log INFO "LOADER_SLOW: resumed after $LOADER_SLOW s"
fi

# The window: [now - 48 h, now) in Moscow time with a colon offset.
if [ -z "$LOADER_NOW" ]; then
  NOW=$STARTED
elif is_uint "$LOADER_NOW"; then
  NOW=$LOADER_NOW
else
  NOW=$(awk -v s="$LOADER_NOW" "$DATE_AWK"'BEGIN { print iso_epoch(s) }')
  is_uint "$NOW" || config_error "LOADER_NOW must be epoch seconds or ISO-8601, got '$LOADER_NOW'"
fi
FROM_EPOCH=$((NOW - WINDOW_SECONDS))
FROM=$(iso_msk "$FROM_EPOCH")
TO=$(iso_msk "$NOW")
WHERE_JSON='[{"column":"payed","value":1},{"column":"payed_at","operator":">=","value":"'$FROM'"},{"column":"payed_at","operator":"<","value":"'$TO'"}]'
ORDER_JSON='{"payed_at":"desc"}'
WHERE_ENC=$(urlencode "$WHERE_JSON")
ORDER_ENC=$(urlencode "$ORDER_JSON")
ORG_ENC=$(urlencode "$ORG_NAME")
API_BASE=${QTICKETS_BASE_URL%/}

log INFO "Window: $FROM .. $TO (48 h, Europe/Moscow)"
log INFO "Fetching orders via GET /orders where=$WHERE_JSON orderBy=$ORDER_JSON per_page=$PER_PAGE"

: >"$WORK/orders.tsv"
PAGE=1
PAGES=0
while :; do
  if ! fetch_page "$PAGE"; then
    log ERROR "Giving up after retries: $MODE /orders page=$PAGE: $ERR"
    finish error 0 "Giving up after retries: $MODE /orders page=$PAGE: $ERR"
  fi
  PAGES=$PAGE
  sed -e 's/\\\\/\\u005c/g' -e 's/\\"/\\u0022/g' "$WORK/page.json" |
    awk -v RS='"' "$PARSE_AWK" >"$WORK/page.tsv"
  _err=$(sed -n 's/^X	//p' "$WORK/page.tsv")
  if [ -n "$_err" ]; then
    log ERROR "The API answered an error on page $PAGE: $_err"
    finish error 0 "The API answered an error on page $PAGE: $_err"
  fi
  if ! grep -q '^D	1$' "$WORK/page.tsv"; then
    log ERROR "Unexpected answer on page $PAGE: no \"data\" array ($(wc -c <"$WORK/page.json") bytes)"
    finish error 0 "Unexpected answer on page $PAGE: no data array"
  fi
  grep '^O	' "$WORK/page.tsv" >>"$WORK/orders.tsv"
  _n=$(grep -c '^O	' "$WORK/page.tsv")
  if grep -q '^M	1$' "$WORK/page.tsv"; then _more=true; else _more=false; fi
  log INFO "Page $PAGE: $_n orders (has_next=$_more)"
  [ "$_more" = true ] && [ "$_n" -gt 0 ] || break
  if [ "$PAGE" -ge "$MAX_PAGES" ]; then
    log WARNING "Stopping after $MAX_PAGES pages (LOADER_MAX_PAGES); more pages remain"
    break
  fi
  PAGE=$((PAGE + 1))
done

# Unique orders with a payed_at; ids go to files for one md5sum call (the dedup keys).
mkdir "$WORK/ids"
awk -F '\t' -v dir="$WORK/ids" -v uniq="$WORK/uniq.tsv" -v skipped="$WORK/skipped" '
  $4 != "" && !seen[$2]++ { n++; print > uniq; printf "%s", $2 > (dir "/k" n); close(dir "/k" n) }
  $4 == "" { nopay++ }
  END { print nopay + 0 > skipped }' "$WORK/orders.tsv"
: >>"$WORK/uniq.tsv"
FETCHED=$(wc -l <"$WORK/orders.tsv")
ROWS=$(wc -l <"$WORK/uniq.tsv")
SKIPPED=$(cat "$WORK/skipped")
if [ "$SKIPPED" -gt 0 ]; then SKIPPED=", $SKIPPED without payed_at skipped"; else SKIPPED=; fi
log INFO "Fetched $FETCHED orders in $PAGES page(s): $ROWS unique paid orders$SKIPPED"

if [ "$LOADER_FAIL" = traceback ]; then
  cat >&2 <<'EOF'
Traceback (most recent call last):
  File "/app/integrations/qtickets_api/loader.py", line 341, in <module>
    main()
  File "/app/integrations/qtickets_api/loader.py", line 328, in main
    result = run(settings)
  File "/app/integrations/qtickets_api/loader.py", line 212, in run
    rows = transform_orders(orders, settings.report_tz)
  File "/app/integrations/qtickets_api/transform.py", line 48, in transform_orders
    sale_ts = parse_ts(order["payed_at"])
KeyError: 'payed_at'
EOF
  finish error 0 "KeyError: 'payed_at' (LOADER_FAIL=traceback)"
fi

# Rows: stg (one per order) and fact (per Moscow date, event, city).
(cd "$WORK/ids" && find . -name 'k*' -type f | sed 's|^\./||' | xargs -r md5sum) >"$WORK/keys" ||
  { log ERROR "md5sum failed"; finish error 0 "md5sum failed"; }
awk -F '\t' -v ver="$STARTED" -v city="$CITY" -v from="$FROM_EPOCH" -v to="$NOW" \
  -v stg="$WORK/stg.tsv" -v fact="$WORK/fact.tsv" -v bad="$WORK/bad" "$DATE_AWK"'
  function esc(s) { gsub(/\\/, "\\\\", s); gsub(/\t/, "\\t", s); return s }
  FNR == NR { split($0, a, " "); key[substr(a[2], 2)] = a[1]; next }
  {
    n++
    ts = iso_epoch($4)
    if (ts < 0) { badts++; next }
    if (ts < from || ts >= to) outside++
    price = ($5 ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) ? $5 : 0
    cur = ($6 == "") ? "RUB" : $6
    printf "%s\t%s\t%s\t%d\t1\t%s\t%s\t%d\t%s\n", esc($2), esc($3), city, ts, price, esc(cur), ver, key[n] > stg
    k = ymd(int((ts + 10800) / 86400)) "\t" esc($3) "\t" city
    if (!(k in cnt)) order[++m] = k
    cnt[k]++; sum[k] += price
  }
  END {
    for (i = 1; i <= m; i++) printf "%s\t%d\t%.2f\t%d\n", order[i], cnt[order[i]], sum[order[i]], ver > fact
    printf "%d %d\n", badts + 0, outside + 0 > bad
  }' "$WORK/keys" "$WORK/uniq.tsv"
: >>"$WORK/stg.tsv"
: >>"$WORK/fact.tsv"
read -r BADTS OUTSIDE <"$WORK/bad"
[ "$BADTS" -eq 0 ] || log WARNING "$BADTS orders have an unparsable payed_at and were skipped"
[ "$OUTSIDE" -eq 0 ] || log WARNING "$OUTSIDE orders have payed_at outside the requested window (was the filter ignored?)"
N=$(wc -l <"$WORK/stg.tsv")
M=$(wc -l <"$WORK/fact.tsv")

STG="$CLICKHOUSE_DB.stg_qtickets_api_orders_raw"
FACT="$CLICKHOUSE_DB.fact_qtickets_sales_daily"
if [ "$DRY" = true ]; then
  log INFO "DRY_RUN: not writing to ClickHouse (would insert $N rows into $STG and $M rows into $FACT)"
  log INFO "Job $JOB_NAME finished: status=ok rows=$N"
  exit 0
fi

# insert TABLE COLUMNS FILE
insert() {
  if [ -s "$3" ]; then
    {
      printf 'INSERT INTO %s (%s) FORMAT TabSeparated\n' "$1" "$2"
      cat "$3"
    } >"$WORK/insert.sql"
    if ! ch_exec "$WORK/insert.sql"; then
      log ERROR "Insert into $1 failed: $ERR"
      finish error 0 "Insert into $1 failed: $ERR"
    fi
  fi
  log INFO "Inserted $(wc -l <"$3") rows into $1"
}
insert "$STG" 'order_id, event_id, city, sale_ts, tickets_sold, revenue, currency, _ver, _dedup_key' "$WORK/stg.tsv"
insert "$FACT" 'sales_date, event_id, city, tickets_sold, revenue, _ver' "$WORK/fact.tsv"

finish ok "$N" "Loaded $N orders ($M daily rows) for $FROM .. $TO in $PAGES page(s)"
