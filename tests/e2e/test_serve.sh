#!/usr/bin/env bash
# fota serve, checked from the outside with curl and raw sockets: bodies,
# HEAD, ETags, conditional and range requests, path traversal, methods,
# HTTP/1.0 framing, keep-alive, concurrency, the access log and shutdown.
. "$(dirname "$0")/lib.sh"
require_tools curl sha256sum cmp

work=$(fota_tmpdir)
root=$work/root
mkdir -p "$root/sub" "$work/outside"
printf 'hello world\n' >"$root/a.txt"
printf '2019081901\n' >"$root/AABBCCDDEEFF.version"
head -c 300000 /dev/urandom >"$root/fw.bin"
head -c 5000000 /dev/urandom >"$root/big.bin"
printf 'nested\n' >"$root/sub/n.txt"
echo "TOP-SECRET-OUTSIDE" >"$work/outside/secret.txt"
echo "TOP-SECRET-OUTSIDE" >"$work/secret.txt"
ln -s ../outside/secret.txt "$root/escape"  # file symlink leaving DIR
ln -s ../outside "$root/outdir"             # directory symlink leaving DIR
ln -s "$work/secret.txt" "$root/abs-escape" # absolute symlink

# --max-per-address: the 1100-connection check below comes from one address
start_fota_serve "$root" --max-per-address 2000
U=$SERVE_URL
size=$(stat -c %s "$root/fw.bin")

# headers FILE NAME: value of header NAME in a curl -D dump (last response)
header() { tr -d '\r' <"$1" | awk -v n="$(printf '%s' "$2" | tr 'A-Z' 'a-z')" -F': ' \
    'tolower($1) == n { v = substr($0, length($1) + 3) } END { print v }'; }

# ---- GET, HEAD, content types ----------------------------------------------
http -o "$work/got" -D "$work/h" "$U/fw.bin"
expect_file_eq "$work/got" "$root/fw.bin" "GET returns the file byte for byte"
expect_eq "$(header "$work/h" Content-Length)" "$size" "GET Content-Length is the file size"
expect_eq "$(header "$work/h" Content-Type)" "application/octet-stream" ".bin is application/octet-stream"
expect_eq "$(header "$work/h" Accept-Ranges)" "bytes" "Accept-Ranges: bytes"
expect_eq "$(header "$work/h" Transfer-Encoding)" "" "no Transfer-Encoding on a file"
http -o "$work/got" "$U/big.bin"
expect_file_eq "$work/got" "$root/big.bin" "GET of a 5 MB file is exact"
http -o "$work/got" -D "$work/h" "$U/sub/n.txt"
expect_file_eq "$work/got" "$root/sub/n.txt" "GET of a file in a subdirectory"
expect_eq "$(header "$work/h" Content-Type)" "text/plain" ".txt is text/plain"
http -o /dev/null -D "$work/h" "$U/AABBCCDDEEFF.version"
expect_eq "$(header "$work/h" Content-Type)" "text/plain" ".version is text/plain"

# HEAD through a raw HTTP/1.0 socket: the server closes after the headers,
# so anything after the blank line would be a body that must not be there.
http_raw "$SERVE_PORT" $'HEAD /fw.bin HTTP/1.0\r\n\r\n' >"$work/raw"
split_http_response "$work/raw" "$work/raw-head" "$work/raw-body"
expect_contains "$(head -1 "$work/raw-head")" " 200 " "HEAD is 200"
expect_eq "$(header "$work/raw-head" Content-Length)" "$size" "HEAD has the file's Content-Length"
expect_eq "$(stat -c %s "$work/raw-body")" "0" "HEAD response has no body"

# ---- HTTP/1.0 like the stock ESP8266 updater: exact length, never chunked --
http_raw "$SERVE_PORT" $'GET /fw.bin HTTP/1.0\r\nUser-Agent: ESP8266-http-Update\r\nConnection: close\r\nx-ESP8266-mode: sketch\r\n\r\n' >"$work/raw"
split_http_response "$work/raw" "$work/raw-head" "$work/raw-body"
expect_file_eq "$work/raw-body" "$root/fw.bin" "HTTP/1.0 GET body is the file"
expect_eq "$(header "$work/raw-head" Content-Length)" "$size" "HTTP/1.0 response has Content-Length"
expect_eq "$(header "$work/raw-head" Transfer-Encoding)" "" "HTTP/1.0 response is not chunked"
expect_eq "$(header "$work/raw-head" Connection)" "close" "HTTP/1.0 response closes the connection"

