#!/usr/bin/env bash
# Benchmark: `fota serve` against nginx, side by side on loopback, serving
# the same release (a signed manifest and a 1.5 MiB image):
#
#   - manifest, 200 (GET, 8 connections)
#   - manifest, 304 (GET with If-None-Match: the current ETag, 8 connections)
#   - image, 200 (GET of the whole image, 8 and 64 connections)
#
# each with wrk and with h2load (HTTP/1.1), the two servers alternating for
# ROUNDS rounds of SECONDS each; the figure is the median requests per second
# and the ratio is fota / nginx. Both servers get the same number of workers
# (WORKERS, default 4: fota serve --threads, nginx worker_processes), sendfile, no
# access log; nginx also keeps open files (open_file_cache), as fota serve
# does. Clients and servers share the machine's cores.
#
#   bench/serve_vs_nginx.sh [--doc FILE] [BUILD_DIR] [SECONDS] [ROUNDS]
#                                            (default: build, 5, 3)
#
# Prints a markdown table; with --doc it also replaces its section of FILE
# (docs/bench.md). Not a test: nothing here passes or fails on speed.
# NGINX_EXTRA adds directives to nginx's http block (experiments, e.g.
# NGINX_EXTRA='sendfile_max_chunk 128k;' gives nginx libmicrohttpd's pieces);
# ONLY=image runs only the image rows.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/doc_section.sh"
doc=
if [ "${1:-}" = --doc ]; then doc=$2; shift 2; fi
build=${1:-$top/build}
secs=${2:-5}
rounds=${3:-3}
workers=${WORKERS:-4} # fota serve --threads (default 4) and nginx worker_processes
fota=$build/tools/fota
nginx=${NGINX_BIN:-/usr/sbin/nginx}
for t in wrk h2load curl python3; do
    command -v $t >/dev/null || { echo "bench: $t is missing (scripts/deps.sh bench)"; exit 1; }
done
[ -x "$nginx" ] || { echo "bench: nginx is missing (scripts/deps.sh test)"; exit 1; }
[ -x "$fota" ] || { echo "bench: build first ($fota missing)"; exit 1; }

load=$(cut -d' ' -f1 /proc/loadavg)
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
"$fota" keygen -o "$work/key" >/dev/null
"$fota" mkimage --chip esp32 --project bench --version 2.0.0 --size $((1536 * 1024)) \
    -o "$work/v2.bin" >/dev/null
"$fota" release --key "$work/key.key" --product bench --out "$work/www" "$work/v2.bin" >/dev/null

"$fota" serve "$work/www" --port 0 --quiet --threads "$workers" >"$work/serve.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
fota_url=$(sed -n 's/.*listening on \(http[^ ]*\)\/ serving.*/\1/p' "$work/serve.out")
[ -n "$fota_url" ] || { echo "bench: fota serve did not start:"; cat "$work/serve.out"; exit 1; }

free_port() {
    local port
    for _ in $(seq 200); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "bench: no free port" >&2; exit 1
}
mkdir -p "$work/nginx/tmp"
port=$(free_port)
user_line=
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$work/nginx/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes $workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=1000;
    ${NGINX_EXTRA:-}
    client_body_temp_path $work/nginx/tmp;
    proxy_temp_path $work/nginx/tmp;
    fastcgi_temp_path $work/nginx/tmp;
    uwsgi_temp_path $work/nginx/tmp;
    scgi_temp_path $work/nginx/tmp;
    types { text/plain txt; application/octet-stream bin; }
    default_type application/octet-stream;
    server { listen 127.0.0.1:$port; root $work/www; }
}
EOF
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" 2>"$work/nginx/stderr" &
pids+=($!)
nginx_url=http://127.0.0.1:$port
for _ in $(seq 100); do curl -s -o /dev/null "$nginx_url/" && break; sleep 0.1; done

manifest=/bench/manifest.txt
image=/bench/firmware/bench-2.0.0.bin
etag_of() { curl -s -o /dev/null -D - "$1" | tr -d '\r' | sed -n 's/^etag: //Ip'; }
fota_etag=$(etag_of "$fota_url$manifest")
nginx_etag=$(etag_of "$nginx_url$manifest")
for u in "$fota_url" "$nginx_url"; do
    cmp -s <(curl -s "$u$image") "$work/www$image" || { echo "bench: $u serves a different image"; exit 1; }
done

