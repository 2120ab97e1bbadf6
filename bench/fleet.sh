#!/usr/bin/env bash
# Benchmark: 10,000 distinct devices checking in (wrk, one Fota-Id per
# request, cycling through the 10,000) against
#   - nginx serving the same manifest as a static file (the floor: it
#     records nothing and decides nothing),
#   - fota serve --fleet on SQLite (one instance),
#   - two fota serve --fleet instances on one PostgreSQL, behind nginx.
# A rollout of 1% of the fleet is running, so each check-in is decided (most
# get 304, the wave gets the manifest). The fleet is known: every device
# checks in once (a registration pass, not measured) before the measurement. Reports check-ins per second,
# latency p50/p99, the servers' RSS, and checks that every answered check-in
# was recorded (sum of the devices' check-in counters in the database).
#
#   bench/fleet.sh [--build DIR] [--duration S] [--connections N] [--doc]
#
# --doc writes the table into docs/fleet.md (between the bench/fleet.sh
# markers) instead of only printing it. Needs wrk, nginx, PostgreSQL
# (scripts/deps.sh test). As root, PostgreSQL runs as "nobody".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build duration=10 connections=64 doc=0
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --doc) doc=1; shift ;;
    *) echo "usage: bench/fleet.sh [--build DIR] [--duration S] [--connections N] [--doc]" >&2; exit 2 ;;
    esac
done
FOTA_BIN=$build/tools/fota
[ -x "$FOTA_BIN" ] || { echo "bench: build first ($FOTA_BIN missing)" >&2; exit 1; }
for t in wrk psql python3 curl; do
    command -v $t >/dev/null || { echo "bench: $t is missing (scripts/deps.sh test)" >&2; exit 1; }
done
export FOTA_BIN
# The tests' helpers: temporary directories, free ports, nginx, PostgreSQL.
. "$top/tests/e2e/lib.sh"
. "$top/tests/fleet/fleet.sh"
. "$top/tests/fleet/pg.sh"
LIB_FINISHED=1 # a benchmark, not a test: no pass/fail summary at exit
DEVICES=10000

fleet_releases 1.0.0 2.0.0
cp "$WORK/manifest-1.0.0.txt" "$WWW/$PRODUCT/manifest.txt" # for the static floor

cat >"$WORK/checkin.lua" <<'LUA'
-- Each request a different device of 10,000, as the fota agent sends it.
local devices, n, threads = 10000, 0, {}
function setup(thread)
  thread:set("first", #threads * 7919)
  table.insert(threads, thread)
end
function init(args) n = first end
function request()
  n = n + 1
  return wrk.format("GET", "/demo/manifest.txt", {
    ["Fota-Id"] = string.format("bench-%05d", n % devices),
    ["Fota-Product"] = "demo", ["Fota-Version"] = "1000000", ["Fota-Sequence"] = "1"})
end
-- The registration pass (WARMUP set): every device once, in order, then stop sending.
local warmup, answered = os.getenv("WARMUP"), 0
function response(status, headers, body)
  answered = answered + 1
  if warmup and answered >= devices then wrk.thread:stop() end
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
LUA

rss_kb() { # PIDS...: resident set sizes, summed (kB)
    local p t=0 v
    for p in "$@"; do
        v=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        t=$((t + ${v:-0}))
    done
    echo $t
}

ROWS=()
# measure NAME URL RECORDED_SQL DB PIDS...: run wrk, then check the records
measure() {
    local name=$1 url=$2 sql=$3 db=$4
    shift 4
    local before=0 after out
    if [ -n "$sql" ]; then
        # the fleet knows its devices: each checks in once before the
        # measurement (wrk stops sending after 10,000 answers but only
        # exits at its deadline: stopped once the database has them all)
        WARMUP=1 wrk -t1 -c32 -d600s -s "$WORK/checkin.lua" "$url/" >/dev/null 2>&1 &
        local warm=$! i
        for i in $(seq 1 1200); do
            [ "$(query "$db" "SELECT count(*) FROM devices")" -ge $DEVICES ] && break
            sleep 0.5
        done
        kill "$warm" 2>/dev/null || true
        wait "$warm" 2>/dev/null || true
        before=$(query "$db" "$sql")
    fi
    out=$(wrk -t2 -c"$connections" -d"${duration}s" -s "$WORK/checkin.lua" "$url/" 2>&1 | grep '^RESULT')
    local rss
    rss=$(rss_kb "$@")
    read -r _ requests us p50 p99 errors status <<<"$out"
    local rate=$((requests * 1000000 / us)) recorded=- check="not recorded"
    if [ -n "$sql" ]; then
        after=$(query "$db" "$sql")
        recorded=$((after - before))
        # wrk counts answered requests; a few it gave up on at the end may
        # still have been recorded, never fewer
        if [ "$recorded" -ge "$requests" ]; then
            check="all recorded"
        else
            check="LOST: $recorded recorded of $requests"
            fail "$name: $recorded check-ins recorded, $requests answered"
        fi
    fi
    # a check-in answered 500 is a defect, not load (wrk's socket errors are
    # its 2 s timeouts: an overloaded machine can make those)
    [ "$status" = 0 ] || fail "$name: $status check-ins answered neither 2xx nor 3xx"
    ROWS+=("| $name | $rate | $(ms "$p50") | $(ms "$p99") | $((rss / 1024)) | $requests | $status / $errors | $recorded ($check) |")
    echo "bench: $name: $rate check-ins/s, p50 $(ms "$p50") ms, p99 $(ms "$p99") ms, RSS $((rss / 1024)) MiB, $requests answered, $recorded recorded, $errors socket errors" >&2
    RATE[$name]=$rate
}
declare -A RATE
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
query() { # DB SQL
    case $1 in
    postgresql://*) psql -Atq "$1" -c "$2" ;;
    *) sqlite3 "$1" "$2" ;;
    esac
}
setup_rollout() { # the releases and a rollout of 1%, 100% (the first wave stays open)
    fleet releases add "$WORK/manifest-1.0.0.txt" >/dev/null
    fleet releases add "$WORK/manifest-2.0.0.txt" >/dev/null
    fleet rollouts create --release 2 --waves 1%,100% >/dev/null
}
limits=(--max-per-address 4096 --max-connections 4096 --quiet)