# ---- ETag -------------------------------------------------------------------
http -o /dev/null -D "$work/h" "$U/a.txt"
etag1=$(header "$work/h" ETag)
http -o /dev/null -D "$work/h" "$U/a.txt"
expect_eq "$(header "$work/h" ETag)" "$etag1" "ETag is stable"
want="\"$(sha256sum "$root/a.txt" | cut -c1-32)\""
expect_eq "$etag1" "$want" "ETag is the quoted 32-hex prefix of the content's SHA-256"
http -o /dev/null -D "$work/h" "$U/fw.bin"
expect_ne "$(header "$work/h" ETag)" "$etag1" "different files have different ETags"

# A release rewrites its manifest by rename: the next request must see a new ETag.
printf 'hello there\n' >"$root/a.txt.new"
mv "$root/a.txt.new" "$root/a.txt"
http -o "$work/got" -D "$work/h" "$U/a.txt"
etag2=$(header "$work/h" ETag)
expect_ne "$etag2" "$etag1" "ETag changes when the file is replaced by rename"
expect_eq "$etag2" "\"$(sha256sum "$root/a.txt" | cut -c1-32)\"" "new ETag matches the new content"
expect_file_eq "$work/got" "$root/a.txt" "replaced file is served"
# Rewritten in place, same size: mtime/ctime change, so the ETag does too.
printf 'HELLO THERE\n' >"$root/a.txt"
http -o /dev/null -D "$work/h" "$U/a.txt"
etag3=$(header "$work/h" ETag)
expect_eq "$etag3" "\"$(sha256sum "$root/a.txt" | cut -c1-32)\"" "ETag follows an in-place rewrite of the same size"
# fota serve keeps files open and their answers built (tools/serve_cache.c):
# an image (held in memory, see --cache-memory below) replaced by rename, in
# a subdirectory, is served new at once, with its new ETag, after a 304
# under the old one was answered from the cache.
head -c 200000 /dev/urandom >"$root/sub/img.bin"
http -o /dev/null -D "$work/h" "$U/sub/img.bin"
img_etag1=$(header "$work/h" ETag)
expect_eq "$(http_code "$U/sub/img.bin" -H "If-None-Match: $img_etag1")" "304" "cached image: 304 under its ETag"
head -c 250000 /dev/urandom >"$work/img.new"
cp "$work/img.new" "$root/sub/img.bin.tmp"
mv "$root/sub/img.bin.tmp" "$root/sub/img.bin"
http -o "$work/got" -D "$work/h" -H "If-None-Match: $img_etag1" "$U/sub/img.bin"
expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "200" "replaced image: the old ETag no longer matches"
expect_file_eq "$work/got" "$work/img.new" "replaced image: the new content"
expect_eq "$(header "$work/h" ETag)" "\"$(sha256sum "$work/img.new" | cut -c1-32)\"" "replaced image: the new ETag"
expect_eq "$(header "$work/h" Content-Length)" "250000" "replaced image: the new length"
rm "$root/sub/img.bin"
expect_eq "$(http_code "$U/sub/img.bin")" "404" "deleted image: 404 at once"

