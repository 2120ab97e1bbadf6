#!/usr/bin/env bash
# Proves that every faultproxy and badserver mode does what it says, from
# the client's side (raw sockets and curl), before other tests rely on them.
#
# Time appears only as lower bounds that a correct tool makes certain (a
# client that gives up after 4 s has not got a body that is stalled for 60 s);
# no check depends on the machine being fast.
. "$(dirname "$0")/../e2e/lib.sh"
require_tools curl cmp od timeout

work=$(fota_tmpdir)
root=$work/root
mkdir -p "$root"
head -c 100000 /dev/urandom >"$root/fw.bin"
printf 'hello world\n' >"$root/a.txt"
head -c 100000 /dev/zero | tr '\0' z >"$root/z.txt" # no line of it looks like a chunk size
size=100000

# raw PORT REQUEST NAME: raw exchange into $work/NAME.{raw,head,body,err};
# sets RAW_RC (0: the server closed cleanly) and RAW_LEN (bytes received).
raw() {
    local port=$1 req=$2 name=$3
    RAW_RC=0
    http_raw "$port" "$req" >"$work/$name.raw" 2>"$work/$name.err" || RAW_RC=$?
    RAW_LEN=$(stat -c %s "$work/$name.raw")
    split_http_response "$work/$name.raw" "$work/$name.head" "$work/$name.body"
}
header() { tr -d '\r' <"$1" | awk -v n="$(printf '%s' "$2" | tr 'A-Z' 'a-z')" -F': ' \
    'tolower($1) == n { v = substr($0, length($1) + 3) } END { print v }'; }
status_of() { head -1 "$1" | cut -d' ' -f2; }
GET10=$'GET /fw.bin HTTP/1.0\r\n\r\n'

# ============================== faultproxy ===================================
start_fota_serve "$root" --quiet
UP=$SERVE_PORT
raw "$UP" "$GET10" direct
H=$(stat -c %s "$work/direct.head") # header bytes of this response (constant length)
expect_file_eq "$work/direct.body" "$root/fw.bin" "upstream (fota serve) answers the raw request"

# --- none ---
start_faultproxy "$UP" none
raw "$PROXY_PORT" "$GET10" none
expect_eq "$RAW_RC" 0 "proxy none: clean close"
expect_eq "$(stat -c %s "$work/none.head")" "$H" "proxy none: headers unchanged in length"
expect_file_eq "$work/none.body" "$root/fw.bin" "proxy none: body unchanged"
stop_pid "$PROXY_PID"

# --- refuse ---
start_faultproxy "$UP" refuse
raw "$PROXY_PORT" "$GET10" refuse
expect_ne "$RAW_RC" 0 "proxy refuse: the client sees an error"
expect_eq "$RAW_LEN" 0 "proxy refuse: no byte arrives"
expect_eq "$(http_code "$PROXY_URL/fw.bin")" "000" "proxy refuse: curl gets no HTTP status"
expect_contains "$(cat "$PROXY_LOG")" "reset at accept" "proxy refuse: logged"
stop_pid "$PROXY_PID"

# --- reset K: exactly K bytes, then RST ---
K=$((H + 1000))
start_faultproxy "$UP" reset --arg "$K"
raw "$PROXY_PORT" "$GET10" reset
expect_eq "$RAW_LEN" "$K" "proxy reset $K: exactly $K bytes arrive"
expect_ne "$RAW_RC" 0 "proxy reset: the reader fails"
expect_contains "$(cat "$work/reset.err")" "reset by peer" "proxy reset: it is a connection reset (RST)"
slice "$root/fw.bin" 0 1000 >"$work/want"
expect_file_eq "$work/reset.body" "$work/want" "proxy reset: the bytes before the reset are right"
rc=0; curl -s -o /dev/null --max-time 20 "$PROXY_URL/fw.bin" || rc=$?
expect_eq "$rc" 56 "proxy reset: curl reports a receive failure (56)"
expect_contains "$(cat "$PROXY_LOG")" "reset the client after $K bytes" "proxy reset: logged with the offset"
stop_pid "$PROXY_PID"

