#!/usr/bin/env bash
# The fleet on PostgreSQL under concurrent check-ins: two fota serve
# instances on one database, and every round's devices released at the same
# instant (one thread each, alternating between the instances). The
# decisions must be those of the check-ins taken one after the other:
#   1. a wave: its members all have buckets below the wave bound, and when
#      the last wave-1 devices report success together the next wave opens
#      exactly once, counting every one of them;
#   2. the per-minute start limit: of 80 devices asking at once, exactly
#      the limit start;
#   3. the automatic pause: of 40 devices reporting a rollback at once, the
#      rollout pauses exactly at the minimum sample ("10 of 10"), once;
#   4. an admin request that meets a deadlock (made on purpose with a psql
#      session) is rolled back and run again, and answered once committed.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/fleet.sh"
. "$(dirname "$0")/pg.sh"
require_tools curl psql python3

fleet_releases 1.0.0 2.0.0 3.0.0
start_pg || finish
TOKEN=$("$FOTA_BIN" fleet token add --db "$PG_URL" --name test)
start_fota_serve "$WWW" --fleet "$PG_URL" --admin-port 0 --fleet-key "$KEY.pub" || finish
A_URL=$SERVE_URL A_LOG=$SERVE_LOG
ADMIN_URL=$(sed -nE 's|^fota fleet: admin API on (http://[^ ]*)/ .*|\1|p' "$FOTA_TEST_TMP/serve.$LIB_SERVE_COUNT.out")
start_fota_serve "$WWW" --fleet "$PG_URL" --admin-port 0 --fleet-key "$KEY.pub" || finish
B_URL=$SERVE_URL B_LOG=$SERVE_LOG
sql() { psql -Atq "$PG_URL" -c "$1"; }
fleet releases add "$WORK/manifest-1.0.0.txt" >/dev/null
fleet releases add "$WORK/manifest-2.0.0.txt" >/dev/null
fleet releases add "$WORK/manifest-3.0.0.txt" >/dev/null

# together < LINES: each line "ID VERSION-CODE [Fota-Last value]" is one
# check-in; all are sent at the same instant (a barrier), alternately to A
# and B. Prints "ID STATUS DECISION" per line, in input order.
cat >"$WORK/together.py" <<'PY'
import http.client, sys, threading
urls = [u.split("//", 1)[1] for u in sys.argv[1:]]
reqs = [l.split(" ", 2) for l in sys.stdin.read().splitlines() if l]
ready = threading.Barrier(len(reqs))
out = [None] * len(reqs)
def run(i, r):
    host, port = urls[i % len(urls)].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=120)
    h = {"Fota-Id": r[0], "Fota-Product": "demo", "Fota-Version": r[1]}
    if len(r) > 2:
        h["Fota-Last"] = r[2]
    c.connect()
    ready.wait()
    c.request("GET", "/demo/manifest.txt", headers=h)
    a = c.getresponse()
    a.read()
    out[i] = "%s %d %s" % (r[0], a.status, a.getheader("Fota-Decision", ""))
ts = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(reqs)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(o or "lost" for o in out))
PY
together() { python3 "$WORK/together.py" "$A_URL" "$B_URL"; }
devices() { # PREFIX N [VERSION [LAST]]: one line per device
    local i
    for i in $(seq -w 1 "$2"); do echo "$1$i ${3:-1000000}${4:+ $4}"; done
}
count() { grep -c "$1" || true; }