# ---- If-None-Match ------------------------------------------------------------
rm -f "$work/got" # curl leaves an existing file alone when no body arrives
http -o "$work/got" -D "$work/h" -H "If-None-Match: $etag3" "$U/a.txt"
expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "304" "If-None-Match with the ETag -> 304"
expect_eq "$(stat -c %s "$work/got" 2>/dev/null || echo 0)" "0" "304 has no body"
expect_eq "$(header "$work/h" ETag)" "$etag3" "304 carries the ETag"
# libmicrohttpd 0.9.75 puts a Content-Length (or a chunked Transfer-Encoding)
# on every 304 it keeps the connection open after (docs/serve.md says where
# in its source); RFC 9110 8.6 allows only the length a 200 would have.
expect_eq "$(header "$work/h" Content-Length)" "$(stat -c %s "$root/a.txt")" "304: Content-Length, if any, is the 200's"
expect_eq "$(header "$work/h" Transfer-Encoding)" "" "304: no Transfer-Encoding"
# No body after a 304, byte-exact: a 304 and a 200 pipelined on one
# connection; the 200's status line must follow the 304's empty line at once.
# Once for a manifest-sized file and once for an image (a 304's announced
# length is then 250000, a body that must not come).
head -c 250000 /dev/urandom >"$root/sub/img304.bin"
for f in a.txt sub/img304.bin; do
    e=$(curl -s -o /dev/null -D - "$U/$f" | tr -d '\r' | sed -n 's/^etag: //Ip')
    http_raw "$SERVE_PORT" "GET /$f HTTP/1.1"$'\r\nHost: x\r\nIf-None-Match: '"$e"$'\r\n\r\n'"GET /$f HTTP/1.1"$'\r\nHost: x\r\nConnection: close\r\n\r\n' >"$work/raw"
    split_http_response "$work/raw" "$work/raw-head" "$work/raw-rest"
    expect_contains "$(head -1 "$work/raw-head")" " 304 " "$f: pipelined conditional GET is 304"
    expect_eq "$(head -c 15 "$work/raw-rest")" "HTTP/1.1 200 OK" "$f: the next response follows the 304's header at once (no 304 body)"
    split_http_response "$work/raw-rest" "$work/raw-head2" "$work/raw-body2"
    expect_file_eq "$work/raw-body2" "$root/$f" "$f: the 200 after the 304 is the whole file"
done
expect_eq "$(http_code "$U/a.txt" -H "If-None-Match: \"nope\", W/$etag3")" "304" "If-None-Match list with a weak match -> 304"
expect_eq "$(http_code "$U/a.txt" -H 'If-None-Match: *')" "304" "If-None-Match: * -> 304"
expect_eq "$(http_code "$U/a.txt" -H "If-None-Match: $etag1")" "200" "If-None-Match with an old ETag -> 200"
expect_eq "$(http_code "$U/missing.txt" -H 'If-None-Match: *')" "404" "If-None-Match: * on a missing file -> 404"

# ---- Range -----------------------------------------------------------------------
# range_check SPEC FIRST LAST: expect 206 with exactly bytes FIRST..LAST of fw.bin
range_check() {
    local spec=$1 first=$2 last=$3
    http -o "$work/part" -D "$work/h" -H "Range: $spec" "$U/fw.bin"
    slice "$root/fw.bin" "$first" "$((last - first + 1))" >"$work/want"
    expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "206" "Range $spec -> 206"
    expect_file_eq "$work/part" "$work/want" "Range $spec returns bytes $first-$last"
    expect_eq "$(header "$work/h" Content-Range)" "bytes $first-$last/$size" "Range $spec Content-Range"
    expect_eq "$(header "$work/h" Content-Length)" "$((last - first + 1))" "Range $spec Content-Length"
}
range_check "bytes=0-99" 0 99
range_check "bytes=1000-" 1000 $((size - 1))
range_check "bytes=-100" $((size - 100)) $((size - 1))
range_check "bytes=$((size - 10))-$((size + 1000))" $((size - 10)) $((size - 1))
range_check "bytes=-$((size * 2))" 0 $((size - 1))
range_check "bytes=7-7" 7 7

http -o "$work/got" -D "$work/h" -H "Range: bytes=$size-" "$U/fw.bin"
expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "416" "Range starting at the size -> 416"
expect_eq "$(header "$work/h" Content-Range)" "bytes */$size" "416 has Content-Range: bytes */SIZE"
expect_eq "$(http_code "$U/fw.bin" -H 'Range: bytes=-0')" "416" "Range bytes=-0 -> 416"
for spec in "bytes=0-1,5-9" "bytes=abc" "bytes=5-2" "items=0-1" "bytes=1-2x"; do
    http -o "$work/got" -D "$work/h" -H "Range: $spec" "$U/fw.bin"
    expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "200" "Range '$spec' ignored -> 200"
    expect_file_eq "$work/got" "$root/fw.bin" "Range '$spec' ignored -> whole file"