# --- truncate K: exactly K bytes, then a clean FIN ---
start_faultproxy "$UP" truncate --arg "$K"
raw "$PROXY_PORT" "$GET10" trunc
expect_eq "$RAW_LEN" "$K" "proxy truncate $K: exactly $K bytes arrive"
expect_eq "$RAW_RC" 0 "proxy truncate: a clean close, not a reset"
expect_file_eq "$work/trunc.body" "$work/want" "proxy truncate: the bytes before the close are right"
rc=0; curl -s -o /dev/null --max-time 20 "$PROXY_URL/fw.bin" || rc=$?
expect_eq "$rc" 18 "proxy truncate: curl reports a partial transfer (18)"
stop_pid "$PROXY_PID"

# --- flip K: one byte at stream offset K is inverted, nothing else changes ---
start_faultproxy "$UP" flip --arg $((H + 500))
raw "$PROXY_PORT" "$GET10" flip
expect_eq "$RAW_LEN" $((H + size)) "proxy flip: length unchanged"
diffs=$(cmp -l "$work/flip.body" "$root/fw.bin" 2>&1 || true)
expect_eq "$(printf '%s\n' "$diffs" | wc -l)" 1 "proxy flip: exactly one byte differs"
read -r d_pos d_got d_want _ <<<"$diffs 0 0 0"
expect_eq "$d_pos" 501 "proxy flip: it is the byte at body offset 500 (stream offset H+500)"
expect_eq "$(( (8#$d_got) ^ (8#$d_want) ))" 255 "proxy flip: the byte is XOR 0xFF"
stop_pid "$PROXY_PID"

# --- flip counts bytes from the start of the connection, across responses ---
curl -s --max-time 20 -o /dev/null -D "$work/ka.h" "$SERVE_URL/a.txt"
kh=$(stat -c %s "$work/ka.h") # header bytes of one keep-alive response to curl
start_faultproxy "$UP" flip --arg $((kh + 12 + kh)) # first body byte of response 2
curl -s --max-time 20 -o "$work/ka1" -o "$work/ka2" -w '%{num_connects} ' \
    "$PROXY_URL/a.txt" "$PROXY_URL/a.txt" >"$work/ka.conns"
expect_eq "$(cat "$work/ka.conns")" "1 0 " "proxy flip: both requests on one connection"
expect_eq "$(cat "$work/ka1")" "hello world" "proxy flip: the first response is intact"
expect_eq "$(od -An -tx1 "$work/ka2" | tr -d ' \n')" "97656c6c6f20776f726c640a" "proxy flip: the second response has its first body byte inverted ('h' -> 0x97)"
stop_pid "$PROXY_PID"

# --- close-after-headers ---
start_faultproxy "$UP" close-after-headers
raw "$PROXY_PORT" "$GET10" cah
expect_eq "$RAW_LEN" "$H" "proxy close-after-headers: only the header block arrives"
expect_eq "$RAW_RC" 0 "proxy close-after-headers: clean close"
expect_eq "$(status_of "$work/cah.head")" 200 "proxy close-after-headers: the status is there"
expect_eq "$(tail -c 4 "$work/cah.raw" | od -An -tx1 | tr -d ' ')" "0d0a0d0a" "proxy close-after-headers: it ends right after CRLF CRLF"
stop_pid "$PROXY_PID"

