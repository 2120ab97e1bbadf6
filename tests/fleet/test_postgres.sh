#!/usr/bin/env bash
# The fleet on PostgreSQL: two fota serve instances behind an nginx balancer
# share one database (a temporary cluster). The staged rollout of the fleet
# issue, run the same way against one instance on SQLite and against the two
# on PostgreSQL, takes the same decisions, device by device. Then one
# instance is killed in the middle of the rollout: the other keeps serving,
# the rollout completes, and no check-in is lost; then PostgreSQL restarts
# and the survivor reconnects by itself. The instances answer
# check-ins only: the images come from a separate static nginx (--artifacts).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/fleet.sh"
. "$(dirname "$0")/pg.sh"
require_tools curl psql python3

DEVICES=200
fleet_releases 1.0.0 2.0.0
start_pg || finish
start_nginx "$WWW" || finish
ARTIFACTS_LOG=$NGINX_DIR/access.log

# The same rollout on either setup: the fleet checks in (nothing to do),
# a rollout 10% -> 50% -> 100% pausing above 10% failures, then three rounds
# in which a fifth of the devices that boot 2.0.0 roll back. One device at a
# time (--jobs 1), so the order of check-ins is the same in both runs.
scenario() { # LABEL
    local label=$1
    fleet releases add "$WORK/manifest-1.0.0.txt" >/dev/null
    fleet releases add "$WORK/manifest-2.0.0.txt" >/dev/null
    fleet_sim --devices $DEVICES --id-prefix d- --jobs 1 --state "$WORK/state-$label" >/dev/null
    fleet rollouts create --release 2 --waves 10%,50%,100% --failure 10 --min-sample 5 >/dev/null
    fleet_sim --devices $DEVICES --id-prefix d- --jobs 1 --state "$WORK/state-$label" \
        --rollback 20 --rounds 3 >"$WORK/$label.sim"
    # what was decided: per device its version, last outcome and last answer;
    # the rollout's state, reason and history
    fleet --json devices | python3 -c '
import json, sys
for d in json.load(sys.stdin)["devices"]:
    print(d["id"], d["version_code"], d["last"]["event"] if d.get("last") else "-", d["decision"])
' >"$WORK/$label.devices"
    fleet --json rollouts show 1 | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["state"], r["reason"])
print("wave", r["wave"], "devices", r["devices"])
for w in r["waves"]: print("wave", w["size"], w["targeted"], w["current"])
for h in r["history"]: print(h["text"] if isinstance(h, dict) else h)
' >"$WORK/$label.rollout"
}

# 1. The reference: one instance on SQLite.
start_fleet
scenario sqlite
stop_pid "$SERVE_PID"
expect_contains "$(head -n 1 "$WORK/sqlite.rollout")" "paused" "SQLite: the rollout paused itself"

# 2. Two instances on one PostgreSQL, behind nginx.
TOKEN=$("$FOTA_BIN" fleet token add --db "$PG_URL" --name test)
start_fota_serve "$WWW" --fleet "$PG_URL" --admin-port 0 --artifacts "$NGINX_URL" || finish
A_PID=$SERVE_PID A_URL=$SERVE_URL A_LOG=$SERVE_LOG
ADMIN_URL=$(sed -nE 's|^fota fleet: admin API on (http://[^ ]*)/ .*|\1|p' "$FOTA_TEST_TMP/serve.$LIB_SERVE_COUNT.out")
start_fota_serve "$WWW" --fleet "$PG_URL" --admin-port 0 --artifacts "$NGINX_URL" || finish
B_PID=$SERVE_PID B_URL=$SERVE_URL
start_balancer "$A_URL" "$B_URL" || finish
CHECKIN_URL=$BALANCER_URL/$PRODUCT/manifest.txt
scenario pg
served_by=$(awk '$1 ~ /manifest/ { print $3 }' "$BALANCER_LOG" | sort -u | wc -l)
expect_eq "$served_by" 2 "PostgreSQL: both instances answered check-ins"
expect_file_eq "$WORK/pg.devices" "$WORK/sqlite.devices" \
    "every device's version, outcome and last decision are those of the SQLite run"
expect_file_eq "$WORK/pg.rollout" "$WORK/sqlite.rollout" \
    "the rollout's state, pause reason, waves and history are those of the SQLite run"