# 1. nginx, the manifest as a static file
start_nginx "$WWW" || exit 1
measure "nginx, static manifest (floor)" "$NGINX_URL" "" "" "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true)
stop_pid "$NGINX_PID"

# 2. fota serve --fleet on SQLite
start_fleet "${limits[@]}" || exit 1
setup_rollout
sqlite_sql="SELECT coalesce(sum(checkins), 0) FROM devices"
measure "fota serve --fleet, SQLite" "$SERVE_URL" "$sqlite_sql" "$WORK/fleet.db" "$SERVE_PID"
known=$(query "$WORK/fleet.db" "SELECT count(*) FROM devices")
[ "$known" = $DEVICES ] || fail "SQLite: $known devices recorded, expected $DEVICES"
stop_pid "$SERVE_PID"

# 3. two instances on one PostgreSQL, behind nginx
start_pg || exit 1
TOKEN=$("$FOTA_BIN" fleet token add --db "$PG_URL" --name bench)
start_fota_serve "$WWW" --fleet "$PG_URL" --admin-port 0 "${limits[@]}" || exit 1
A_PID=$SERVE_PID A_URL=$SERVE_URL
ADMIN_URL=$(sed -nE 's|^fota fleet: admin API on (http://[^ ]*)/ .*|\1|p' "$FOTA_TEST_TMP/serve.$LIB_SERVE_COUNT.out")
start_fota_serve "$WWW" --fleet "$PG_URL" --admin-port 0 "${limits[@]}" || exit 1
B_PID=$SERVE_PID B_URL=$SERVE_URL
start_balancer "$A_URL" "$B_URL" || exit 1
setup_rollout
measure "2 × fota serve --fleet, PostgreSQL, behind nginx" "$BALANCER_URL" "$sqlite_sql" "$PG_URL" \
    "$A_PID" "$B_PID"
known=$(query "$PG_URL" "SELECT count(*) FROM devices")
[ "$known" = $DEVICES ] || fail "PostgreSQL: $known devices recorded, expected $DEVICES"

floor=${RATE["nginx, static manifest (floor)"]}
ratio() { awk -v a="$1" -v b="$floor" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
table=$(
    echo "| server | check-ins/s | p50 ms | p99 ms | RSS MiB | answered | not 2xx/3xx / socket errors | recorded |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Ratio to the nginx floor: SQLite $(ratio "${RATE["fota serve --fleet, SQLite"]}"), PostgreSQL (2 instances) $(ratio "${RATE["2 × fota serve --fleet, PostgreSQL, behind nginx"]}")."
    echo "Recorded by \`bench/fleet.sh --doc\` ($DEVICES devices, wrk -t2 -c$connections -d${duration}s) on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(date -u +%Y-%m-%d)."
)
printf '%s\n' "$table"
if [ "$doc" = 1 ]; then
    python3 - "$top/docs/fleet.md" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- bench/fleet.sh: begin -->", "<!-- bench/fleet.sh: end -->"
if begin not in text or end not in text:
    sys.exit("bench: docs/fleet.md has no bench/fleet.sh markers")
head, rest = text.split(begin, 1)
open(path, "w").write(head + begin + "\n" + table + "\n" + end + rest.split(end, 1)[1])
PY
    echo "bench: docs/fleet.md updated" >&2
fi
[ "$LIB_FAILED" = 0 ]
