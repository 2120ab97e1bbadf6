#!/usr/bin/env bash
# fota serve against hostile clients (issue 15, findings 2 and 4):
#  1. one address holds as many trickling connections as it can (1,500,
#     each sending a header byte per second and never finishing): a normal
#     client from another address is served every time, and the server holds
#     no more than --max-per-address of the attacker's connections;
#  2. many addresses together fill the connection limit: the server holds no
#     more than the limit, says so in one clear line, closes the overdue
#     connections at the header deadline, and serves normally afterwards
#     (during such a flood a normal client gets a slot only when one frees:
#     the figures file records how often it did);
#  3. the access log cannot be forged: newline, CR, ESC and invalid UTF-8 in
#     the method, the path (raw and percent-encoded) and the headers come out
#     escaped, one line per request.
# The descriptor limit is lowered to 2048 for the server (what a small VPS or
# a container gives), so its connection limit is about 990.
. "$(dirname "$0")/../e2e/lib.sh"
require_tools python3 curl
ulimit -n 2048

dir=$(fota_tmpdir)
printf 'firmware bytes\n' >"$dir/fw.bin"
TRICKLE="python3 $(dirname "$0")/trickle.py"

# held PID: the descriptors a process holds (here: its accepted connections,
# once the count at start is subtracted)
held() {
    ls "/proc/$1/fd" 2>/dev/null | wc -l
}

