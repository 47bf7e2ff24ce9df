#!/usr/bin/env bash
# A throwaway ClickHouse server on 127.0.0.1 for tests and the demo.
#
#   clickhouse-local.sh install                 install Debian's clickhouse-server (root, apt)
#   clickhouse-local.sh start DIR [HTTP_PORT]   start a server with all its state in DIR;
#                                               prints the HTTP port
#   clickhouse-local.sh schema PORT [0|1] [bootstrap]
#                                               create database `zakaz` from zakaz_schema.sql
#                                               (1: with stg_..._raw._loaded_at; bootstrap:
#                                               without the utm migration)
#   clickhouse-local.sh stop DIR                stop the server started in DIR (idempotent)
#
# Users (from 127.0.0.1 and ::1 only): `default` without a password, and `qtscen` with
# the password ch-SECRET-pass-42. Both use the `default` profile, which sets
# allow_experimental_low_cardinality_type=1 (needed on 18.16, Debian 12's version).
#
# Environment:
#   QTSCEN_CH_WATCH_PID  with `start`: stop the server once this process is gone (the
#                        test binary passes its own pid, so a killed test leaves nothing)
#   QTSCEN_CH_TIMEZONE   the server's timezone (default UTC)
#   QTSCEN_CH_START_TIMEOUT  seconds to wait for /ping (default 60)
#   QTSCEN_CH_HTTPS_CERT, QTSCEN_CH_HTTPS_KEY  with `start`: also serve https with this
#                        PEM certificate (chain) and key (copied into DIR/tls) on a free
#                        port, written to DIR/https_port; stdout still prints the HTTP port
set -euo pipefail
shopt -s extglob

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly QTSCEN_USER=qtscen
readonly QTSCEN_PASSWORD=ch-SECRET-pass-42
readonly SERVICE_USER_FALLBACK=qtscen-ch
readonly INSTALL_LOCK=/var/lock/qtscen-clickhouse-install.lock
# Below Linux's ephemeral range (32768-60999), so outgoing connections never hold them.
readonly PORT_MIN=20000 PORT_MAX=32767

die() {
  echo "clickhouse-local.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Sets SERVER_CMD to the server command line (Debian: /usr/sbin/clickhouse-server;
# upstream packages: the `clickhouse` multi-binary with the `server` subcommand).
find_server() {
  local c
  for c in /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
    if [[ -x $c ]]; then
      SERVER_CMD=("$c")
      return 0
    fi
  done
  if c=$(command -v clickhouse-server 2>/dev/null); then
    SERVER_CMD=("$c")
    return 0
  fi
  for c in /usr/bin/clickhouse /usr/local/bin/clickhouse; do
    if [[ -x $c ]]; then
      SERVER_CMD=("$c" server)
      return 0
    fi
  done
  return 1
}

installed() {
  find_server && command -v curl >/dev/null 2>&1
}

cmd_install() {
  installed && return 0
  if [[ $EUID -ne 0 ]]; then
    die "ClickHouse (clickhouse-server) or curl is missing and installing needs root: run 'sudo apt-get install clickhouse-server clickhouse-client curl'"
  fi
  command -v apt-get >/dev/null 2>&1 ||
    die "ClickHouse is missing and there is no apt-get here: install clickhouse-server by hand"
  # Parallel test binaries may all ask at once: one installs, the others wait.
  exec 9>"$INSTALL_LOCK"
  flock -w 1200 9 || die "timed out waiting for $INSTALL_LOCK"
  installed && return 0

  local log pkgs=(clickhouse-server clickhouse-client)
  command -v curl >/dev/null 2>&1 || pkgs+=(curl)
  log=$(mktemp /tmp/qtscen-clickhouse-install.XXXXXX.log)
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache policy clickhouse-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -q >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed (log: $log)"; }
  fi
  echo "clickhouse-local.sh: installing ${pkgs[*]} (log: $log)" >&2
  apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${pkgs[@]}" >>"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; die "apt-get install ${pkgs[*]} failed (log: $log)"; }
  installed || die "apt-get installed ${pkgs[*]} but no clickhouse-server binary was found"
}