# --- stall K: headers, then nothing for K s ---
start_faultproxy "$UP" stall --arg 60
rc=0; curl -s --max-time 4 -o "$work/stall.body" -D "$work/stall.h" "$PROXY_URL/fw.bin" || rc=$?
expect_eq "$rc" 28 "proxy stall 60: a client with a 4 s limit times out"
expect_eq "$(status_of "$work/stall.h")" 200 "proxy stall: the headers got through"
expect_eq "$(stat -c %s "$work/stall.body" 2>/dev/null || echo 0)" 0 "proxy stall: no body byte got through"
expect_contains "$(cat "$PROXY_LOG")" "stalling 60 s after the headers (offset" "proxy stall: logged"
stop_pid "$PROXY_PID"
start_faultproxy "$UP" stall --arg 1
http -o "$work/stall.body" "$PROXY_URL/fw.bin"
expect_file_eq "$work/stall.body" "$root/fw.bin" "proxy stall 1: the body arrives whole after the stall"
stop_pid "$PROXY_PID"

# --- trickle K bytes/s ---
start_faultproxy "$UP" trickle --arg 2000
got=$(curl -s --max-time 3 -o /dev/null -w '%{size_download}' "$PROXY_URL/fw.bin" || true)
[ "$got" -lt 10000 ] && pass "proxy trickle 2000: after 3 s at most ~6 KB arrived ($got)" ||
    fail "proxy trickle 2000: $got body bytes in 3 s, more than 2000 B/s allows"
stop_pid "$PROXY_PID"
start_faultproxy "$UP" trickle --arg 400000
http -o "$work/trickle.body" "$PROXY_URL/fw.bin"
expect_file_eq "$work/trickle.body" "$root/fw.bin" "proxy trickle: the body arrives whole"
stop_pid "$PROXY_PID"

# --- --times N: fault the first N connections, then relay cleanly ---
start_faultproxy "$UP" truncate --arg 300 --times 2
for i in 1 2 3; do raw "$PROXY_PORT" "$GET10" times$i; done
expect_eq "$(stat -c %s "$work/times1.raw") $(stat -c %s "$work/times2.raw")" "300 300" "proxy --times 2: connections 1 and 2 truncated"
expect_file_eq "$work/times3.body" "$root/fw.bin" "proxy --times 2: connection 3 is clean"
stop_pid "$PROXY_PID"

# --- --control FILE switches the fault between connections ---
ctl=$work/control
start_faultproxy "$UP" none --control "$ctl"
raw "$PROXY_PORT" "$GET10" c1
expect_file_eq "$work/c1.body" "$root/fw.bin" "proxy control: no file yet, mode none"
echo "truncate 250" >"$ctl"
raw "$PROXY_PORT" "$GET10" c2
expect_eq "$RAW_LEN" 250 "proxy control: 'truncate 250' applies to the next connection"
echo "reset 400 1" >"$ctl"
raw "$PROXY_PORT" "$GET10" c3
raw "$PROXY_PORT" "$GET10" c4
expect_eq "$(stat -c %s "$work/c3.raw")" 400 "proxy control: 'reset 400 1' faults one connection"
expect_file_eq "$work/c4.body" "$root/fw.bin" "proxy control: then it relays cleanly"
echo "bogus" >"$ctl"
raw "$PROXY_PORT" "$GET10" c5
expect_file_eq "$work/c5.body" "$root/fw.bin" "proxy control: a bad control line keeps the current mode"
expect_contains "$(cat "$PROXY_LOG")" "unknown mode 'bogus'" "proxy control: a bad line is logged"
stop_pid "$PROXY_PID"

rc=0; "$FAULTPROXY_BIN" --listen-port 0 --target 127.0.0.1:1 --mode reset 2>"$work/err" || rc=$?
expect_eq "$rc" 2 "proxy: reset without --arg is refused"

# ============================== badserver ====================================
GETA=$'GET /fw.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'

