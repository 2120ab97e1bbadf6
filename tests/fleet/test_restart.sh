#!/usr/bin/env bash
# SIGKILL the fleet server in the middle of a rollout, while devices check
# in, and start it again on the same database: what was answered is kept
# (devices, members, the open wave, the history), the database is intact,
# and the rollout continues to completion.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/fleet.sh"
require_tools curl sqlite3

fleet_releases 1.0.0 2.0.0
start_fleet
fleet releases add "$WORK/manifest-1.0.0.txt" >/dev/null
fleet releases add "$WORK/manifest-2.0.0.txt" >/dev/null
fleet_sim --devices 300 --id-prefix r- >/dev/null
fleet rollouts create --release 2 --waves 5%,30%,100% >/dev/null
fleet_sim --devices 300 --id-prefix r- --rounds 1 >"$WORK/round1.out"
sed 's/^/    /' "$WORK/round1.out"
before=$(fleet --json rollouts show 1 | grep -v '"updated"')
devices_before=$(fleet --json devices | grep -c '"id": "r-')
wave_before=$(fleet --json rollouts show 1 | sed -n 's/^  "wave": \([0-9]*\),*/\1/p')

# 1. killed while idle: nothing changes
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
start_fleet
after=$(fleet --json rollouts show 1 | grep -v '"updated"')
expect_eq "$after" "$before" "after SIGKILL and restart the rollout is exactly as it was"
expect_eq "$(fleet --json devices | grep -c '"id": "r-')" "$devices_before" "and every device is still known"

# 2. killed while 300 devices check in
fleet_sim --devices 300 --id-prefix r- --rounds 1 >"$WORK/killed.out" 2>&1 &
sim=$!
sleep 1
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
wait "$sim" || true
expect_eq "$(sqlite3 "$WORK/fleet.db" 'PRAGMA integrity_check')" ok "the database is intact after SIGKILL under load"
start_fleet
wave_mid=$(fleet --json rollouts show 1 | sed -n 's/^  "wave": \([0-9]*\),*/\1/p')
if [ "$wave_mid" -ge "$wave_before" ]; then
    pass "the rollout is still at wave $wave_mid (was $wave_before before the load)"
else
    fail "the rollout went back from wave $wave_before to $wave_mid"
fi
fleet_sim --devices 300 --id-prefix r- --rounds 5 >"$WORK/rest.out"
sed 's/^/    /' "$WORK/rest.out"
show=$(fleet rollouts show 1)
printf '%s\n' "$show" | sed 's/^/    | /'
expect_contains "$show" "state   completed" "after the restart the rollout continues to completion"
expect_contains "$(tail -1 "$WORK/rest.out")" "running 2.0.0=300" "all 300 devices run 2.0.0"

# 3. Schema versions: an older database is migrated at start, a newer one refused.
stop_pid "$SERVE_PID"
expect_eq "$(sqlite3 "$WORK/fleet.db" 'PRAGMA user_version')" 5 "the schema is at version 5"
sqlite3 "$WORK/fleet.db" 'DROP INDEX rollouts_active; DROP INDEX members_by_device; DROP INDEX members_by_offer;
    DROP INDEX devices_by_product; DROP INDEX rollout_log_by_rollout; DROP TABLE version_log;
    ALTER TABLE devices DROP COLUMN checkins; PRAGMA user_version = 1'
start_fleet
expect_eq "$(sqlite3 "$WORK/fleet.db" 'PRAGMA user_version')" 5 "a version-1 database is migrated to 5 at start"
expect_eq "$(sqlite3 "$WORK/fleet.db" "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")" 6 \
    "and gets the indexes of versions 2, 4 and 5"
expect_eq "$(sqlite3 "$WORK/fleet.db" "SELECT count(*) FROM pragma_table_info('devices') WHERE name = 'checkins'")" 1 \
    "and the check-in count of version 3"
expect_eq "$(sqlite3 "$WORK/fleet.db" "SELECT count(*) = (SELECT count(*) FROM devices) FROM version_log WHERE prev_code = -1")" 1 \
    "and version 4's history starts with every known device"
expect_contains "$(fleet rollouts show 1)" "state   completed" "with its data as it was"
stop_pid "$SERVE_PID"
sqlite3 "$WORK/fleet.db" 'PRAGMA user_version = 6'
out=$(timeout 20 "$FOTA_BIN" serve --port 0 --admin-port 0 --fleet "$WORK/fleet.db" "$WWW" 2>&1) && rc=0 || rc=$?
expect_eq "$rc" 1 "a database of a newer schema: the server does not start"
expect_contains "$out" "has schema version 6, newer than this fota knows (5): refusing to use it" "and says why"
finish