done
http -o /dev/null -D "$work/h" -I -H "Range: bytes=0-9" "$U/fw.bin"
expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "200" "HEAD ignores Range (RFC 9110 14.2)"

# ---- If-Range ----------------------------------------------------------------------
fw_etag=$(http -o /dev/null -D - "$U/fw.bin" | tr -d '\r' | sed -n 's/^ETag: //Ip')
http -o "$work/part" -D "$work/h" -H "Range: bytes=10-19" -H "If-Range: $fw_etag" "$U/fw.bin"
expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "206" "If-Range with the current ETag -> 206"
expect_eq "$(stat -c %s "$work/part")" "10" "If-Range match sends the range"
for ir in '"0123456789abcdef0123456789abcdef"' "W/$fw_etag" "Tue, 24 Nov 2026 10:00:00 GMT"; do
    http -o "$work/got" -D "$work/h" -H "Range: bytes=10-19" -H "If-Range: $ir" "$U/fw.bin"
    expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "200" "If-Range '$ir' does not match -> 200"
    expect_file_eq "$work/got" "$root/fw.bin" "If-Range mismatch sends the whole file"
done

# ---- Path traversal and other refused targets ---------------------------------------
# refused TARGET CODE: raw target (curl --path-as-is, no normalisation)
refused() {
    local target=$1 code=$2
    http -o "$work/got" -D "$work/h" --path-as-is --request-target "$target" "$U/" || true
    expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "$code" "target '$target' -> $code"
    if grep -q "TOP-SECRET\|root:" "$work/got"; then
        fail "target '$target' leaked data from outside DIR"
    fi
}
refused "/../secret.txt" 400
refused "/../outside/secret.txt" 400
refused "/sub/../../secret.txt" 400
refused "/%2e%2e/secret.txt" 400
refused "/%2E%2E/%2e%2e/secret.txt" 400
refused "/sub/%2e%2e/a.txt" 400
refused "/./a.txt" 400
refused "/%2e/a.txt" 400
refused "/sub%2f..%2f..%2fsecret.txt" 400
refused "/%2fetc%2fpasswd" 400
refused "/..%5csecret.txt" 400
refused '/sub\..\a.txt' 400
refused "/a.txt%00.bin" 400
refused "/%00" 400
refused "/a%zz" 400
refused "/a%4" 400
refused "http://127.0.0.1/../secret.txt" 400
refused "http://evil.example/%2e%2e/secret.txt" 400
refused "//etc/passwd" 404
refused "///etc/passwd" 404
refused "/escape" 404
refused "/abs-escape" 404
refused "/outdir/secret.txt" 404
refused "/sub" 404
refused "/sub/" 404
refused "/" 404
refused "/missing.bin" 404
refused "*" 400
# Accepted forms of the same files, so the refusals above are not blanket.
expect_eq "$(http_code "$U/" --request-target "http://any.host/sub/n.txt")" "200" "absolute-form target is served (RFC 9112 3.2.2)"
expect_eq "$(http_code "$U/" --path-as-is --request-target "//sub//n.txt")" "200" "empty segments are skipped"
expect_eq "$(http_code "$U/" --request-target "/sub/%6e.txt")" "200" "percent-escaped letters are decoded"
expect_eq "$(http_code "$U/" --request-target "/sub/n.txt?x=../../secret")" "200" "query string is ignored"

# ---- Methods -------------------------------------------------------------------------
for m in POST PUT DELETE OPTIONS PATCH; do
    http -o /dev/null -D "$work/h" -X "$m" -d 'payload' "$U/a.txt"
    expect_eq "$(head -1 "$work/h" | cut -d' ' -f2)" "405" "$m -> 405"
    expect_eq "$(header "$work/h" Allow)" "GET, HEAD" "$m 405 carries Allow: GET, HEAD"