# --- none: a correct server (the state every mode falls back to) ---
start_badserver none --dir "$root"
B=$BAD_URL
http -o "$work/b" -D "$work/bh" "$B/fw.bin"
expect_file_eq "$work/b" "$root/fw.bin" "badserver none: GET is exact"
expect_eq "$(header "$work/bh" Content-Length)" "$size" "badserver none: Content-Length"
etag=$(header "$work/bh" ETag)
expect_ne "$etag" "" "badserver none: has an ETag"
http -o "$work/b" -D "$work/bh" -H "Range: bytes=100-199" "$B/fw.bin"
slice "$root/fw.bin" 100 100 >"$work/want"
expect_eq "$(status_of "$work/bh") $(header "$work/bh" Content-Range)" "206 bytes 100-199/$size" "badserver none: Range 206"
expect_file_eq "$work/b" "$work/want" "badserver none: Range bytes exact"
http -o "$work/b" -D "$work/bh" -H "Range: bytes=99000-" "$B/fw.bin"
expect_eq "$(stat -c %s "$work/b")" 1000 "badserver none: open-ended Range"
expect_eq "$(http_code "$B/fw.bin" -H "Range: bytes=$size-")" 416 "badserver none: 416"
expect_eq "$(http_code "$B/fw.bin" -H "If-None-Match: $etag")" 304 "badserver none: If-None-Match 304"
expect_eq "$(http_code "$B/fw.bin" -H 'Range: bytes=0-9' -H 'If-Range: "x"')" 200 "badserver none: If-Range mismatch 200"
expect_eq "$(http_code "$B/fw.bin" -H 'Range: bytes=0-9' -H "If-Range: $etag")" 206 "badserver none: If-Range match 206"
expect_eq "$(http_code "$B/nope.bin")" 404 "badserver none: missing file 404"
conns=$(curl -s --max-time 20 -o /dev/null -o /dev/null -w '%{num_connects} ' "$B/a.txt" "$B/fw.bin")
expect_eq "$conns" "1 0 " "badserver none: keep-alive"
stop_pid "$BAD_PID"

# --- statuses ---
for s in 500 502 503 404; do
    start_badserver "status-$s" --dir "$root"
    http -o "$work/b" -D "$work/bh" "$BAD_URL/fw.bin"
    expect_eq "$(status_of "$work/bh")" "$s" "badserver status-$s"
    expect_eq "$(header "$work/bh" Retry-After)" "" "badserver status-$s: no Retry-After"
    stop_pid "$BAD_PID"
done
start_badserver 503-retry-after --dir "$root"
http -o "$work/b" -D "$work/bh" "$BAD_URL/fw.bin"
expect_eq "$(status_of "$work/bh") $(header "$work/bh" Retry-After)" "503 1" "badserver 503-retry-after: 503 with Retry-After: 1"
stop_pid "$BAD_PID"

# --- --times N: misbehave for the first N requests only ---
start_badserver status-500 --times 2 --dir "$root"
codes="$(http_code "$BAD_URL/fw.bin") $(http_code "$BAD_URL/fw.bin") $(http_code "$BAD_URL/fw.bin")"
expect_eq "$codes" "500 500 200" "badserver --times 2: two 500s, then 200"
http -o "$work/b" "$BAD_URL/fw.bin"
expect_file_eq "$work/b" "$root/fw.bin" "badserver --times: then the file is served exactly"
expect_contains "$(cat "$BAD_LOG")" "request 3 (conn 3): GET /fw.bin HTTP/1.1 -> correct: 200" "badserver: logs each request"
stop_pid "$BAD_PID"

# --- short-length: Content-Length larger than the body, then close ---
start_badserver short-length --dir "$root"
raw "$BAD_PORT" "$GETA" short
expect_eq "$(header "$work/short.head" Content-Length)" $((size + 100)) "badserver short-length: claims size + 100"
expect_file_eq "$work/short.body" "$root/fw.bin" "badserver short-length: sends the real body"
expect_eq "$RAW_RC" 0 "badserver short-length: then closes"
rc=0; curl -s -o /dev/null --max-time 20 "$BAD_URL/fw.bin" || rc=$?
expect_eq "$rc" 18 "badserver short-length: curl reports a partial transfer (18)"
stop_pid "$BAD_PID"

