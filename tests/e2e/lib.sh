# shellcheck shell=bash
# tests/e2e/lib.sh - shared helpers for the end-to-end shell tests.
#
# Source it first thing in every tests/e2e/test_*.sh (bash):
#
#     #!/usr/bin/env bash
#     . "$(dirname "$0")/lib.sh"          # also sets `set -euo pipefail`
#     require_tools curl                  # exit 77 (skip) when a tool is missing
#     dir=$(fota_tmpdir)                  # removed when the script exits
#     start_fota_serve "$dir"             # NOT in $(...): it exports variables
#     body=$(http "$SERVE_URL/file.bin")
#     expect_eq "$body" "hello" "GET returns the file"
#     finish                              # prints "N passed, N failed", sets the exit code
#
# Environment given by ctest (tests/e2e/CMakeLists.txt): FOTA_BIN (the built
# fota tool), FOTA_SRC (source tree), FOTA_BUILD (build tree). FAULTPROXY_BIN
# and BADSERVER_BIN default to $FOTA_BUILD/tests/servers/{faultproxy,badserver}.
#
# Servers: every start_* function starts one process bound to loopback on a
# free port, waits until it is ready (it answers HTTP, or printed its
# "listening on" line), records its pid for cleanup, and exports
#   start_fota_serve DIR [ARGS...]  -> SERVE_PORT SERVE_URL SERVE_PID SERVE_LOG
#                                      (SERVE_LOG: its stderr = the access log)
#   start_nginx DIR [ADDR [SNIPPET]]-> NGINX_PORT NGINX_URL NGINX_PID NGINX_DIR
#                                      (NGINX_DIR holds nginx.conf, access.log,
#                                      error.log; SNIPPET goes into the server
#                                      block, e.g. 'location = /old { return 302 /new; }')
#   start_python_http DIR           -> PY_PORT PY_URL PY_PID
#   start_faultproxy TARGET_PORT MODE [ARGS...]
#                                   -> PROXY_PORT PROXY_URL PROXY_PID PROXY_LOG
#   start_badserver MODE [ARGS...]  -> BAD_PORT BAD_URL BAD_PID BAD_LOG
#   start_bg NAME CMD...            -> BG_PID; CMD's stdout/stderr go to
#                                      $FOTA_TEST_TMP/NAME.out / NAME.err
#   stop_pid PID                       stops one of them early
# Each call overwrites the variables of the previous call of the same kind;
# copy them if a test runs two servers of one kind. URLs have no trailing
# slash. Everything started is killed (TERM, then KILL) when the script
# exits for any reason, and all temporary files are removed (set
# FOTA_KEEP_TMP=1 to keep them for debugging; the path is printed).
#
# Checks never stop the script: pass MSG / fail MSG (and the expect_*
# helpers, which call them) count, and finish reports. A
# script that exits before calling finish (an unexpected error under set -e)
# counts as failed. Skip (exit 77) only when a tool is truly missing.
#
# Other helpers (each documented where it is defined): free_port,
# wait_http URL [PID], wait_line FILE REGEX PID, http ARGS... (curl with sane
# defaults), http_code URL [CURL ARGS...], http_raw PORT REQUEST (exact bytes
# over a raw socket), split_http_response RAW HEADERS BODY, slice FILE OFFSET
# LENGTH, expect_eq, expect_ne, expect_contains, expect_file_eq, skip,
# require_tools, note.

set -euo pipefail

LIB_PASSED=0
LIB_FAILED=0
LIB_FINISHED=0
LIB_SKIPPED=0
LIB_NAME=$(basename "$0" .sh)

# One temporary root per script; everything else lives below it, so
# fota_tmpdir also works inside $(...) subshells and cleanup finds all of it.
FOTA_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fota-e2e-$LIB_NAME.XXXXXX")
export FOTA_TEST_TMP
LIB_PIDFILE=$FOTA_TEST_TMP/.pids
: >"$LIB_PIDFILE"

: "${FOTA_BUILD:=}"
: "${FAULTPROXY_BIN:=${FOTA_BUILD:+$FOTA_BUILD/tests/servers/faultproxy}}"
: "${BADSERVER_BIN:=${FOTA_BUILD:+$FOTA_BUILD/tests/servers/badserver}}"

note() { printf '%s: %s\n' "$LIB_NAME" "$*" >&2; }

pass() {
    LIB_PASSED=$((LIB_PASSED + 1))
    printf 'ok   %s\n' "$*"
}

fail() {
    LIB_FAILED=$((LIB_FAILED + 1))
    printf 'FAIL %s\n' "$*"
}

# skip REASON: the test cannot run here (a tool is missing). Exit code 77 is
# what ctest's SKIP_RETURN_CODE property must be set to.
skip() {
    printf 'SKIP %s: %s\n' "$LIB_NAME" "$*"
    LIB_SKIPPED=1
    exit 77
}

