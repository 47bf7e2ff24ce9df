#!/bin/sh
# A miniature of the QTickets loader (integrations/qtickets_api in the dashboard repo),
# for qtscen's tests and demo. POSIX sh for busybox ash: runs in a FROM-scratch image
# holding only a static busybox (see Dockerfile and build.sh beside this file).
#
# It behaves like the production loader as observed (../../README.md and
# examples/loader/README.md list what it imitates):
#   - its own INFO logging never reaches the output; WARNING/ERROR lines are bare
#     (`QTickets API request failed | metrics={...}`, `Skipping clients list: API
#     returned 404 | metrics={...}`, `[qtickets_api] Configuration or API error: ...`);
#   - the ClickHouse helper logs `2025-11-03T10:51:20Z integrations.common.ch INFO
#     Inserted N rows into zakaz.T` for each non-empty table, then for meta_job_runs;
#   - GET /orders with a JSON body (sent with busybox nc: wget cannot send a body with
#     GET), 3 attempts with 1 s and 2 s pauses, then POST /orders with the same body;
#   - GET /events?where=[deleted_at null]&page=N; the side lists /clients, /discounts,
#     /promo-codes, /price-shades, /barcodes and /events/{id}/seats, each skipped with a
#     warning when it fails (404);
#   - window: QTICKETS_SINCE_HOURS after a first run, else QTICKETS_INITIAL_BACKFILL_HOURS
#     (default 720); recorded in meta_job_runs.metrics;
#   - writes zakaz.stg_qtickets_api_orders_raw (utm columns, payload_json), dim_events,
#     fact_qtickets_sales_daily, fact_qtickets_sales_utm_daily,
#     fact_qtickets_inventory_latest (from the seat lists, when served) and meta_job_runs
#     (run_id left empty, as the real loader does).
#
# Configuration: the real loader's dotenv (`docker run --env-file`). Required, else
# `[qtickets_api] Configuration or API error` and exit 1: QTICKETS_TOKEN,
# QTICKETS_BASE_URL (http:// only: busybox has no TLS for a hand-written request),
# ORG_NAME, CLICKHOUSE_HOST, CLICKHOUSE_PORT (HTTP interface), CLICKHOUSE_DB,
# CLICKHOUSE_USER, CLICKHOUSE_PASSWORD (may be empty), CLICKHOUSE_SECURE,
# CLICKHOUSE_VERIFY_SSL, TZ, REPORT_TZ, JOB_NAME, DRY_RUN, QTICKETS_SINCE_HOURS.
# Optional: QTICKETS_INITIAL_BACKFILL_HOURS (default 720). DRY_RUN=true is a stub: no
# request, no row, exit 0.
#
# Test knobs (not in the real loader):
#   LOADER_FAIL=exception  after fetching: `[qtickets_api] Unexpected failure during
#                          ingestion` + a Python traceback; meta_job_runs status error;
#                          exit 1 (`traceback` is the same mode under its old name)
#   LOADER_FAIL=ch-write   every data insert fails (a real ClickHouse error: the insert
#                          is sent read-only), each attempt printing a Traceback; then
#                          `[qtickets_api] Failed to write to ClickHouse: ...`; exit 1
#   LOADER_FAIL=drop-rows  the first 3 orders never reach staging; exit 0, status ok
#   LOADER_FAIL=utc-days   daily facts are filed under UTC days instead of Moscow days
#                          (the +03:00 lesson); staging is right; exit 0, status ok
#   LOADER_FAIL=ch-retry   the first insert fails once the same way, is retried (a
#                          Traceback in the log) and succeeds; exit 0
#   LOADER_BACKFILL_BUG=true  reproduce the production bug: the "first run?" check
#                          reads the run count wrongly, so every run backfills
#                          QTICKETS_INITIAL_BACKFILL_HOURS
#   LOADER_SLOW=SECONDS    sleep SECONDS before fetching
#   LOADER_NOW=EPOCH|ISO   the clock the window ends at (default: now)
#   LOADER_HTTP_TIMEOUT    seconds per HTTP request (default 30)
#   LOADER_MAX_PAGES       page limit (default 20)
# The missing-utm-columns failure is not a knob: run the loader against the bootstrap
# schema (`scripts/clickhouse-local.sh schema PORT 0 bootstrap`) and it fails as the
# real one does (`No such column utm_source`).
#
# Every line goes to stderr (Python's logging does). Exit status: 0 ok; 1 configuration
# or API error, ClickHouse write failure or unexpected failure; 143/130 on SIGTERM/SIGINT.

set -u
umask 077