# --- long-body: Content-Length smaller than what is sent ---
start_badserver long-body --dir "$root" --arg 1000
raw "$BAD_PORT" "$GETA" long
expect_eq "$(header "$work/long.head" Content-Length)" $((size - 1000)) "badserver long-body: claims size - 1000"
expect_file_eq "$work/long.body" "$root/fw.bin" "badserver long-body: sends all $size bytes"
stop_pid "$BAD_PID"

# --- endless: no length, bytes until the client closes (or the limit) ---
start_badserver endless --dir "$root" --arg 250000
raw "$BAD_PORT" "$GETA" endless
expect_eq "$(header "$work/endless.head" Content-Length)" "" "badserver endless: no Content-Length"
expect_eq "$(stat -c %s "$work/endless.body")" 250000 "badserver endless --arg 250000: stops at the limit"
slice "$work/endless.body" 0 "$size" >"$work/e1"
slice "$work/endless.body" "$size" "$size" >"$work/e2"
expect_file_eq "$work/e1" "$root/fw.bin" "badserver endless: starts with the file"
expect_file_eq "$work/e2" "$root/fw.bin" "badserver endless: and repeats it"
stop_pid "$BAD_PID"
start_badserver endless --dir "$root"
got=$( (set +o pipefail; curl -s --max-time 20 "$BAD_URL/fw.bin" | head -c 3000000 | wc -c) )
expect_eq "$got" 3000000 "badserver endless: keeps streaming past 3 MB"
if wait_line "$BAD_LOG" "client closed" "$BAD_PID" >/dev/null; then
    pass "badserver endless: stops when the client closes"
else
    fail "badserver endless: did not notice the client closing: $(cat "$BAD_LOG")"
fi
stop_pid "$BAD_PID"

# --- redirects ---
start_badserver redirect-loop --dir "$root"
http -o /dev/null -D "$work/bh" "$BAD_URL/fw.bin"
expect_eq "$(status_of "$work/bh") $(header "$work/bh" Location)" "302 /fw.bin?r=1" "badserver redirect-loop: A -> B"
http -o /dev/null -D "$work/bh" "$BAD_URL/fw.bin?r=1"
expect_eq "$(status_of "$work/bh") $(header "$work/bh" Location)" "302 /fw.bin" "badserver redirect-loop: B -> A"
rc=0; curl -s -L --max-redirs 5 -o /dev/null --max-time 20 "$BAD_URL/fw.bin" || rc=$?
expect_eq "$rc" 47 "badserver redirect-loop: curl gives up (too many redirects)"
stop_pid "$BAD_PID"
start_badserver redirect-self --dir "$root"
http -o /dev/null -D "$work/bh" "$BAD_URL/fw.bin"
expect_eq "$(status_of "$work/bh") $(header "$work/bh" Location)" "302 /fw.bin" "badserver redirect-self"
stop_pid "$BAD_PID"
start_badserver redirect-no-location --dir "$root"
http -o /dev/null -D "$work/bh" "$BAD_URL/fw.bin"
expect_eq "$(status_of "$work/bh")" 302 "badserver redirect-no-location: 302"
if grep -qi '^Location:' "$work/bh"; then fail "badserver redirect-no-location: has a Location"; else pass "badserver redirect-no-location: no Location"; fi
stop_pid "$BAD_PID"

# --- garbage-status ---
start_badserver garbage-status --dir "$root"
raw "$BAD_PORT" "$GETA" garbage
case $(head -c 5 "$work/garbage.raw") in HTTP/) fail "badserver garbage-status: status line looks like HTTP" ;; *) pass "badserver garbage-status: the status line is not HTTP" ;; esac
rc=0; curl -s -o /dev/null --max-time 20 "$BAD_URL/fw.bin" || rc=$?
expect_ne "$rc" 0 "badserver garbage-status: curl fails ($rc)"
stop_pid "$BAD_PID"