require_tools() {
    local t
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || skip "required tool '$t' not found in PATH"
    done
}

# finish: print the summary alone on its line and exit (1 if anything failed
# or nothing was checked).
finish() {
    LIB_FINISHED=1
    printf '%d passed, %d failed\n' "$LIB_PASSED" "$LIB_FAILED"
    if [ "$LIB_FAILED" -ne 0 ] || [ "$LIB_PASSED" -eq 0 ]; then
        exit 1
    fi
    exit 0
}

lib_kill_all() {
    local pid
    # Newest first: clients before the servers they talk to.
    for pid in $(tac "$LIB_PIDFILE" 2>/dev/null); do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in $(tac "$LIB_PIDFILE" 2>/dev/null); do
        local i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            note "pid $pid ignored SIGTERM for 5 s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
}

lib_on_exit() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    lib_kill_all
    if [ "$LIB_SKIPPED" -eq 0 ] && [ "$LIB_FINISHED" -eq 0 ]; then
        fail "script ended early (exit status $rc) before finish"
        printf '%d passed, %d failed\n' "$LIB_PASSED" "$LIB_FAILED"
        [ "$rc" -eq 0 ] && rc=1
    fi
    if [ "${FOTA_KEEP_TMP:-0}" = 1 ]; then
        note "kept temporary files in $FOTA_TEST_TMP"
    else
        rm -rf "$FOTA_TEST_TMP"
    fi
    exit "$rc"
}
trap lib_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fota_tmpdir: print a new empty directory (removed on exit).
fota_tmpdir() {
    mktemp -d "$FOTA_TEST_TMP/dir.XXXXXX"
}

lib_track() { echo "$1" >>"$LIB_PIDFILE"; }

# free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
# Chosen below Linux's ephemeral range (32768-60999) so outgoing connections
# do not take it; still a race, so the start_* functions retry on bind errors.
free_port() {
    local i port
    for i in $(seq 1 200); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    note "free_port: no free port found in 200 tries"
    return 1
}

# http ARGS...: curl, silent but showing errors, bounded in time, no URL
# globbing (so [::1] works), never
# following redirects unless asked. Fails (non-zero) only on transport errors.
http() {
    curl -gsS --max-time 20 --connect-timeout 5 "$@"
}

# http_code URL [CURL ARGS...]: print just the status code (000 = no answer).
http_code() {
    local url=$1
    shift
    curl -gs -o /dev/null --max-time 20 --connect-timeout 5 -w '%{http_code}' "$@" "$url" || true
}

# http_raw PORT REQUEST [HOST]: send REQUEST bytes as they are (write the
# CRLFs yourself, e.g. with $'...') to HOST (127.0.0.1) and print everything
# that comes back until the server closes (bounded to 20 s). For requests
# curl cannot make: HTTP/1.0 like the ESP8266 updater, odd targets, and for
# seeing exactly which bytes arrived. Returns non-zero when the connection
# failed or was reset (the reader's error goes to stderr).
http_raw() {
    local port=$1 request=$2 host=${3:-127.0.0.1}
    timeout 20 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; printf "%s" "$2" >&3 || exit 1; cat <&3' \
        "$host" "$port" "$request"
}

# split_http_response RAW HEADERS BODY: split a raw response (from http_raw)
# at the first empty line: HEADERS gets the status line and header lines
# (with their CRLFs), BODY every byte after the empty line.
split_http_response() {
    local raw=$1 head_out=$2 body_out=$3 n
    sed '/^\r\{0,1\}$/q' "$raw" >"$head_out"
    n=$(wc -c <"$head_out")
    tail -c +"$((n + 1))" "$raw" >"$body_out"
}

# slice FILE OFFSET LENGTH: print LENGTH bytes of FILE from OFFSET (binary
# safe; no pipe, so no SIGPIPE under pipefail).
slice() {
    dd if="$1" bs=65536 iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none
}

# wait_http URL [PID]: wait (up to 10 s) until URL answers with any HTTP
# status. With PID, give up at once when that process has exited.
wait_http() {
    local url=$1 pid=${2:-} i code
    for i in $(seq 1 100); do
        code=$(curl -gs -o /dev/null --max-time 1 -w '%{http_code}' "$url" 2>/dev/null || true)
        [ "$code" != "000" ] && [ -n "$code" ] && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 1
        fi
        sleep 0.1
    done
    note "wait_http: $url did not answer within 10 s"
    return 1
}

# start_bg NAME CMD...: start CMD in the background, tracked for cleanup.
start_bg() {
    local name=$1
    shift
    "$@" >"$FOTA_TEST_TMP/$name.out" 2>"$FOTA_TEST_TMP/$name.err" &
    BG_PID=$!
    lib_track "$BG_PID"
    export BG_PID
}