MSK_OFFSET=10800 # Europe/Moscow: UTC+3, no DST since 2014
PER_PAGE=200
GET_ATTEMPTS=3
CH_ATTEMPTS=3
SIDE_LISTS='clients discounts promo-codes price-shades barcodes'
REQUIRED='QTICKETS_TOKEN QTICKETS_BASE_URL ORG_NAME CLICKHOUSE_HOST CLICKHOUSE_PORT CLICKHOUSE_DB CLICKHOUSE_USER CLICKHOUSE_PASSWORD CLICKHOUSE_SECURE CLICKHOUSE_VERIFY_SSL TZ REPORT_TZ JOB_NAME DRY_RUN QTICKETS_SINCE_HOURS'
CR=$(printf '\r')

LOADER_FAIL=${LOADER_FAIL:-}
LOADER_SLOW=${LOADER_SLOW:-}
LOADER_NOW=${LOADER_NOW:-}
LOADER_BACKFILL_BUG=${LOADER_BACKFILL_BUG:-false}
HTTP_TIMEOUT=${LOADER_HTTP_TIMEOUT:-30}
MAX_PAGES=${LOADER_MAX_PAGES:-20}
BACKFILL_HOURS=${QTICKETS_INITIAL_BACKFILL_HOURS:-720}
QTICKETS_TOKEN=${QTICKETS_TOKEN-}
CLICKHOUSE_PASSWORD=${CLICKHOUSE_PASSWORD-}
JOB_NAME=${JOB_NAME-}
# The secrets are read by awk from the environment (mask), never from its arguments.
export QTICKETS_TOKEN CLICKHOUSE_PASSWORD

CHILD=
WORK=
ERR=
HTTP_STATUS=
CH_READY=false
STARTED=$(date +%s)

# ---------------------------------------------------------------------------- logging

# Replaces the token and the ClickHouse password with *** (fast path: no fork). The
# real loader never prints them; this is a belt for the miniature's own mistakes.
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

# A bare line, as the qtickets_api logger's WARNING/ERROR records come out.
say() {
  printf '%s\n' "$(mask "$*")" >&2
}

# A line of the ClickHouse helper (root logger): "2025-11-03T10:51:20Z integrations.common.ch INFO ...".
ch_log() {
  printf '%s integrations.common.ch %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$(mask "$2")" >&2
}