# --- interim-1xx: 100 and 103, then the right 200 ---
start_badserver interim-1xx --dir "$root"
raw "$BAD_PORT" "$GETA" interim
expect_eq "$(tr -d '\r' <"$work/interim.raw" | grep -a '^HTTP/1' | cut -d' ' -f2 | tr '\n' ' ')" "100 103 200 " "badserver interim-1xx: 100, 103, then 200"
http -o "$work/b" "$BAD_URL/fw.bin"
expect_file_eq "$work/b" "$root/fw.bin" "badserver interim-1xx: curl gets the file"
stop_pid "$BAD_PID"

# --- huge-headers ---
start_badserver huge-headers --dir "$root"
raw "$BAD_PORT" "$GETA" huge
longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$work/huge.head")
[ "$longest" -ge 16384 ] && pass "badserver huge-headers: a header line of $longest bytes" ||
    fail "badserver huge-headers: longest header line is $longest bytes"
http -o "$work/b" "$BAD_URL/fw.bin"
expect_file_eq "$work/b" "$root/fw.bin" "badserver huge-headers: the body is still right"
stop_pid "$BAD_PID"

# --- silent ---
start_badserver silent --dir "$root"
rc=0; got=$(curl -s --max-time 3 -o /dev/null -w '%{size_download} %{http_code}' "$BAD_URL/fw.bin") || rc=$?
expect_eq "$rc $got" "28 0 000" "badserver silent: no answer (curl times out)"
expect_contains "$(cat "$BAD_LOG")" "staying silent" "badserver silent: logged"
stop_pid "$BAD_PID"

# --- http10-close ---
start_badserver http10-close --dir "$root"
raw "$BAD_PORT" "$GETA" h10
expect_eq "$(head -1 "$work/h10.head" | tr -d '\r')" "HTTP/1.0 200 OK" "badserver http10-close: HTTP/1.0 status line"
expect_eq "$(header "$work/h10.head" Content-Length)$(header "$work/h10.head" Transfer-Encoding)" "" "badserver http10-close: no length, not chunked"
expect_file_eq "$work/h10.body" "$root/fw.bin" "badserver http10-close: body ends at the close"
stop_pid "$BAD_PID"

# --- chunked ---
start_badserver chunked --dir "$root"
raw "$BAD_PORT" $'GET /z.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' chunked
expect_eq "$(header "$work/chunked.head" Transfer-Encoding)" chunked "badserver chunked: Transfer-Encoding: chunked"
expect_eq "$(header "$work/chunked.head" Content-Length)" "" "badserver chunked: no Content-Length"
sizes=$(tr -d '\r' <"$work/chunked.body" | sed 's/^z*//' | grep -a -E '^[0-9a-fA-F]+(;.*)?$' | head -7 | tr '\n' '|')
expect_eq "$sizes" '1;ext=0|A;name="q;uoted"|64|1000;ext=3|FFFF;name="q;uoted"|3|1;ext=6|' "badserver chunked: sizes with extensions and mixed-case hex"
expect_contains "$(tail -c 60 "$work/chunked.raw" | tr -d '\r')" $'z\n0;last\nX-Body-Length: 100000' "badserver chunked: last chunk, then a trailer"
expect_eq "$(tail -c 4 "$work/chunked.raw" | od -An -tx1 | tr -d ' ')" "0d0a0d0a" "badserver chunked: the trailer section ends with CRLF CRLF"
http -o "$work/b" "$BAD_URL/fw.bin"
expect_file_eq "$work/b" "$root/fw.bin" "badserver chunked: curl decodes a binary file exactly"
http -o "$work/b" "$BAD_URL/z.txt"
expect_file_eq "$work/b" "$root/z.txt" "badserver chunked: and a text file"
stop_pid "$BAD_PID"

rc=0; "$BADSERVER_BIN" --port 0 --mode no-such-mode 2>"$work/err" || rc=$?
expect_eq "$rc" 2 "badserver: an unknown mode is refused"

finish