# normal_clients SECONDS SOURCE: one GET every 0.3 s from SOURCE; prints
# "ok N failed N"
normal_clients() {
    local until=$((SECONDS + $1)) ok=0 bad=0 code
    while [ $SECONDS -lt $until ]; do
        code=$(curl -gs -o /dev/null --max-time 5 --interface "$2" -w '%{http_code}' \
            "$SERVE_URL/fw.bin" || true)
        if [ "$code" = 200 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
        sleep 0.3
    done
    echo "ok $ok failed $bad"
}

# ---- 1. one address, 1,500 trickling connections ------------------------------------
start_fota_serve "$dir" --header-timeout 5
base=$(held "$SERVE_PID")
start_bg trickle1 $TRICKLE 127.0.0.1 "$SERVE_PORT" 1500 14 127.0.0.1
TRICKLE_PID=$BG_PID
wait_line "$FOTA_TEST_TMP/trickle1.out" '^t=0 ' "$TRICKLE_PID" >/dev/null || fail "the trickler did not start"
sleep 1
result=$(normal_clients 8 127.0.0.2)
max_held=0
for _ in 1 2 3; do
    h=$(($(held "$SERVE_PID") - base))
    [ "$h" -gt "$max_held" ] && max_held=$h
    sleep 0.5
done
wait "$TRICKLE_PID" || true
note "one address: $(tail -n 1 "$FOTA_TEST_TMP/trickle1.out"); server held $max_held; normal client: $result"
expect_eq "${result#ok * }" "failed 0" "a normal client is served while one address trickles 1,500 connections"
[ "$max_held" -ge 64 ] && [ "$max_held" -le $((128 + 16)) ] && pass "the server holds at most --max-per-address (128) of them (held $max_held)" ||
    fail "the server holds $max_held connections of one address (cap 128)"
expect_contains "$(cat "$SERVE_LOG")" "one address holds too many connections: refusing more from it (--max-per-address 128)" \
    "the refusals are reported"
expect_contains "$(cat "$SERVE_LOG")" "closed connections whose request headers did not arrive in time (--header-timeout 5 s)" \
    "the header deadline closes trickling connections, however they trickle"
echo "one-address: $(tail -n 1 "$FOTA_TEST_TMP/trickle1.out") server_held_max=$max_held normal=[$result]" \
    >"${FOTA_BUILD:-$FOTA_TEST_TMP}/serve-clients-figures.txt"
stop_pid "$SERVE_PID"

# ---- 2. many addresses fill the connection limit ------------------------------------
start_fota_serve "$dir" --header-timeout 3 --max-per-address 40 --max-connections 600
base=$(held "$SERVE_PID")
sources=$(for i in $(seq 10 49); do printf '127.0.0.%d ' "$i"; done)
# shellcheck disable=SC2086
start_bg trickle2 $TRICKLE 127.0.0.1 "$SERVE_PORT" 1600 12 $sources
TRICKLE_PID=$BG_PID
wait_line "$FOTA_TEST_TMP/trickle2.out" '^t=0 ' "$TRICKLE_PID" >/dev/null || fail "the trickler did not start"
max_held=0
for _ in 1 2 3 4 5 6; do
    sleep 0.5
    h=$(($(held "$SERVE_PID") - base))
    [ "$h" -gt "$max_held" ] && max_held=$h
done
result=$(normal_clients 6 127.0.0.2)
wait "$TRICKLE_PID" || true
note "40 addresses: $(tail -n 1 "$FOTA_TEST_TMP/trickle2.out"); server held $max_held; normal client: $result"
[ "$max_held" -ge 300 ] && [ "$max_held" -le $((600 + 16)) ] &&
    pass "the server fills up to --max-connections 600 and no further (held $max_held)" ||
    fail "the server holds $max_held connections (cap 600)"
expect_contains "$(cat "$SERVE_LOG")" "connection limit reached: refusing new connections" \
    "reaching the connection limit is reported in one clear line"
expect_contains "$(cat "$SERVE_LOG")" "closed connections whose request headers did not arrive in time (--header-timeout 3 s)" \
    "the header deadline frees the slots the flood takes"
lines=$(grep -c '^fota serve: ' "$SERVE_LOG" || true)
[ "$lines" -le 40 ] && pass "the flood costs a few report lines, not one per connection ($lines)" ||
    fail "the flood wrote $lines report lines"
expect_eq "$(http_code "$SERVE_URL/fw.bin")" 200 "served normally after the flood"
echo "forty-addresses: $(tail -n 1 "$FOTA_TEST_TMP/trickle2.out") server_held_max=$max_held normal=[$result]" \
    >>"${FOTA_BUILD:-$FOTA_TEST_TMP}/serve-clients-figures.txt"
stop_pid "$SERVE_PID"

# ---- 3. nothing a client sends forges the log -----------------------------------------
log=$FOTA_TEST_TMP/access.log
start_fota_serve "$dir" --access-log "$log"
requests=(
    $'GET /x%0a2026-01-01T00:00:00.000Z 6.6.6.6:1 GET /fw.bin 200 15 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
    $'GET /a%0d%1b[31mred%1b[0m HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
    $'GET /%ff%fe%c3%28 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
    $'GET /\xff\xfe\x1b[2J HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
    $'G\x1b[1mT /fw.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
    $'GET /fw.bin HTTP/1.1\r\nHost: a\r\nUser-Agent: x\x1b]0;owned\x07\xc3\x28\r\nRange: bytes=0-1\x1b\r\nConnection: close\r\n\r\n'
)
for rq in "${requests[@]}"; do
    http_raw "$SERVE_PORT" "$rq" >/dev/null 2>&1 || true
done
for _ in $(seq 1 50); do
    [ "$(wc -l <"$log")" -gt ${#requests[@]} ] && break
    sleep 0.1
done
lines=$(wc -l <"$log")
# one more: the readiness probe of start_fota_serve
expect_eq "$lines" "$((${#requests[@]} + 1))" "one log line per request, none forged"
[ "$lines" = "$((${#requests[@]} + 1))" ] || sed 's/^/    /' "$log"
fields=$(grep -cE '^[^ ]+ [^ ]+ [^ ]+ [^ ]+ ([0-9]{3}|-) [0-9]+ range="' "$log" || true)
expect_eq "$fields" "$lines" "every line has its six leading fields: spaces in the target cannot shift them"
bad=$(LC_ALL=C tr -d '\n\040-\176' <"$log" | wc -c)
expect_eq "$bad" 0 "the log holds printable ASCII only: no CR, ESC or bytes above 0x7E"
body=$(cat "$log")
expect_contains "$body" 'note="not found: x\x0A2026-01-01' "a newline decoded from %0a is escaped in the note"
expect_contains "$body" ' GET /x%0a2026-01-01T00:00:00.000Z\x206.6.6.6:1\x20GET\x20/fw.bin' \
    "spaces in the raw target are escaped"
expect_contains "$body" '\x0D\x1B[31mred' "CR and ESC decoded from the path are escaped"
expect_contains "$body" '\xFF\xFE\xC3(' "invalid UTF-8 is escaped"
if grep -q ' G\\x1B\[1mT /fw.bin ' "$log"; then
    pass "an ESC in the method is escaped"
else
    # libmicrohttpd may refuse the request line itself; then it is logged
    # with status "-" and nothing of it raw
    expect_contains "$body" "G\\x1B" "an ESC in the method is escaped"
fi
expect_contains "$body" 'ua="x\x1B]0;owned\x07\xC3(' "the User-Agent's control bytes are escaped"
stop_pid "$SERVE_PID"

finish