# The token's fingerprint as the real loader prints it: first and last 4 characters.
token_fp() {
  _t=$QTICKETS_TOKEN
  if [ ${#_t} -ge 8 ]; then
    printf '%s***%s' "${_t%"${_t#????}"}" "${_t#"${_t%????}"}"
  else
    printf '***'
  fi
}

json_str() {
  printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

# Moscow wall-clock time of an epoch: FORMAT is a date(1) format.
msk_fmt() {
  date -u -d "@$(($1 + MSK_OFFSET))" "$2"
}

# 2025-11-05T16:46:54+03:00
iso_msk() {
  printf '%s+03:00' "$(msk_fmt "$1" +%Y-%m-%dT%H:%M:%S)"
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
  say "Received SIG$1, stopping"
  cleanup
  trap - EXIT
  if [ "$1" = INT ]; then exit 130; fi
  exit 143
}

trap cleanup EXIT
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT

# run_io IN OUT ERR COMMAND...: runs COMMAND in the background and waits, so that a
# signal is handled at once (as PID 1 the shell would otherwise wait for the child).
# The redirections are explicit: a background command's stdin is /dev/null otherwise.
run_io() {
  _in=$1 _o=$2 _e=$3
  shift 3
  "$@" <"$_in" >"$_o" 2>"$_e" &
  CHILD=$!
  wait "$CHILD"
  _rc=$?
  CHILD=
  return $_rc
}

pause() {
  run_io /dev/null /dev/null /dev/null sleep "$1"
}

# ---------------------------------------------------------------------- QTickets API

# api METHOD TARGET [BODYFILE]: one HTTP/1.1 request to QTickets, written by hand and
# sent with busybox nc (TARGET is relative to the base URL's path). The answer's body
# goes to $WORK/resp.body and its status to HTTP_STATUS (empty: no answer); ERR says
# what failed.
api() {
  {
    printf '%s %s/%s HTTP/1.1\r\n' "$1" "$API_PATH" "$2"
    printf 'Host: %s\r\nAuthorization: Bearer %s\r\nAccept: application/json\r\n' "$API_HOSTPORT" "$QTICKETS_TOKEN"
    printf 'User-Agent: qtickets-loader-mini/2.0\r\nConnection: close\r\n'
    if [ -n "${3:-}" ]; then
      printf 'Content-Type: application/json\r\nContent-Length: %s\r\n' "$(wc -c <"$3" | tr -d ' ')"
    fi
    printf '\r\n'
    if [ -n "${3:-}" ]; then cat "$3"; fi
  } >"$WORK/req.raw"
  rm -f "$WORK/resp.raw" "$WORK/resp.body"
  run_io "$WORK/req.raw" "$WORK/resp.raw" "$WORK/nc.err" \
    timeout -s TERM "$HTTP_TIMEOUT" nc "$API_HOST" "$API_PORT"
  _rc=$?
  HTTP_STATUS=$(head -n 1 "$WORK/resp.raw" 2>/dev/null | cut -d ' ' -f 2)
  case $HTTP_STATUS in [1-5][0-9][0-9]) ;; *) HTTP_STATUS= ;; esac
  if [ -z "$HTTP_STATUS" ]; then
    if [ $_rc -eq 143 ] || [ $_rc -eq 137 ]; then
      ERR="timed out after $HTTP_TIMEOUT s"
    else
      ERR=$(sed 's/^nc: //' "$WORK/nc.err" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')
      [ -n "$ERR" ] || ERR="the connection closed without an answer"
    fi
    return 1
  fi
  sed "1,/^$CR\$/d" "$WORK/resp.raw" >"$WORK/resp.body"
  case $HTTP_STATUS in 2??) return 0 ;; esac
  ERR="HTTP $HTTP_STATUS"
  return 1
}

# The metrics={...} tail of the loader's warning lines.
metrics() { # METHOD PATH [ATTEMPT MAX]
  if [ -n "$HTTP_STATUS" ]; then _st=$HTTP_STATUS; else _st=null; fi
  printf '{"method": "%s", "path": "%s", "token_fp": "%s", "http_status": %s' "$1" "$2" "$(token_fp)" "$_st"
  if [ $# -ge 4 ]; then printf ', "attempt": %s, "max_attempts": %s' "$3" "$4"; fi
  if [ -z "$HTTP_STATUS" ]; then printf ', "error": %s' "$(json_str "$ERR")"; fi
  printf '}'
}

# get_retried TARGET PATH_NAME [BODYFILE]: GET with 3 attempts (pauses 1 s, 2 s).
get_retried() {
  _a=1
  while :; do
    api GET "$1" "${3:-}" && return 0
    say "QTickets API request failed | metrics=$(metrics GET "$2" "$_a" "$GET_ATTEMPTS")"
    [ $_a -lt $GET_ATTEMPTS ] || return 1
    pause "$_a"
    _a=$((_a + 1))
  done
}

# The body the client sends with GET (and POST) /orders.
orders_body() { # PAGE
  printf '{"where": %s, "orderBy": {"payed_at": "desc"}, "per_page": %s, "organization": %s, "page": %s}' \
    "$WHERE_JSON" "$PER_PAGE" "$(json_str "$ORG_NAME")" "$1" >"$WORK/orders.req.json"
}

# fetch_orders PAGE: GET with a JSON body, 3 attempts; then POST with the same body,
# which is kept for the later pages.
MODE=GET
fetch_orders() {
  orders_body "$1"
  if [ "$MODE" = GET ]; then
    get_retried orders orders "$WORK/orders.req.json" && return 0
    MODE=POST
  fi
  api POST orders "$WORK/orders.req.json" && return 0
  say "QTickets API request failed | metrics=$(metrics POST orders 1 1)"
  return 1
}

# ------------------------------------------------------------------------- ClickHouse

# ch_post FILE [EXTRA_QUERY]: sends FILE (one statement, with its data); the answer in
# $WORK/ch.out, the error text in ERR.
ch_post() {
  set -- "$1" "${2:-}"
  _auth="X-ClickHouse-User: $CLICKHOUSE_USER"
  rm -f "$WORK/ch.out" "$WORK/ch.err"
  if [ -n "$CLICKHOUSE_PASSWORD" ]; then
    run_io /dev/null /dev/null "$WORK/ch.err" timeout -s TERM "$HTTP_TIMEOUT" wget -q -O "$WORK/ch.out" \
      --header "$_auth" --header "X-ClickHouse-Key: $CLICKHOUSE_PASSWORD" \
      --header 'Content-Type: text/plain; charset=utf-8' --post-file "$1" "$CH_URL$2"
  else
    run_io /dev/null /dev/null "$WORK/ch.err" timeout -s TERM "$HTTP_TIMEOUT" wget -q -O "$WORK/ch.out" \
      --header "$_auth" --header 'Content-Type: text/plain; charset=utf-8' --post-file "$1" "$CH_URL$2"
  fi
  _rc=$?
  [ $_rc -eq 0 ] && return 0
  ERR=$(sed -e 's/^wget: //' "$WORK/ch.err" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')
  [ -n "$ERR" ] || ERR="wget exit status $_rc"
  return 1
}

# ch_error_text FILE [EXTRA_QUERY]: the server's own error message for a failed
# statement, fetched with a hand-written request (busybox wget drops error bodies).
ch_error_text() {
  {
    printf 'POST /?database=%s%s HTTP/1.1\r\nHost: %s:%s\r\nX-ClickHouse-User: %s\r\n' \
      "$CLICKHOUSE_DB" "${2:-}" "$CLICKHOUSE_HOST" "$CLICKHOUSE_PORT" "$CLICKHOUSE_USER"
    if [ -n "$CLICKHOUSE_PASSWORD" ]; then printf 'X-ClickHouse-Key: %s\r\n' "$CLICKHOUSE_PASSWORD"; fi
    printf 'Content-Length: %s\r\nConnection: close\r\n\r\n' "$(wc -c <"$1" | tr -d ' ')"
    cat "$1"
  } >"$WORK/chreq.raw"
  run_io "$WORK/chreq.raw" "$WORK/chresp.raw" /dev/null \
    timeout -s TERM "$HTTP_TIMEOUT" nc "$CLICKHOUSE_HOST" "$CLICKHOUSE_PORT"
  sed "1,/^$CR\$/d" "$WORK/chresp.raw" 2>/dev/null | tr -d '\r' | grep -v '^[0-9a-f]*$' | head -n 1
}

# The traceback a failed insert prints (the helper logs it with the exception).
ch_traceback() { # MESSAGE
  cat >&2 <<EOT
Traceback (most recent call last):
  File "/app/integrations/common/ch.py", line 118, in insert
    self._client.insert(table, rows, column_names=list(columns))
  File "/usr/local/lib/python3.11/site-packages/clickhouse_connect/driver/client.py", line 653, in insert
    return self.data_insert(context)
  File "/usr/local/lib/python3.11/site-packages/clickhouse_connect/driver/httpclient.py", line 251, in data_insert
    response = self._raw_request(insert_block, params, headers, server_wait=False)
clickhouse_connect.driver.exceptions.DatabaseError: HTTPDriver for $CH_URL_SHOWN returned response code 500)
 $1
EOT
}

INSERT_FAILS=0 # attempts still to fail on purpose (LOADER_FAIL=ch-retry / ch-write)
CH_RETRIES=0

# ch_insert TABLE COLUMNS FILE: writes FILE's TabSeparated rows (nothing for an empty
# file), retried like the real helper: 3 attempts, a Traceback for each failure.
ch_insert() {
  [ -s "$3" ] || return 0
  {
    printf 'INSERT INTO %s.%s (%s) FORMAT TabSeparated\n' "$CLICKHOUSE_DB" "$1" "$2"
    cat "$3"
  } >"$WORK/insert.sql"
  _n=$(wc -l <"$3" | tr -d ' ')
  _a=1
  while :; do
    _extra=
    if [ "$INSERT_FAILS" -gt 0 ]; then
      INSERT_FAILS=$((INSERT_FAILS - 1))
      _extra='&readonly=1'
    fi
    if ch_post "$WORK/insert.sql" "$_extra"; then
      ch_log INFO "Inserted $_n rows into $CLICKHOUSE_DB.$1"
      return 0
    fi
    _text=$(ch_error_text "$WORK/insert.sql" "$_extra")
    [ -n "$_text" ] || _text=$ERR
    ERR=$_text
    if [ $_a -ge $CH_ATTEMPTS ]; then
      ch_log ERROR "Insert into $CLICKHOUSE_DB.$1 failed after $_a attempts"
      ch_traceback "$_text"
      return 1
    fi
    ch_log WARNING "Insert into $CLICKHOUSE_DB.$1 failed (attempt $_a/$CH_ATTEMPTS), retrying in 1 s"
    ch_traceback "$_text"
    CH_RETRIES=$((CH_RETRIES + 1))
    pause 1
    _a=$((_a + 1))
  done
}

# ch_scalar QUERY: the first field of the answer (empty on failure).
ch_scalar() {
  printf '%s FORMAT TabSeparated' "$1" >"$WORK/q.sql"
  ch_post "$WORK/q.sql" && head -n 1 "$WORK/ch.out" | cut -f 1
}

tsv_escape() {
  printf '%s' "$1" | awk 'BEGIN { RS = "\001" } {
    gsub(/\\/, "\\\\"); gsub(/\t/, "\\t"); gsub(/\n/, "\\n"); gsub(/\r/, "\\r"); printf "%s", $0 }'
}

# record_run STATUS ROWS MESSAGE: the run's zakaz.meta_job_runs row (run_id left empty,
# as the real loader leaves it). Returns 1 when it could not be written.
record_run() {
  "$CH_READY" || return 1
  {
    printf 'INSERT INTO %s.meta_job_runs (job, started_at, finished_at, status, rows_processed, message, metrics) FORMAT TabSeparated\n' "$CLICKHOUSE_DB"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(tsv_escape "$JOB_NAME")" "$STARTED" "$(date +%s)" \
      "$1" "$2" "$(tsv_escape "$(mask "$3")")" "$(tsv_escape "$(run_metrics)")"
  } >"$WORK/meta.sql"
  if ch_post "$WORK/meta.sql"; then
    ch_log INFO "Inserted 1 rows into $CLICKHOUSE_DB.meta_job_runs"
    return 0
  fi
  ch_log ERROR "Could not write $CLICKHOUSE_DB.meta_job_runs: $ERR"
  return 1
}

run_metrics() {
  printf '{"window_hours": %s, "window_start": "%s", "window_end": "%s", "first_run": %s, "orders": %s, "pages": %s, "events": %s, "skipped": [%s], "ch_retries": %s}' \
    "${HOURS:-0}" "${FROM:-}" "${TO:-}" "${FIRST_RUN:-false}" "${ORDERS:-0}" "${PAGES:-0}" \
    "${EVENTS:-0}" "${SKIPPED_JSON:-}" "$CH_RETRIES"
}

# fail KIND MESSAGE: the loader's error line, the run's error row, exit 1.
fail() {
  say "[qtickets_api] $1: $2"
  record_run error 0 "$1: $2"
  exit 1
}

# ------------------------------------------------------------------------------- JSON

# Turns one page of the API's answer into lines (awk -v what=orders|events|seats):
#   O <tab> id, event_id, payed_at, price, currency_id, utm_source, utm_medium,
#           utm_campaign, utm_content, utm_term, tickets (sum of baskets[].quantity)
#   E <tab> id, name, city_id, first show's start_date, last show's finish_date
#   S <tab> id, available                                   one per seat
#   M <tab> 1|0   whether there is a next page (meta.has_next, meta.next_page,
#                 meta.page/current_page < total_pages/last_page, or links.next)
#   D <tab> 1|0   whether a top-level "data" array was seen
#   X <tab> text  a top-level "error" field
# A tokenizer that tracks depth, so nested client/baskets ids never count as orders.
# Input: RS is '"', so even records are string contents (escaped quotes and backslashes
# are rewritten to \u0022 / \u005c by sed beforehand) and odd records are the rest.
PARSE_AWK='
function indata() { return sp >= 3 && typ[2] == "[" && key[1] == "data" && typ[3] == "{" }
function open(c) {
  sp++; typ[sp] = c; ek[sp] = (c == "{"); key[sp] = ""
  if (sp == 3 && indata()) { split("", o); split("", u); nq = 0; smin = ""; fmax = "" }
}
function emit() {
  if (what == "orders")
    printf "O\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", o["id"], o["event_id"], o["payed_at"], o["price"], o["currency_id"], u["utm_source"], u["utm_medium"], u["utm_campaign"], u["utm_content"], u["utm_term"], nq
  else if (what == "events")
    printf "E\t%s\t%s\t%s\t%s\t%s\n", o["id"], o["name"], o["city_id"], smin, fmax
  else
    printf "S\t%s\t%s\n", o["id"], o["available"]
}
function close_() {
  if (sp == 3 && indata()) emit()
  if (sp == 2 && typ[2] == "[" && key[1] == "data") has_data = 1
  if (sp > 0) sp--
  if (sp > 0 && typ[sp] == "{") ek[sp] = 1
}
function value(kind, v,   nv) {
  if (sp > 0 && typ[sp] == "{" && ek[sp]) { key[sp] = v; ek[sp] = 0; return }
  nv = (kind == "v" && v == "null") ? "" : v
  if (sp == 3 && indata()) o[key[3]] = nv
  else if (sp == 4 && indata() && key[3] == "utm" && typ[4] == "{") u[key[4]] = nv
  else if (sp == 5 && indata() && key[3] == "baskets" && typ[5] == "{") {
    if (key[5] == "quantity") nq += nv
  } else if (sp == 5 && indata() && key[3] == "shows" && typ[5] == "{") {
    if (key[5] == "start_date" && nv != "" && (smin == "" || nv < smin)) smin = nv
    if (key[5] == "finish_date" && nv > fmax) fmax = nv
  } else if (sp == 2 && key[1] == "meta" && typ[2] == "{") {
    meta[key[2]] = nv
  } else if (sp == 2 && key[1] == "links" && key[2] == "next" && typ[2] == "{") {
    links_next = nv
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

# parse WHAT: $WORK/resp.body -> $WORK/page.tsv
parse() {
  sed -e 's/\\\\/\\u005c/g' -e 's/\\"/\\u0022/g' "$WORK/resp.body" |
    awk -v RS='"' -v what="$1" "$PARSE_AWK" >"$WORK/page.tsv"
}

# Checks a parsed page: a "data" array and no "error"; sets ERR and fails otherwise.
page_ok() { # WHAT PAGE
  _x=$(sed -n 's/^X	//p' "$WORK/page.tsv")
  if [ -n "$_x" ]; then
    ERR="the API answered an error on $1 page $2: $_x"
    return 1
  fi
  if ! grep -q '^D	1$' "$WORK/page.tsv"; then
    ERR="unexpected answer on $1 page $2: no \"data\" array"
    return 1
  fi
  return 0
}

has_next() {
  grep -q '^M	1$' "$WORK/page.tsv"
}

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

# ------------------------------------------------------------------------------- main

config_error() {
  say "[qtickets_api] Configuration or API error: $1"
  exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/loader.XXXXXX" 2>/dev/null) || {
  WORK=
  config_error "cannot create a work folder under ${TMPDIR:-/tmp}"
}

MISSING=
for _k in $REQUIRED; do
  eval "_set=\${$_k+x} _v=\${$_k-}"
  if [ -z "$_set" ] || { [ -z "$_v" ] && [ "$_k" != CLICKHOUSE_PASSWORD ]; }; then
    MISSING="$MISSING${MISSING:+, }$_k"
  fi
done
[ -z "$MISSING" ] || config_error "missing required settings: $MISSING"
is_uint "$QTICKETS_SINCE_HOURS" && [ "$QTICKETS_SINCE_HOURS" -gt 0 ] ||
  config_error "QTICKETS_SINCE_HOURS must be a positive number of hours"
is_uint "$BACKFILL_HOURS" && [ "$BACKFILL_HOURS" -gt 0 ] ||
  config_error "QTICKETS_INITIAL_BACKFILL_HOURS must be a positive number of hours"
is_uint "$HTTP_TIMEOUT" && [ "$HTTP_TIMEOUT" -gt 0 ] || config_error "LOADER_HTTP_TIMEOUT must be a positive integer"
is_uint "$MAX_PAGES" && [ "$MAX_PAGES" -gt 0 ] || config_error "LOADER_MAX_PAGES must be a positive integer"
if [ -n "$LOADER_SLOW" ]; then is_uint "$LOADER_SLOW" || config_error "LOADER_SLOW must be a number of seconds"; fi
case $LOADER_FAIL in
'' | exception | traceback | ch-write | ch-retry | drop-rows | utc-days) ;;
*) config_error "LOADER_FAIL must be empty, exception, ch-write, ch-retry, drop-rows or utc-days (got '$LOADER_FAIL')" ;;
esac
is_uint "$CLICKHOUSE_PORT" || config_error "CLICKHOUSE_PORT must be a port number"
case $CLICKHOUSE_DB in *[!A-Za-z0-9_]*) config_error "CLICKHOUSE_DB must be a plain identifier" ;; esac

# DRY_RUN: a stub, as in the real loader: no request, no row.
if is_true "$DRY_RUN"; then exit 0; fi

API_BASE=${QTICKETS_BASE_URL%/}
case $API_BASE in
http://*) ;;
*) config_error "QTICKETS_BASE_URL must start with http:// (the example loader speaks plain HTTP)" ;;
esac
_rest=${API_BASE#http://}
API_HOSTPORT=${_rest%%/*}
case $_rest in */*) API_PATH=/${_rest#*/} ;; *) API_PATH= ;; esac
case $API_HOSTPORT in
*:*) API_HOST=${API_HOSTPORT%:*} API_PORT=${API_HOSTPORT##*:} ;;
*) API_HOST=$API_HOSTPORT API_PORT=80 ;;
esac
if is_true "$CLICKHOUSE_SECURE"; then CH_SCHEME=https; else CH_SCHEME=http; fi
CH_URL_SHOWN="$CH_SCHEME://$CLICKHOUSE_HOST:$CLICKHOUSE_PORT"
CH_URL="$CH_URL_SHOWN/?database=$CLICKHOUSE_DB"
CH_READY=true
case $LOADER_FAIL in
ch-retry) INSERT_FAILS=1 ;;
ch-write) INSERT_FAILS=1000000 ;;
esac