done
expect_eq "$(cat "$root/a.txt")" "HELLO THERE" "POST/PUT did not change the file"

# ---- Keep-alive and concurrency ------------------------------------------------------
conns=$(curl -s --max-time 20 -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' \
    "$U/a.txt" "$U/fw.bin" "$U/sub/n.txt" | tr '\n' ' ')
expect_eq "$conns" "1 0 0 " "three GETs share one keep-alive connection"
pids=()
for i in $(seq 1 40); do
    curl -s --max-time 60 -o "$work/par.$i" "$U/big.bin" &
    pids+=($!)
done
okcount=0
for i in $(seq 1 40); do
    wait "${pids[$((i - 1))]}" || true
    cmp -s "$work/par.$i" "$root/big.bin" && okcount=$((okcount + 1))
done
expect_eq "$okcount" "40" "40 parallel downloads of 5 MB are all exact"
rm -f "$work"/par.*

# More simultaneous keep-alive connections than select() could hold (1020 is
# libmicrohttpd's default limit): all 1100 stay open until every one has had
# its answer, so a server that stopped accepting at 1020 would leave the last
# ones unanswered (each read gives up after 10 s). Python, because bash's
# read -t cannot watch descriptors above 1023.
if command -v python3 >/dev/null && ulimit -n 4096 2>/dev/null; then
    answered=$(python3 - "$SERVE_PORT" <<'EOF'
import socket, sys
port = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(1100)]
for c in conns:
    c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
answered = 0
for c in conns:
    data = b""
    try:
        while not data.endswith(b"\r\n\r\nHELLO THERE\n"):
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    answered += data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"HELLO THERE\n")
print(answered)
EOF
)
    expect_eq "$answered" 1100 "1100 simultaneous keep-alive connections are all answered"
else
    note "no python3 or cannot raise the open-file limit: 1100-connection check skipped"
fi

# ---- Whole files from memory or from disk (--cache-memory) --------------------------------
# The same answers whether a file is held in memory (default, files up to
# 16 MiB within 256 MiB) or sent with sendfile: --cache-memory 0 holds only
# files up to 64 KiB; --cache-memory 1 holds fw.bin (300 kB) and leaves
# big.bin (5 MB, over the 1 MiB budget) on disk.
main_serve=($SERVE_PID "$SERVE_LOG" "$SERVE_PORT" "$U")
for mem in 0 1; do
    start_fota_serve "$root" --quiet --cache-memory "$mem"
    for f in fw.bin big.bin a.txt; do
        http -o "$work/got" -D "$work/h" "$SERVE_URL/$f"
        expect_file_eq "$work/got" "$root/$f" "--cache-memory $mem: GET $f is exact"
        expect_eq "$(header "$work/h" Content-Length)" "$(stat -c %s "$root/$f")" "--cache-memory $mem: $f Content-Length"
    done
    expect_eq "$(http_code "$SERVE_URL/big.bin" -r 4999990-)" "206" "--cache-memory $mem: a range of big.bin"
    pids=()
    for i in 1 2 3 4; do
        curl -s --max-time 60 -o "$work/par.$i" "$SERVE_URL/big.bin" &
        pids+=($!)
    done
    okcount=0
    for i in 1 2 3 4; do
        wait "${pids[$((i - 1))]}" || true
        cmp -s "$work/par.$i" "$root/big.bin" && okcount=$((okcount + 1))
    done
    expect_eq "$okcount" "4" "--cache-memory $mem: 4 parallel downloads of big.bin are exact"
    rm -f "$work"/par.*
    stop_pid "$SERVE_PID"
done
rc=0; "$FOTA_BIN" serve --port 0 --cache-memory -1 "$root" >/dev/null 2>"$work/err" || rc=$?
expect_eq "$rc" "2" "bad --cache-memory -> exit 2"
expect_contains "$(cat "$work/err")" "--cache-memory -1: expected" "bad --cache-memory is named"
SERVE_PID=${main_serve[0]} SERVE_LOG=${main_serve[1]} SERVE_PORT=${main_serve[2]} SERVE_URL=${main_serve[3]}