expect_file_eq "$WORK/pg.sim" "$WORK/sqlite.sim" "and the devices saw the same rounds"
sed 's/^/    | /' "$WORK/pg.rollout" | head -n 4
images=$(grep -c 'GET /demo/firmware/demo-2.0.0.bin HTTP/1.1" 200' "$ARTIFACTS_LOG" || true)
if [ "$images" -gt 0 ]; then pass "the images came from the artifact server ($images downloads)"; else fail "no image from the artifact server"; fi
expect_eq "$(grep -c '"GET /demo/firmware/' "$A_LOG" || true)" 0 "instance A answered no image itself"

# 3. Resume; in the middle of the next rounds instance A is killed (SIGKILL).
fleet rollouts resume 1 >/dev/null
fleet_sim --devices $DEVICES --id-prefix d- --jobs 2 --state "$WORK/state-pg" --rounds 4 \
    >"$WORK/kill.sim" 2>&1 &
sim=$!
lib_track $sim
for _ in $(seq 1 300); do
    [ "$(grep -c manifest "$BALANCER_LOG")" -gt $((DEVICES * 4 + 150)) ] && break
    sleep 0.1
done
kill -KILL "$A_PID"
killed_at=$(wc -l <"$BALANCER_LOG")
expect_eq "$(psql -Atq "$PG_URL" -c "SELECT state FROM rollouts WHERE id = 1")" 0 \
    "instance A was killed while the rollout was running (wave $(psql -Atq "$PG_URL" -c "SELECT wave + 1 FROM rollouts WHERE id = 1"))"
wait $sim && rc=0 || rc=$?
ADMIN_URL=$(sed -nE 's|^fota fleet: admin API on (http://[^ ]*)/ .*|\1|p' "$FOTA_TEST_TMP/serve.$LIB_SERVE_COUNT.out")
expect_eq "$rc" 0 "the simulated fleet ran on while instance A was killed"
sed 's/^/    /' "$WORK/kill.sim"
# the devices that rolled back before the pause are not offered it again
failed=$(fleet --json rollouts show 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["devices"]["failed"])')
expect_contains "$(tail -n 1 "$WORK/kill.sim")" "running 2.0.0=$((DEVICES - failed)) 1.0.0=$failed" \
    "every device runs 2.0.0 but the $failed that rolled back before the pause"
# (a request in flight at the kill names both: A, then B that answered it)
after=$(tail -n +"$((killed_at + 1))" "$BALANCER_LOG" | awk '$1 ~ /manifest/ { print $NF }' | sort -u)
expect_eq "$after" "${B_URL#http://}" "after the kill, instance B answered every check-in"
expect_contains "$(fleet rollouts show 1)" "state   completed" "the rollout completed"
known=$(psql -Atq "$PG_URL" -c "SELECT count(*) FROM devices")
expect_eq "$known" $DEVICES "every device is in the database"
answered=$(awk '$1 ~ /manifest/ && ($2 == 200 || $2 == 304)' "$BALANCER_LOG" | wc -l)
recorded=$(psql -Atq "$PG_URL" -c "SELECT sum(checkins) FROM devices")
if [ "$recorded" -ge "$answered" ]; then
    pass "nothing lost: $recorded check-ins recorded, $answered answered through nginx"
else
    fail "$recorded check-ins recorded, but $answered answered through nginx"
fi

# 4. PostgreSQL restarts under instance B: every connection of its pool is
# dropped. B resets a dropped connection and runs the transaction it broke
# again, so check-ins are answered and recorded without restarting B.
recorded=$(psql -Atq "$PG_URL" -c "SELECT sum(checkins) FROM devices")
restart_pg || finish
answers=""
for i in $(seq 1 20); do
    answers="$answers $(CHECKIN_URL=$B_URL/$PRODUCT/manifest.txt checkin d-$i 2000000 | cut -d' ' -f1)"
done
expect_eq "$(echo $answers | tr ' ' '\n' | grep -cvE '^(200|304)$' || true)" 0 \
    "after PostgreSQL restarted, instance B answered all 20 check-ins (statuses:$answers)"
expect_eq "$(psql -Atq "$PG_URL" -c "SELECT sum(checkins) FROM devices")" "$((recorded + 20))" \
    "and recorded each exactly once"
finish