# True when nothing accepts connections on 127.0.0.1:PORT (nor listens on it elsewhere).
port_free() {
  local p=$1
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    return 1
  fi
  if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]; then
    return 1
  fi
  return 0
}

# Prints a free port not among the arguments.
free_port() {
  local p taken i
  for i in $(seq 1 200); do
    p=$(shuf -i "$PORT_MIN-$PORT_MAX" -n 1)
    for taken in "$@"; do
      [[ $p == "$taken" ]] && continue 2
    done
    port_free "$p" && { echo "$p"; return 0; }
  done
  die "no free port found in $PORT_MIN-$PORT_MAX"
}

ping_ok() {
  [[ $(curl -s --max-time 2 "http://127.0.0.1:$1/ping" 2>/dev/null || true) == "Ok." ]]
}

# True when PID is a live server started with DIR's config (a zombie has no cmdline).
is_our_server() {
  local pid=$1 dir=$2
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "--config-file=$dir/config.xml"
}

# Sets RUN_AS to the prefix that drops root, and SERVICE_USER.
choose_user() {
  RUN_AS=()
  SERVICE_USER=$(id -un)
  [[ $EUID -eq 0 ]] || return 0
  if id clickhouse >/dev/null 2>&1; then
    SERVICE_USER=clickhouse
  else
    if ! id "$SERVICE_USER_FALLBACK" >/dev/null 2>&1; then
      useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$SERVICE_USER_FALLBACK" ||
        die "cannot create the system user $SERVICE_USER_FALLBACK"
    fi
    SERVICE_USER=$SERVICE_USER_FALLBACK
  fi
  RUN_AS=(setpriv "--reuid=$(id -u "$SERVICE_USER")" "--regid=$(id -g "$SERVICE_USER")" --init-groups --)
}