if [ -n "$LOADER_SLOW" ]; then pause "$LOADER_SLOW"; fi

# The window: QTICKETS_SINCE_HOURS after a first run, else the initial backfill.
JOB_SQL=$(printf '%s' "$JOB_NAME" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")
PREV_OK=$(ch_scalar "SELECT count() FROM $CLICKHOUSE_DB.meta_job_runs WHERE job = '$JOB_SQL' AND status = 'ok'")
is_uint "$PREV_OK" || PREV_OK=0
# LOADER_BACKFILL_BUG: the production loader reads the run count wrongly (always 0).
if is_true "$LOADER_BACKFILL_BUG"; then PREV_OK=0; fi
if [ "$PREV_OK" -gt 0 ]; then
  FIRST_RUN=false HOURS=$QTICKETS_SINCE_HOURS
else
  FIRST_RUN=true HOURS=$BACKFILL_HOURS
fi
if [ -z "$LOADER_NOW" ]; then
  NOW=$STARTED
elif is_uint "$LOADER_NOW"; then
  NOW=$LOADER_NOW
else
  NOW=$(awk -v s="$LOADER_NOW" "$DATE_AWK"'BEGIN { print iso_epoch(s) }')
  is_uint "$NOW" || config_error "LOADER_NOW must be epoch seconds or ISO-8601, got '$LOADER_NOW'"
fi
FROM_EPOCH=$((NOW - HOURS * 3600))
FROM=$(iso_msk "$FROM_EPOCH")
TO=$(iso_msk "$NOW")
WHERE_JSON='[{"column": "payed", "value": 1}, {"column": "payed_at", "operator": ">=", "value": "'$FROM'"}, {"column": "payed_at", "operator": "<", "value": "'$TO'"}]'

# Orders: GET with a JSON body (POST after three failures), page by page.
: >"$WORK/orders.tsv"
PAGE=1
PAGES=0
while :; do
  fetch_orders "$PAGE" || fail "Configuration or API error" "QTickets API request failed: $MODE orders page $PAGE: $ERR"
  parse orders
  page_ok orders "$PAGE" || fail "Configuration or API error" "$ERR"
  PAGES=$PAGE
  grep '^O	' "$WORK/page.tsv" >>"$WORK/orders.tsv"
  _n=$(grep -c '^O	' "$WORK/page.tsv")
  has_next && [ "$_n" -gt 0 ] && [ "$PAGE" -lt "$MAX_PAGES" ] || break
  PAGE=$((PAGE + 1))
done

# Events (not deleted), page by page: the query-string form.
EV_WHERE=$(urlencode '[{"column": "deleted_at", "operator": "null"}]')
: >"$WORK/events.tsv"
PAGE=1
while :; do
  get_retried "events?where=$EV_WHERE&page=$PAGE" events ||
    fail "Configuration or API error" "QTickets API request failed: GET events page $PAGE: $ERR"
  parse events
  page_ok events "$PAGE" || fail "Configuration or API error" "$ERR"
  grep '^E	' "$WORK/page.tsv" >>"$WORK/events.tsv"
  _n=$(grep -c '^E	' "$WORK/page.tsv")
  has_next && [ "$_n" -gt 0 ] && [ "$PAGE" -lt "$MAX_PAGES" ] || break
  PAGE=$((PAGE + 1))
done
EVENTS=$(wc -l <"$WORK/events.tsv" | tr -d ' ')

# Side lists: optional; a failure (404 where an account lacks them) is skipped.
SKIPPED_JSON=
skip() { # NAME WHAT
  say "Skipping $2: API returned ${HTTP_STATUS:-no answer} | metrics=$(metrics GET "$1")"
  SKIPPED_JSON="$SKIPPED_JSON${SKIPPED_JSON:+, }\"$1\""
}
printf '{"organization": %s, "page": 1, "per_page": %s}' "$(json_str "$ORG_NAME")" "$PER_PAGE" >"$WORK/side.req.json"
for _l in $SIDE_LISTS; do
  api GET "$_l" "$WORK/side.req.json" || skip "$_l" "$(printf '%s' "$_l" | tr '-' ' ') list"
done
: >"$WORK/seats.tsv"
for _ev in $(cut -f 2 "$WORK/events.tsv"); do
  if api GET "events/$_ev/seats" && parse seats && page_ok seats 1; then
    awk -F '\t' -v e="$_ev" '$1 == "S" { n++; if ($3 == "true") left++ } END { printf "%s\t%d\t%d\n", e, n, left }' \
      "$WORK/page.tsv" >>"$WORK/seats.tsv"
  else
    skip "events/$_ev/seats" "seats of event $_ev"
  fi
done

if [ "$LOADER_FAIL" = exception ] || [ "$LOADER_FAIL" = traceback ]; then
  say "[qtickets_api] Unexpected failure during ingestion"
  cat >&2 <<'EOT'
Traceback (most recent call last):
  File "/app/integrations/qtickets_api/loader.py", line 412, in main
    result = run_ingestion(settings)
  File "/app/integrations/qtickets_api/loader.py", line 276, in run_ingestion
    sales_rows = transform_orders_to_sales_rows(orders, settings.report_tz)
  File "/app/integrations/qtickets_api/transform.py", line 61, in transform_orders_to_sales_rows
    sale_ts = parse_ts(order["payed_at"], tz)
KeyError: 'payed_at'
EOT
  record_run error 0 "Unexpected failure during ingestion: KeyError: 'payed_at'"
  exit 1
fi

# Unique orders with a payed_at; ids go to files for one md5sum call (the dedup keys).
mkdir "$WORK/ids"
awk -F '\t' -v dir="$WORK/ids" -v uniq="$WORK/uniq.tsv" '
  $4 != "" && !seen[$2]++ { n++; print > uniq; printf "%s", $2 > (dir "/k" n); close(dir "/k" n) }' \
  "$WORK/orders.tsv"
: >>"$WORK/uniq.tsv"
ORDERS=$(wc -l <"$WORK/uniq.tsv" | tr -d ' ')
(cd "$WORK/ids" && find . -name 'k*' -type f | sed 's|^\./||' | xargs -r md5sum) >"$WORK/keys" ||
  fail "Unexpected failure during ingestion" "md5sum failed"

# Rows of every table. City: from the event's city_id, lowercase (as the real loader
# normalises it); dates in Moscow time; sale_ts as epoch seconds (zone-independent).
# LOADER_FAIL=utc-days: a silent bug — daily facts are filed under UTC days.
DAY_SHIFT=10800
if [ "$LOADER_FAIL" = utc-days ]; then DAY_SHIFT=0; fi
awk -F '\t' -v ver="$STARTED" -v now="$NOW" -v w="$WORK" -v dshift="$DAY_SHIFT" "$DATE_AWK"'
  function esc(s) { gsub(/\\/, "\\\\", s); gsub(/\t/, "\\t", s); return s }
  function jnum(s) { return (s ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) ? s : "null" }
  function city_of(id) { return (id == 1) ? "москва" : (id == 2) ? "санкт-петербург" : (id == 3) ? "новосибирск" : "" }
  function day(s) { return (s ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]/) ? substr(s, 1, 10) : "\\N" }
  FILENAME ~ /keys$/ { split($0, a, " "); key[substr(a[2], 2)] = a[1]; next }
  FILENAME ~ /events.tsv$/ {
    city[$2] = city_of($4); name[$2] = $3
    printf "%s\t%s\t%s\t%s\t%s\t0\t0\t%d\n", esc($2), esc($3), city[$2], day($5), day($6), ver > (w "/dim.tsv")
    next
  }
  FILENAME ~ /seats.tsv$/ {
    printf "%d\t%s\t%s\t%s\t%d\t%d\t%d\n", now, esc($1), esc(name[$1]), city[$1], $2, $3, ver > (w "/inv.tsv")
    next
  }
  {
    n++
    ts = iso_epoch($4)
    if (ts < 0) next
    price = ($5 ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) ? $5 : 0
    cur = ($6 == "") ? "RUB" : $6
    t = ($12 > 0) ? $12 : 1
    c = city[$3]
    payload = sprintf("{\"id\": %s, \"event_id\": %s, \"payed_at\": \"%s\", \"price\": %s, \"currency_id\": \"%s\"}", jnum($2), jnum($3), $4, jnum($5), cur)
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%d\t%s\n", esc($2), esc($3), c, esc($7), esc($8), esc($9), esc($10), esc($11), ts, t, price, esc(cur), esc(payload), ver, key[n] > (w "/stg.tsv")
    d = ymd(int((ts + dshift) / 86400))
    k = d "\t" esc($3) "\t" c
    if (!(k in cnt)) order[++m] = k
    cnt[k] += t; sum[k] += price
    ku = k "\t" esc($7) "\t" esc($8) "\t" esc($9) "\t" esc($10) "\t" esc($11)
    if (!(ku in ucnt)) uorder[++mu] = ku
    ucnt[ku] += t; usum[ku] += price
  }
  END {
    for (i = 1; i <= m; i++) printf "%s\t%d\t%.2f\t%d\n", order[i], cnt[order[i]], sum[order[i]], ver > (w "/fact.tsv")
    for (i = 1; i <= mu; i++) printf "%s\t%d\t%.2f\t%d\n", uorder[i], ucnt[uorder[i]], usum[uorder[i]], ver > (w "/utm.tsv")
  }' "$WORK/keys" "$WORK/events.tsv" "$WORK/seats.tsv" "$WORK/uniq.tsv"
