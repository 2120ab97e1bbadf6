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
# and the ratio is fota / nginx.
#
# What is compared: the same files (one release made here), the same clients,
# connections and durations, on loopback; the same number of workers (WORKERS,
# default 4: fota serve --threads, nginx worker_processes); no access log on
# either. Each server as it is best configured: nginx with sendfile on,
# tcp_nopush on (its header leaves corked with the first body bytes) and
# open_file_cache (open files kept, as fota serve keeps them); fota serve with
# its defaults and --quiet, i.e. whole files up to 16 MiB answered from memory
# (--cache-memory, docs/serve.md). Clients and servers share the machine's
# cores.
#
# Then a profile of the image row at 64 connections (wrk), which says where
# the CPU goes per request: server and client CPU time (utime+stime from
# /proc and getrusage) and the client's context switches per request, for
# fota serve as benchmarked, fota serve sending from disk (--cache-memory 0:
# libmicrohttpd's sendfile path, whose header is pushed alone), nginx as
# benchmarked and nginx with tcp_nopush off (its header pushed alone too).
#
#   bench/serve_vs_nginx.sh [--doc FILE] [BUILD_DIR] [SECONDS] [ROUNDS]
#                                            (default: build, 5, 3)
#
# Prints markdown tables; with --doc it also replaces its section of FILE
# (docs/bench.md). Not a test: nothing here passes or fails on speed.
# NGINX_EXTRA adds directives to nginx's http block (experiments, e.g.
# NGINX_EXTRA='sendfile_max_chunk 128k;' gives nginx libmicrohttpd's pieces);
# FOTA_EXTRA adds options to fota serve (e.g. FOTA_EXTRA='--cache-memory 0');
# ONLY=image runs only the image rows; PROFILE=0 skips the profile.
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

# start_fota NAME OPTIONS...: fota serve on a free port; sets fota_url, fota_pid.
start_fota() {
    local name=$1
    shift
    # shellcheck disable=SC2086 # FOTA_EXTRA is a list of options
    "$fota" serve "$work/www" --port 0 --quiet --threads "$workers" ${FOTA_EXTRA:-} "$@" \
        >"$work/$name.out" 2>&1 &
    fota_pid=$!
    pids+=("$fota_pid")
    for _ in $(seq 100); do grep -q listening "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
    fota_url=$(sed -n 's/.*listening on \(http[^ ]*\)\/ serving.*/\1/p' "$work/$name.out")
    [ -n "$fota_url" ] || { echo "bench: fota serve did not start:"; cat "$work/$name.out"; exit 1; }
}
start_fota serve

free_port() {
    local port
    for _ in $(seq 200); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "bench: no free port" >&2; exit 1
}
# start_nginx NAME NOPUSH: nginx on a free port; sets nginx_url, nginx_pid.
start_nginx() {
    local name=$1 nopush=$2 port user_line=
    mkdir -p "$work/$name/tmp"
    port=$(free_port)
    [ "$(id -u)" = 0 ] && user_line="user root;"
    cat >"$work/$name/nginx.conf" <<EOF
$user_line
daemon off;
worker_processes $workers;
pid $work/$name/nginx.pid;
error_log $work/$name/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush $nopush;
    keepalive_requests 1000000;
    open_file_cache max=1000;
    ${NGINX_EXTRA:-}
    client_body_temp_path $work/$name/tmp;
    proxy_temp_path $work/$name/tmp;
    fastcgi_temp_path $work/$name/tmp;
    uwsgi_temp_path $work/$name/tmp;
    scgi_temp_path $work/$name/tmp;
    types { text/plain txt; application/octet-stream bin; }
    default_type application/octet-stream;
    server { listen 127.0.0.1:$port; root $work/www; }
}
EOF
    "$nginx" -p "$work/$name" -c "$work/$name/nginx.conf" -e "$work/$name/error.log" \
        2>"$work/$name/stderr" &
    nginx_pid=$!
    pids+=("$nginx_pid")
    nginx_url=http://127.0.0.1:$port
    for _ in $(seq 100); do curl -s -o /dev/null "$nginx_url/" && break; sleep 0.1; done
}
start_nginx nginx on

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
        # Content-Length, which libmicrohttpd 0.9.75 always sends on a
        # keep-alive 304 (docs/serve.md): h2load only.
        [ $tool = h2load ] && row "manifest 304" $tool 8 "$manifest" yes
    fi
    row "image 200" $tool 8 "$image" ""
    row "image 200" $tool 64 "$image" ""
done

# ---- Profile: CPU per image request, server and client ----------------------
# One wrk run against URL while the server's PIDS are watched: requests per
# second, server CPU ms per request (all its processes and threads, from
# /proc/PID/stat), client CPU ms per request and client context switches per
# request (getrusage of wrk). Prints "- - - -" when wrk fails.
profile_once() { # conns url pids...
    python3 - "$secs" "$@" <<'PY'
import os, re, resource, subprocess, sys
secs, conns, url, pids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
tick = os.sysconf("SC_CLK_TCK")
def server_cpu():
    t = 0
    for p in pids:
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        t += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14, 15)
    return t / tick
r0, s0 = resource.getrusage(resource.RUSAGE_CHILDREN), server_cpu()
out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{secs}s", url],
                     capture_output=True, text=True).stdout