# wait_line FILE REGEX PID: wait (up to 10 s) until FILE has a line matching
# REGEX (printed), or PID exits.
wait_line() {
    local file=$1 re=$2 pid=$3 i line
    for i in $(seq 1 100); do
        line=$(grep -m1 -E "$re" "$file" 2>/dev/null || true)
        if [ -n "$line" ]; then
            printf '%s\n' "$line"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

# start_fota_serve DIR [ARGS...]: run "$FOTA_BIN serve --port 0 ARGS DIR" and
# read the port from its "listening on" line.
LIB_SERVE_COUNT=0
start_fota_serve() {
    local dir=$1
    shift
    [ -n "${FOTA_BIN:-}" ] && [ -x "$FOTA_BIN" ] || { fail "FOTA_BIN is not set to the built fota tool"; return 1; }
    LIB_SERVE_COUNT=$((LIB_SERVE_COUNT + 1))
    local name=serve.$LIB_SERVE_COUNT line
    start_bg "$name" "$FOTA_BIN" serve --port 0 "$@" "$dir"
    SERVE_PID=$BG_PID
    SERVE_LOG=$FOTA_TEST_TMP/$name.err
    if ! line=$(wait_line "$FOTA_TEST_TMP/$name.out" '^fota serve: listening on http://' "$SERVE_PID"); then
        fail "fota serve $dir did not start; its stderr:"
        sed 's/^/    /' "$SERVE_LOG"
        return 1
    fi
    SERVE_PORT=$(printf '%s\n' "$line" | sed -E 's|^fota serve: listening on http://.*:([0-9]+)/ serving .*|\1|')
    SERVE_URL=$(printf '%s\n' "$line" | sed -E 's|^fota serve: listening on (http://[^ ]*)/ serving .*|\1|')
    export SERVE_PORT SERVE_URL SERVE_PID SERVE_LOG
    wait_http "$SERVE_URL/" "$SERVE_PID" || { fail "fota serve on port $SERVE_PORT does not answer"; return 1; }
}

# start_nginx DIR [ADDR [SNIPPET]]: nginx serving DIR on ADDR (default
# 127.0.0.1; "::1" works) and a free port, with every path in its own
# temporary directory (no root paths).
start_nginx() {
    local dir=$1 addr=${2:-127.0.0.1} snippet=${3:-}
    local nginx=${NGINX_BIN:-/usr/sbin/nginx}
    [ -x "$nginx" ] || skip "nginx not found at $nginx"
    local ndir listen host attempt temp_paths="" m user_line=""
    ndir=$(mktemp -d "$FOTA_TEST_TMP/nginx.XXXXXX")
    mkdir -p "$ndir/client_body"
    for m in proxy fastcgi uwsgi scgi; do
        if ! "$nginx" -V 2>&1 | grep -q -- "--without-http_${m}_module"; then
            mkdir -p "$ndir/$m"
            temp_paths="$temp_paths ${m}_temp_path $ndir/$m;"
        fi
    done
    # As root, nginx's workers would drop to "nobody", who cannot enter
    # mktemp's 0700 directories.
    [ "$(id -u)" = 0 ] && user_line="user root;"
    case $addr in *:*) host="[$addr]" ;; *) host=$addr ;; esac
    for attempt in 1 2 3 4 5; do
        NGINX_PORT=$(free_port)
        cat >"$ndir/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes 1;
pid $ndir/nginx.pid;
error_log $ndir/error.log info;
events { worker_connections 256; }
http {
    access_log $ndir/access.log;
    client_body_temp_path $ndir/client_body;
   $temp_paths
    types { text/plain txt version; application/octet-stream bin; }
    default_type application/octet-stream;
    server {
        listen $host:$NGINX_PORT;
        root $dir;
        $snippet
    }
}
EOF
        start_bg "nginx.$NGINX_PORT" "$nginx" -p "$ndir" -c "$ndir/nginx.conf" -e "$ndir/error.log"
        NGINX_PID=$BG_PID
        NGINX_URL=http://$host:$NGINX_PORT
        NGINX_DIR=$ndir
        export NGINX_PORT NGINX_URL NGINX_PID NGINX_DIR
        if wait_http "$NGINX_URL/" "$NGINX_PID"; then
            return 0
        fi
        grep -q "Address already in use" "$ndir/error.log" 2>/dev/null || break
    done
    fail "nginx did not start; its error log:"
    sed 's/^/    /' "$ndir/error.log" "$FOTA_TEST_TMP/nginx.$NGINX_PORT.err" 2>/dev/null || true
    return 1
}