for _f in stg dim fact utm inv; do : >>"$WORK/$_f.tsv"; done
# LOADER_FAIL=drop-rows: a silent bug — the first 3 orders never reach staging, and the
# run still ends ok. Only a reconciliation of the API with ClickHouse sees it.
if [ "$LOADER_FAIL" = drop-rows ]; then
  sed -i '1,3d' "$WORK/stg.tsv"
fi
ROWS=$(wc -l <"$WORK/stg.tsv" | tr -d ' ')
DAILY=$(wc -l <"$WORK/fact.tsv" | tr -d ' ')

ch_insert stg_qtickets_api_orders_raw 'order_id, event_id, city, utm_source, utm_medium, utm_campaign, utm_content, utm_term, sale_ts, tickets_sold, revenue, currency, payload_json, _ver, _dedup_key' "$WORK/stg.tsv" &&
  ch_insert dim_events 'event_id, event_name, city, start_date, end_date, tickets_total, tickets_left, _ver' "$WORK/dim.tsv" &&
  ch_insert fact_qtickets_sales_daily 'sales_date, event_id, city, tickets_sold, revenue, _ver' "$WORK/fact.tsv" &&
  ch_insert fact_qtickets_sales_utm_daily 'sales_date, event_id, city, utm_source, utm_medium, utm_campaign, utm_content, utm_term, tickets_sold, revenue, _ver' "$WORK/utm.tsv" &&
  ch_insert fact_qtickets_inventory_latest 'snapshot_ts, event_id, event_name, city, tickets_total, tickets_left, _ver' "$WORK/inv.tsv" ||
  fail "Failed to write to ClickHouse" "$ERR"

if ! record_run ok "$ROWS" "Loaded $ROWS orders ($DAILY daily rows) for $FROM .. $TO ($HOURS h)"; then
  say "[qtickets_api] Failed to write to ClickHouse: $ERR"
  exit 1
fi
exit 0