r1, s1 = resource.getrusage(resource.RUSAGE_CHILDREN), server_cpu()
m = re.search(r"(\d+) requests in", out)
rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
n = int(m.group(1)) if m else 0
if not n or not rps or "Non-2xx" in out:
    print("- - - -")
    sys.exit(0)
client = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
switches = (r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw)
print(f"{float(rps.group(1)):.0f} {(s1 - s0) * 1000 / n:.3f} {client * 1000 / n:.3f} {switches / n:.2f}")
PY
}
plabels=() purls=() ppids=() prows=()
profile_add() { plabels+=("$1"); purls+=("$2"); ppids+=("$3"); }
# Alternating, like the rows above: round r measures every set-up once.
profile_run() {
    local i r a b c d
    declare -A rps srv cli sw
    for r in $(seq "$rounds"); do
        for i in "${!plabels[@]}"; do
            # shellcheck disable=SC2086 # ppids holds a list of PIDs
            read -r a b c d < <(profile_once 64 "${purls[$i]}" ${ppids[$i]})
            rps[$i]+="$a " srv[$i]+="$b " cli[$i]+="$c " sw[$i]+="$d "
        done
    done
    for i in "${!plabels[@]}"; do
        local ms mc both
        # shellcheck disable=SC2086
        ms=$(median ${srv[$i]})
        # shellcheck disable=SC2086
        mc=$(median ${cli[$i]})
        both=$(if [ "$ms" = - ] || [ "$mc" = - ]; then echo -; else python3 -c "print(f'{$ms + $mc:.3f}')"; fi)
        # shellcheck disable=SC2086
        prows+=("| ${plabels[$i]} | $(fmt "$(median ${rps[$i]})") | $ms | $mc | $both | $(median ${sw[$i]}) |")
    done
}
if [ "${PROFILE:-1}" != 0 ]; then
    main_fota=("$fota_url" "$fota_pid") main_nginx=("$nginx_url" "$nginx_pid")
    start_fota disk --cache-memory 0
    start_nginx nginx-push off
    for u in "$fota_url" "$nginx_url"; do
        cmp -s <(curl -s "$u$image") "$work/www$image" || { echo "bench: $u serves a different image"; exit 1; }
    done
    # nginx's workers are the master's children; the master serves nothing.
    profile_add "fota serve, as benchmarked (whole file from memory)" "${main_fota[0]}$image" "${main_fota[1]}"
    profile_add "fota serve --cache-memory 0 (sendfile, header pushed alone)" "$fota_url$image" "$fota_pid"
    profile_add "nginx, as benchmarked (sendfile, tcp_nopush on)" "${main_nginx[0]}$image" "$(pgrep -P "${main_nginx[1]}" | tr '\n' ' ')"
    profile_add "nginx, tcp_nopush off (sendfile, header pushed alone)" "$nginx_url$image" "$(pgrep -P "$nginx_pid" | tr '\n' ' ')"
    profile_run
fi

report() {
    echo "| request | client | connections | fota serve (req/s) | nginx (req/s) | ratio |"
    echo "| --- | --- | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "median of $rounds alternating runs of ${secs} s; image $((1536 * 1024)) bytes;" \
        "$workers workers each; nginx $("$nginx" -v 2>&1 | sed 's/.*nginx\///'); machine:" \
        "$(nproc) cores, $(uname -m), load average $load at the start (other jobs share it);" \
        "date: $(date -u +%Y-%m-%d)"
    [ ${#prows[@]} -gt 0 ] || return 0
    echo
    echo "Profile of the image row, wrk, 64 connections: median of $rounds alternating runs of"
    echo "${secs} s; CPU time per request (the client is wrk: its CPU includes the kernel's"
    echo "receive work and any TCP transmission that runs in its context):"
    echo
    echo "| server | req/s | server CPU (ms/req) | client CPU (ms/req) | both (ms/req) | client context switches/req |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: |"
    printf '%s\n' "${prows[@]}"
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
304 is measured with h2load only: libmicrohttpd 0.9.75 puts the 200's
Content-Length on a 304 (RFC 9110 8.6 allows it; docs/serve.md shows from its
source that it cannot be left out without closing the connection) and wrk then
waits for a body that never comes.

An image is answered from memory (files up to 16 MiB, `--cache-memory`): one
shared response, header and body leaving in one `sendmsg`. The profile shows
why. From a file descriptor, libmicrohttpd sends the header alone and pushes
it (TCP_CORK off) before the first `sendfile` piece, so the client wakes for
the header and again for the body; nginx with `tcp_nopush off` does the same.
The two set-ups that push the header alone cost the client more CPU per
request (and, as a rule, more context switches) than the two that send header
and body together, while the server's own CPU per request differs far less
than the client's between all four: the sendfile path's gap is the client's second wake-up (a
costly thing on this virtual machine), not the 128 KiB `sendfile` pieces or
the thread count (nginx held to libmicrohttpd's pieces,
`NGINX_EXTRA='sendfile_max_chunk 128k;' ONLY=image`, keeps its speed).
Answering from memory costs the server one copy of the body per request (its
CPU per request is a little above nginx's) and saves the client that wake-up.
The machine is shared with other jobs: single rows swing by a factor of two
between runs, which is why each figure is a median of alternating runs.
EOF2
    } | doc_section "$doc" serve_vs_nginx
fi