# start_python_http DIR: python3 -m http.server on 127.0.0.1 and a free port.
start_python_http() {
    local dir=$1 attempt
    require_tools python3
    for attempt in 1 2 3 4 5; do
        PY_PORT=$(free_port)
        start_bg "python.$PY_PORT" python3 -m http.server --bind 127.0.0.1 --directory "$dir" "$PY_PORT"
        PY_PID=$BG_PID
        PY_URL=http://127.0.0.1:$PY_PORT
        export PY_PORT PY_URL PY_PID
        if wait_http "$PY_URL/" "$PY_PID"; then
            return 0
        fi
        grep -q "Address already in use" "$FOTA_TEST_TMP/python.$PY_PORT.err" 2>/dev/null || break
    done
    fail "python3 http.server did not start:"
    sed 's/^/    /' "$FOTA_TEST_TMP/python.$PY_PORT.err" 2>/dev/null || true
    return 1
}

# start_faultproxy TARGET_PORT MODE [ARGS...]: faultproxy (tests/servers) on a
# free port relaying to 127.0.0.1:TARGET_PORT with --mode MODE and ARGS
# (--arg K, --times N, --control FILE).
#   -> PROXY_PORT PROXY_URL PROXY_PID PROXY_LOG (its stderr: one line per
#      connection start and end)
LIB_PROXY_COUNT=0
start_faultproxy() {
    local target=$1 mode=$2 line
    shift 2
    [ -x "${FAULTPROXY_BIN:-}" ] || { fail "FAULTPROXY_BIN is not the built faultproxy"; return 1; }
    LIB_PROXY_COUNT=$((LIB_PROXY_COUNT + 1))
    start_bg "faultproxy.$LIB_PROXY_COUNT" "$FAULTPROXY_BIN" --listen-port 0 \
        --target "127.0.0.1:$target" --mode "$mode" "$@"
    PROXY_PID=$BG_PID
    PROXY_LOG=$FOTA_TEST_TMP/faultproxy.$LIB_PROXY_COUNT.err
    if ! line=$(wait_line "$FOTA_TEST_TMP/faultproxy.$LIB_PROXY_COUNT.out" '^faultproxy: listening on ' "$PROXY_PID"); then
        fail "faultproxy --mode $mode $* did not start:"
        sed 's/^/    /' "$PROXY_LOG"
        return 1
    fi
    PROXY_PORT=${line##*:}
    PROXY_URL=http://127.0.0.1:$PROXY_PORT
    export PROXY_PORT PROXY_URL PROXY_PID PROXY_LOG
}

# start_badserver MODE [ARGS...]: badserver (tests/servers) on a free port with
# --mode MODE and ARGS (--dir DIR, --times N, --arg K).
#   -> BAD_PORT BAD_URL BAD_PID BAD_LOG (its stderr: one line per request)
LIB_BAD_COUNT=0
start_badserver() {
    local mode=$1 line
    shift
    [ -x "${BADSERVER_BIN:-}" ] || { fail "BADSERVER_BIN is not the built badserver"; return 1; }
    LIB_BAD_COUNT=$((LIB_BAD_COUNT + 1))
    start_bg "badserver.$LIB_BAD_COUNT" "$BADSERVER_BIN" --port 0 --mode "$mode" "$@"
    BAD_PID=$BG_PID
    BAD_LOG=$FOTA_TEST_TMP/badserver.$LIB_BAD_COUNT.err
    if ! line=$(wait_line "$FOTA_TEST_TMP/badserver.$LIB_BAD_COUNT.out" '^badserver: listening on ' "$BAD_PID"); then
        fail "badserver --mode $mode $* did not start:"
        sed 's/^/    /' "$BAD_LOG"
        return 1
    fi
    BAD_PORT=${line##*:}
    BAD_URL=http://127.0.0.1:$BAD_PORT
    export BAD_PORT BAD_URL BAD_PID BAD_LOG
}

# stop_pid PID: stop one started process now (TERM, then KILL after 5 s).
stop_pid() {
    local pid=$1 i=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# ---- assertions (count, never exit) -----------------------------------------

# expect_eq ACTUAL EXPECTED MSG
expect_eq() {
    if [ "$1" = "$2" ]; then
        pass "$3"
    else
        fail "$3: got '$1', expected '$2'"
    fi
}

# expect_ne ACTUAL UNWANTED MSG
expect_ne() {
    if [ "$1" != "$2" ]; then
        pass "$3"
    else
        fail "$3: got '$1', which it must not be"
    fi
}

# expect_contains HAYSTACK NEEDLE MSG (fixed string)
expect_contains() {
    case $1 in
    *"$2"*) pass "$3" ;;
    *) fail "$3: '$2' not found in: $(printf '%s' "$1" | head -c 600)" ;;
    esac
}

# expect_file_eq FILE EXPECTED_FILE MSG (byte-exact)
expect_file_eq() {
    if cmp -s "$1" "$2"; then
        pass "$3"
    else
        fail "$3: $1 differs from $2 ($(cmp "$1" "$2" 2>&1 | head -1))"
    fi
}