# One measurement: requests per second, or "-" when the tool fails.
# $1 tool, $2 connections, $3 URL, $4 If-None-Match value or "".
measure() {
    local tool=$1 conns=$2 url=$3 inm=$4 out
    local hdr=()
    [ -n "$inm" ] && hdr=(-H "If-None-Match: $inm")
    case $tool in
    wrk)
        out=$(wrk -t2 -c"$conns" -d"${secs}s" "${hdr[@]}" "$url" 2>&1) || true
        # wrk counts only completed responses; non-2xx/3xx show up here.
        if grep -q "Non-2xx or 3xx" <<<"$out"; then echo "-"; return; fi
        awk '/^Requests\/sec:/ {print $2}' <<<"$out" | grep . || echo "-"
        ;;
    h2load)
        out=$(h2load --h1 -t2 -c"$conns" -D "$secs" "${hdr[@]}" "$url" 2>&1) || true
        sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out" | grep . || echo "-"
        ;;
    esac
}
median() { printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "-"}'; }
ratio() { if [ "$1" = - ] || [ "$2" = - ]; then echo "-"; else python3 -c "print(f'{$1/$2:.2f}')"; fi; }
fmt() { if [ "$1" = - ]; then echo "-"; else printf '%.0f' "$1"; fi; }

rows=()
summary=()
row() { # label tool conns path inm?
    local label=$1 tool=$2 conns=$3 path=$4 conditional=$5 f=() n=() fm nm r
    for _ in $(seq "$rounds"); do
        f+=("$(measure "$tool" "$conns" "$fota_url$path" "${conditional:+$fota_etag}")")
        n+=("$(measure "$tool" "$conns" "$nginx_url$path" "${conditional:+$nginx_etag}")")
    done
    fm=$(median "${f[@]}")
    nm=$(median "${n[@]}")
    r=$(ratio "$fm" "$nm")
    rows+=("| $label | $tool | $conns | $(fmt "$fm") | $(fmt "$nm") | $r |")
    summary+=("$label/$tool/$conns=$r")
}
for tool in wrk h2load; do
    if [ "${ONLY:-}" != image ]; then
        row "manifest 200" $tool 8 "$manifest" ""
        # wrk (http_parser) waits for a body after a 304 that carries a
        # Content-Length, which libmicrohttpd always sends: h2load only.
        [ $tool = h2load ] && row "manifest 304" $tool 8 "$manifest" yes
    fi
    row "image 200" $tool 8 "$image" ""
    row "image 200" $tool 64 "$image" ""
done

report() {
    echo "| request | client | connections | fota serve (req/s) | nginx (req/s) | ratio |"
    echo "| --- | --- | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "median of $rounds alternating runs of ${secs} s; image $((1536 * 1024)) bytes;" \
        "$workers workers each; nginx $("$nginx" -v 2>&1 | sed 's/.*nginx\///'); machine:" \
        "$(nproc) cores, $(uname -m), load average $load at the start (other jobs share it);" \
        "date: $(date -u +%Y-%m-%d)"
}
report
echo "ratios: ${summary[*]}"
if [ -n "$doc" ]; then
    {
        echo "## fota serve vs nginx"
        echo
        echo "Regenerated by \`bench/serve_vs_nginx.sh --doc docs/bench.md\` (ratio = fota / nginx,"
        echo "requests per second; see the script's header for the set-up)."
        echo
        report
        cat <<'EOF2'

Reading it: fota serve answers a manifest from its open-file cache (docs/serve.md):
a 200 is one receive and one send (header and body together), a 304 the same
with no file-system call; with `--quiet` nothing is formatted for the log. A
304 is measured with h2load only: libmicrohttpd puts the 200's Content-Length
on a 304 (RFC 9110 8.6 allows it) and wrk then waits for a body that never
comes. An image is sent with `sendfile` in libmicrohttpd's fixed 128 KiB pieces
(its thread-pool mode), one epoll round between pieces, from a response made
per request (a shared file response would serialise all connections on
libmicrohttpd's response lock, which it holds around `sendfile`). What is left
of the image gap is not the piece size: nginx held to the same pieces
(`NGINX_EXTRA='sendfile_max_chunk 128k;' ONLY=image bench/serve_vs_nginx.sh`)
stays ahead there, and the worker count (`WORKERS=2`) does not change it; a
profile of fota serve during that run (`perf record -g -p PID`) shows it
mostly idle, its few samples in the kernel's sendfile and scheduler. The gap
lies in how libmicrohttpd schedules its connections' pieces, which fota serve
does not control (libmicrohttpd 0.9.75, Debian 12).
EOF2
    } | doc_section "$doc" serve_vs_nginx
fi