# ---- Access log (stderr by default) ------------------------------------------------------
log=$(cat "$SERVE_LOG")
expect_contains "$log" "GET /fw.bin 200 $size " "log: GET with status and bytes"
expect_contains "$log" "HEAD /fw.bin 200 0 " "log: HEAD with 0 bytes"
expect_contains "$log" "GET /fw.bin 206 100 range=\"bytes=0-99\" ua=\"curl/" "log: 206 with range and user agent"
expect_contains "$log" "GET /a.txt 304 0 " "log: 304"
expect_contains "$log" "GET /fw.bin 416 " "log: 416"
expect_contains "$log" "GET /%2e%2e/secret.txt 400 " "log: traversal refused with 400"
expect_contains "$log" "note=\"dot segment in path\"" "log: says why a target was refused"
expect_contains "$log" "GET /escape 404 " "log: symlink refused with 404"
expect_contains "$log" "note=\"symlink refused: escape\"" "log: names the refused symlink"
expect_contains "$log" "POST /a.txt 405 " "log: 405"
expect_contains "$log" "ua=\"ESP8266-http-Update\"" "log: user agent of the raw HTTP/1.0 request"
expect_contains "$log" " 127.0.0.1:" "log: remote address"
if grep -qvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (127\.0\.0\.1|\[::1\]):[0-9]+ ' "$SERVE_LOG"; then
    fail "log: every line starts with a UTC time and the peer: $(grep -vE '^[0-9]{4}-' "$SERVE_LOG" | head -2)"
else
    pass "log: every line starts with a UTC time and the peer"
fi

# ---- Stop cleanly on SIGTERM ------------------------------------------------------------
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
expect_eq "$rc" "0" "SIGTERM stops fota serve with status 0"
expect_contains "$(cat "$SERVE_LOG")" "fota serve: stopped by SIGTERM" "fota serve says it stopped"

# ---- Options: --access-log FILE, --quiet, bad arguments -----------------------------------
start_fota_serve "$root" --access-log "$work/access.log"
http -o /dev/null -A probe-agent "$SERVE_URL/a.txt"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true
expect_contains "$(cat "$work/access.log")" "GET /a.txt 200 12 range=\"-\" ua=\"probe-agent\" end=ok" "--access-log FILE gets the line"
expect_eq "$(grep -c ' GET ' "$SERVE_LOG" || true)" "0" "--access-log keeps stderr free of request lines"

start_fota_serve "$root" --quiet
http -o /dev/null "$SERVE_URL/a.txt"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true
expect_eq "$(cat "$SERVE_LOG")" "" "--quiet writes nothing to stderr"

# IPv6 loopback, where the machine has it configured.
if [ -r /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
    start_fota_serve "$root" --bind ::1
    expect_contains "$SERVE_URL" "http://[::1]:" "--bind ::1: the listening line has the bracketed address"
    http -o "$work/got" "$SERVE_URL/fw.bin"
    expect_file_eq "$work/got" "$root/fw.bin" "--bind ::1: GET works over IPv6"
    expect_contains "$(cat "$SERVE_LOG")" " [::1]:" "--bind ::1: the log shows the IPv6 peer"
    stop_pid "$SERVE_PID"
else
    note "no IPv6 loopback here: --bind ::1 not checked"
fi

rc=0; "$FOTA_BIN" serve --port 0 "$work/no-such-dir" >/dev/null 2>"$work/err" || rc=$?
expect_eq "$rc" "1" "missing DIR -> exit 1"
expect_contains "$(cat "$work/err")" "cannot open directory $work/no-such-dir" "missing DIR is named"
rc=0; "$FOTA_BIN" serve --port 70000 "$root" >/dev/null 2>"$work/err" || rc=$?
expect_eq "$rc" "2" "bad --port -> exit 2"
rc=0; "$FOTA_BIN" serve --bind localhost "$root" >/dev/null 2>"$work/err" || rc=$?
expect_contains "$(cat "$work/err")" "not a numeric IPv4 or IPv6 address" "non-numeric --bind is refused"

finish