# 1. A wave of 50% (success 100%) on 40 known devices.
devices w- 40 | together >"$WORK/w0.out"
expect_eq "$(count ' 304 ' <"$WORK/w0.out")" 40 "wave: 40 devices known (no rollout yet)"
fleet rollouts create --release 2 --waves 50%,100% --success 100 >/dev/null
devices w- 40 | together >"$WORK/w1.out"
offered=$(count ' 200 offered 2.0.0' <"$WORK/w1.out")
inwave=$(sql "SELECT count(*) FROM devices d, rollouts r WHERE r.id = 1 AND d.id LIKE 'w-%'
              AND (d.bucket + r.bucket_offset) % 1000000 < 500000")
expect_eq "$offered" "$inwave" "wave: the $inwave devices whose buckets are in wave 1 were offered 2.0.0, at once"
expect_eq "$(count 'not in wave 1 of rollout 1' <"$WORK/w1.out")" $((40 - inwave)) "wave: the others were not"
# wave 1 reports success while the rest of the fleet checks in, all at once
grep ' 200 ' "$WORK/w1.out" | awk '{ print $1, 2000000 }' >"$WORK/w2.in"
grep -v ' 200 ' "$WORK/w1.out" | awk '{ print $1, 1000000 }' >>"$WORK/w2.in"
together <"$WORK/w2.in" >"$WORK/w2.out"
expect_eq "$(sql "SELECT wave FROM rollouts WHERE id = 1")" 1 "wave: wave 2 opened"
expect_eq "$(sql "SELECT count(*) FROM rollout_log WHERE rollout = 1 AND text LIKE 'wave 1 (50%) done%'")" 1 \
    "wave: once"
expect_contains "$(sql "SELECT text FROM rollout_log WHERE rollout = 1 AND text LIKE 'wave 1%'")" \
    "$inwave of $inwave targeted devices succeeded" "wave: counting every wave-1 device's success"
expect_eq "$(sql "SELECT count(*) FROM members m, devices d, rollouts r WHERE m.rollout = 1
                  AND r.id = 1 AND d.id = m.device AND m.wave = 0
                  AND (d.bucket + r.bucket_offset) % 1000000 >= 500000")" 0 \
    "wave: no member of wave 1 has a bucket outside it"
expect_eq "$(sql "SELECT count(*) FROM members WHERE rollout = 1 AND wave = 0")" "$inwave" \
    "wave: wave 1 has exactly its $inwave devices"
expect_eq "$(count ' lost' <"$WORK/w2.out")$(grep -vc ' 200 \| 304 ' "$WORK/w2.out" || true)" 00 \
    "wave: every check-in was answered 200 or 304"

# 2. The per-minute start limit: 80 devices ask at once, 7 start.
fleet rollouts abort 1 >/dev/null
devices m- 80 | together >/dev/null # known before the rollout
fleet rollouts create --release 3 --per-minute 7 >/dev/null
devices m- 80 | together >"$WORK/m.out"
expect_eq "$(count ' 200 offered 3.0.0' <"$WORK/m.out")" 7 "start limit: exactly 7 of 80 started"
expect_eq "$(count 'devices started in the last minute (limit 7)' <"$WORK/m.out")" 73 \
    "start limit: 73 were told the limit"
expect_eq "$(sql "SELECT count(*) FROM members WHERE rollout = 2 AND offered > 0")" 7 \
    "start limit: 7 members recorded"

# 3. The automatic pause: 40 devices start 3.0.0, then all roll back at once.
fleet rollouts abort 2 >/dev/null
fleet rollouts create --release 3 --failure 10 --min-sample 10 >/dev/null
devices p- 40 | together >"$WORK/p0.out"
expect_eq "$(count ' 200 offered 3.0.0' <"$WORK/p0.out")" 40 "pause: 40 devices offered 3.0.0"
devices p- 40 1000000 "rolled-back 0 3000000" | together >"$WORK/p1.out"
expect_eq "$(sql "SELECT state FROM rollouts WHERE id = 3")" 1 "pause: the rollout paused itself"
expect_contains "$(sql "SELECT reason FROM rollouts WHERE id = 3")" \
    "paused by itself in wave 1: 10 of 10 devices (100%) failed or rolled back" \
    "pause: at the 10th outcome exactly, as one after the other"
expect_eq "$(sql "SELECT count(*) FROM rollout_log WHERE rollout = 3 AND text LIKE 'paused by itself%'")" 1 \
    "pause: once"
expect_eq "$(sql "SELECT count(*) FROM members WHERE rollout = 3 AND state = 2")" 40 \
    "pause: all 40 rollbacks recorded"

# 4. An admin request meets a deadlock: a psql session holds a lock that
# resuming needs (rollout_log), waits until the resume holds the rollout's
# row and waits for it, then asks for that row. PostgreSQL breaks the cycle
# by failing the resume's transaction (its wait is the older one): fota
# runs it again, and it is answered once committed. (A waiter looks for a
# deadlock once, deadlock_timeout after it began to wait: 5 s for the
# servers' sessions, so that the psql session waits too by then, however
# loaded the machine; 60 s for the psql session, so that it never looks first.)
sql "ALTER SYSTEM SET deadlock_timeout = '5s'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
mkfifo "$WORK/psql.in"
psql -Atq -v ON_ERROR_STOP=1 "$PG_URL" <"$WORK/psql.in" >"$WORK/psql.out" 2>&1 &
lib_track $!
exec 3>"$WORK/psql.in"
echo "SET deadlock_timeout = '60s'; BEGIN; LOCK TABLE rollout_log IN SHARE MODE; SELECT 'locked';" >&3
for _ in $(seq 1 100); do grep -q locked "$WORK/psql.out" && break; sleep 0.1; done
fleet rollouts resume 3 --reason "after the deadlock" >"$WORK/resume.out" 2>&1 &
resume=$!
waiting=0
for _ in $(seq 1 100); do
    waiting=$(sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                   AND query LIKE 'INSERT INTO rollout_log%'")
    [ "$waiting" = 1 ] && break
    sleep 0.1
done
expect_eq "$waiting" 1 "deadlock: the resume holds the rollout and waits for the log"
echo "SELECT 'row' FROM rollouts WHERE id = 3 FOR UPDATE; COMMIT;" >&3
exec 3>&-
wait $resume && rc=0 || rc=$?
expect_eq "$rc" 0 "deadlock: the resume succeeded"
head -n 3 "$WORK/resume.out" | sed "s/^/    | /"
expect_contains "$(grep -A8 'ERROR:  deadlock detected' "$FOTA_TEST_TMP/pg/server.log" || true)" \
    "STATEMENT:  INSERT INTO rollout_log" "deadlock: PostgreSQL failed the resume's transaction"
expect_eq "$(sql "SELECT state FROM rollouts WHERE id = 3")" 0 "deadlock: the rollout runs again"
expect_eq "$(sql "SELECT count(*) FROM rollout_log WHERE rollout = 3 AND text LIKE 'resumed by hand%'")" 1 \
    "deadlock: resumed once (the failed attempt left nothing)"

# Nothing lost, and both instances took part.
expect_eq "$(sql "SELECT sum(checkins) FROM devices")" $((40 * 3 + 80 * 2 + 40 * 2)) \
    "every check-in recorded"
for log in "$A_LOG" "$B_LOG"; do
    expect_eq "$(grep -c ' 500 ' "$log" || true)" 0 "no check-in answered 500 by $(basename "$log")"
done
finish