xml_escape() {
  local s=$1
  s=${s//&/&amp;}
  s=${s//</&lt;}
  s=${s//>/&gt;}
  printf '%s' "$s"
}

write_config() {
  local dir=$1 http=$2 tcp=$3 inter=$4 https=${5:-} tz d tls=""
  tz=$(xml_escape "${QTSCEN_CH_TIMEZONE:-UTC}")
  d=$(xml_escape "$dir")
  if [[ -n $https ]]; then
    tls="
    <https_port>$https</https_port>
    <openSSL>
        <server>
            <certificateFile>$d/tls/server.crt</certificateFile>
            <privateKeyFile>$d/tls/server.key</privateKeyFile>
            <verificationMode>none</verificationMode>
            <loadDefaultCAFile>false</loadDefaultCAFile>
            <cacheSessions>true</cacheSessions>
            <disableProtocols>sslv2,sslv3</disableProtocols>
            <preferServerCiphers>true</preferServerCiphers>
        </server>
    </openSSL>"
  fi
  cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by scripts/clickhouse-local.sh: a throwaway test server, loopback only. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$d/log/clickhouse-server.log</log>
        <errorlog>$d/log/clickhouse-server.err.log</errorlog>
        <size>20M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http</http_port>$tls
    <tcp_port>$tcp</tcp_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <interserver_http_port>$inter</interserver_http_port>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>$d/data/</path>
    <tmp_path>$d/tmp/</tmp_path>
    <user_files_path>$d/user_files/</user_files_path>
    <format_schema_path>$d/format_schemas/</format_schema_path>
    <users_config>$d/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>$tz</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
EOF
}

write_users() {
  local dir=$1 sha
  sha=$(printf '%s' "$QTSCEN_PASSWORD" | sha256sum | cut -d' ' -f1)
  cat >"$dir/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
            <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <$QTSCEN_USER>
            <password_sha256_hex>$sha</password_sha256_hex>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </$QTSCEN_USER>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

# Stops the server once the watched process is gone; detached from every pipe.
start_watcher() {
  local dir=$1 watch=$2
  [[ $watch =~ ^[0-9]+$ ]] || die "QTSCEN_CH_WATCH_PID must be a pid, got '$watch'"
  (
    trap '' HUP INT
    while kill -0 "$watch" 2>/dev/null && [[ -e $dir/pid ]]; do
      sleep 1
    done
    kill -0 "$watch" 2>/dev/null || stop_dir "$dir"
  ) </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watch_pid"
}

cmd_start() {
  [[ $# -ge 1 && $# -le 2 ]] || usage
  local dir=$1 want_port=${2:-} timeout=${QTSCEN_CH_START_TIMEOUT:-60}
  [[ -z $want_port || $want_port =~ ^[0-9]+$ ]] || die "HTTP_PORT must be a number, got '$want_port'"
  find_server || die "ClickHouse is not installed: run '$0 install' first"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)

  # Already running from this DIR: report it instead of starting a second one.
  if [[ -f $dir/pid && -f $dir/http_port ]] && is_our_server "$(cat "$dir/pid")" "$dir" &&
    ping_ok "$(cat "$dir/http_port")"; then
    cat "$dir/http_port"
    return 0
  fi

  choose_user
  mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log}
  write_users "$dir"
  rm -f "$dir/pid" "$dir/http_port" "$dir/https_port" "$dir/watch_pid"
  local cert=${QTSCEN_CH_HTTPS_CERT:-} key=${QTSCEN_CH_HTTPS_KEY:-}
  if [[ -n $cert || -n $key ]]; then
    [[ -r $cert && -r $key ]] ||
      die "QTSCEN_CH_HTTPS_CERT and QTSCEN_CH_HTTPS_KEY must both name readable files"
    mkdir -p "$dir/tls"
    cp -- "$cert" "$dir/tls/server.crt"
    cp -- "$key" "$dir/tls/server.key"
    chmod 600 "$dir/tls/server.key"
  fi

  local attempt http tcp inter https pid deadline
  for attempt in 1 2 3 4 5; do
    if [[ -n $want_port ]]; then
      http=$want_port
      port_free "$http" || die "port $http on 127.0.0.1 is already in use"
    else
      http=$(free_port)
    fi
    tcp=$(free_port "$http")
    inter=$(free_port "$http" "$tcp")
    https=""
    [[ -z $cert ]] || https=$(free_port "$http" "$tcp" "$inter")
    write_config "$dir" "$http" "$tcp" "$inter" "$https"
    printf 'http_port=%s\ntcp_port=%s\ninterserver_http_port=%s\n' "$http" "$tcp" "$inter" >"$dir/ports"
    [[ -z $https ]] || printf 'https_port=%s\n' "$https" >>"$dir/ports"
    [[ $EUID -ne 0 ]] || chown -R "$SERVICE_USER:" "$dir"
    if [[ ${#RUN_AS[@]} -gt 0 ]] && ! "${RUN_AS[@]}" test -w "$dir/data" 2>/dev/null; then
      die "user $SERVICE_USER cannot write $dir/data (is a parent folder closed to it?)"
    fi
    : >"$dir/log/stdout.log"

    # `exec` keeps the pid: $! is the server itself (setpriv execs too).
    (cd "$dir" && exec "${RUN_AS[@]}" "${SERVER_CMD[@]}" "--config-file=$dir/config.xml") \
      </dev/null >>"$dir/log/stdout.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/pid"

    deadline=$((SECONDS + timeout))
    while ! ping_ok "$http"; do
      if ! is_our_server "$pid" "$dir"; then
        if grep -qs -e 'Address already in use' -e 'Net Exception: Address' \
          "$dir/log/stdout.log" "$dir/log/clickhouse-server.err.log" && [[ -z $want_port && $attempt -lt 5 ]]; then
          continue 2 # lost a port race with another process: new ports
        fi
        rm -f "$dir/pid"
        tail -n 30 "$dir/log/stdout.log" "$dir/log/clickhouse-server.err.log" >&2 2>/dev/null || true
        die "clickhouse-server exited during startup (logs in $dir/log)"
      fi
      if ((SECONDS >= deadline)); then
        tail -n 30 "$dir/log/clickhouse-server.err.log" >&2 2>/dev/null || true
        stop_dir "$dir"
        die "clickhouse-server did not answer /ping on port $http within ${timeout}s (logs in $dir/log)"
      fi
      sleep 0.1
    done
    echo "$http" >"$dir/http_port"
    [[ -z $https ]] || echo "$https" >"$dir/https_port"
    [[ -z ${QTSCEN_CH_WATCH_PID:-} ]] || start_watcher "$dir" "$QTSCEN_CH_WATCH_PID"
    echo "$http"
    return 0
  done
  die "could not start clickhouse-server (port races on every attempt)"
}

# Stops the server of DIR: TERM, up to 30 s, then KILL. Nothing running is not an error.
stop_dir() {
  local dir=$1 pid watch i
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd)
  if watch=$(cat "$dir/watch_pid" 2>/dev/null) && [[ $watch != "${BASHPID}" ]]; then
    kill "$watch" 2>/dev/null || true
  fi
  rm -f "$dir/watch_pid"
  pid=$(cat "$dir/pid" 2>/dev/null) || return 0
  if is_our_server "$pid" "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 300); do
      is_our_server "$pid" "$dir" || break
      sleep 0.1
    done
    if is_our_server "$pid" "$dir"; then
      kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do
        is_our_server "$pid" "$dir" || break
        sleep 0.1
      done
    fi
  fi
  # Whatever else still runs with this folder's config (a server from a retried start,
  # or one whose pid file went astray) goes too: nothing outlives its folder.
  pkill -KILL -f -- "--config-file=$dir/config.xml" 2>/dev/null || true
  rm -f "$dir/pid"
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  stop_dir "$1"
}

# Sends one statement; prints the error body and fails on a non-200 answer.
post_sql() {
  local port=$1 sql=$2 body code
  body=$(mktemp)
  code=$(printf '%s' "$sql" | curl -sS --max-time 60 -o "$body" -w '%{http_code}' \
    --data-binary @- "http://127.0.0.1:$port/?allow_experimental_low_cardinality_type=1") || code=000
  if [[ $code != 200 ]]; then
    echo "HTTP $code for: $sql" >&2
    cat "$body" >&2
    rm -f "$body"
    return 1
  fi
  rm -f "$body"
}

cmd_schema() {
  [[ $# -ge 1 && $# -le 3 ]] || usage
  local port=$1 with=${2:-0} flavour=${3:-migrated} line stmt="" skip=0 file="$SCRIPT_DIR/zakaz_schema.sql"
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"
  [[ $with == 0 || $with == 1 ]] || die "WITH_LOADED_AT must be 0 or 1, got '$with'"
  [[ $flavour == migrated || $flavour == bootstrap ]] || die "FLAVOUR must be migrated or bootstrap, got '$flavour'"
  [[ -r $file ]] || die "missing $file"
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $with == 1 && $line =~ ^[[:space:]]*--@with_loaded_at[[:space:]](.*)$ ]]; then
      line="    ${BASH_REMATCH[1]}"
    fi
    if [[ $line =~ ^[[:space:]]*--@migration[[:space:]]*$ ]]; then
      [[ $flavour == bootstrap ]] && skip=1
      continue
    fi
    [[ $line =~ ^[[:space:]]*(--.*)?$ ]] && continue
    stmt+="$line"$'\n'
    if [[ $line =~ \;[[:space:]]*$ ]]; then
      stmt=${stmt%$'\n'}
      stmt=${stmt%%*([[:space:]])}
      stmt=${stmt%;}
      if [[ $skip == 0 ]]; then
        post_sql "$port" "$stmt" || die "schema statement failed"
      fi
      stmt=""
      skip=0
    fi
  done <"$file"
  [[ -z ${stmt//[[:space:]]/} || $skip == 1 ]] || post_sql "$port" "$stmt" || die "schema statement failed"
}

case "${1:-}" in
install) shift; [[ $# -eq 0 ]] || usage; cmd_install ;;
start) shift; cmd_start "$@" ;;
schema) shift; cmd_schema "$@" ;;
stop) shift; cmd_stop "$@" ;;
*) usage ;;
esac
