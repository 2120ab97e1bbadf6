#!/usr/bin/env bash
# 1,000 simulated devices (real agents in one process) and a staged rollout
# 1% -> 10% -> 50% -> 100%: it advances wave by wave to completion. A second
# fleet whose new images crash in 20% of the devices: the rollout pauses by
# itself in the first wave, nobody outside it gets the release, and the CLI
# says why.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/fleet.sh"
require_tools curl

fleet_releases 1.0.0 2.0.0
start_fleet
fleet releases add "$WORK/manifest-1.0.0.txt" >/dev/null
fleet releases add "$WORK/manifest-2.0.0.txt" >/dev/null

# The server learns the fleet: each device checks in once (nothing to do yet).
out=$(fleet_sim --devices 1000 --id-prefix a-)
expect_contains "$out" "round 1: 1000 devices: 0 updated, 0 rolled back, 0 failed, 1000 up to date" \
    "1000 devices check in; no rollout yet, so nothing is offered"
known=$(fleet --json devices | grep -c '"id": "a-')
expect_eq "$known" 1000 "the server recorded all 1000 devices"

fleet rollouts create --release 2 --waves 1%,10%,50%,100% >/dev/null
out=$(fleet_sim --devices 1000 --id-prefix a- --rounds 6)
printf '%s\n' "$out" | sed 's/^/    /'
show=$(fleet rollouts show 1)
printf '%s\n' "$show" | sed 's/^/    | /'
expect_contains "$show" "state   completed" "the rollout completed"
expect_contains "$show" "wave 1 (1%) done" "wave 1 (1%) succeeded and closed"
expect_contains "$show" "wave 2 (10%) opened" "then wave 2 (10%) opened"
expect_contains "$show" "wave 3 (50%) opened" "then wave 3 (50%)"
expect_contains "$show" "wave 4 (100%) opened" "then wave 4 (100%)"
expect_contains "$(printf '%s\n' "$out" | tail -1)" "running 2.0.0=1000" "all 1000 devices run 2.0.0"
# the waves were staged: the first round updated only a part of the fleet
first=$(printf '%s\n' "$out" | sed -n 's/^round 1: 1000 devices: \([0-9]*\) updated.*/\1/p')
if [ -n "$first" ] && [ "$first" -lt 1000 ] && [ "$first" -gt 0 ]; then
    pass "round 1 updated $first devices, not the whole fleet"
else
    fail "round 1 updated '$first' devices"
fi

# Second fleet, second product channel: new images crash in 20% of the devices.
fleet devices set a-0000 --channel other >/dev/null # unrelated: channels are per device
out=$(fleet_sim --devices 1000 --id-prefix b-)
TOKEN_SAVED=$TOKEN
stop_pid "$SERVE_PID"
rm -f "$WORK/fleet.db" "$WORK/fleet.db-wal" "$WORK/fleet.db-shm"
TOKEN=
start_fleet
fleet releases add "$WORK/manifest-1.0.0.txt" >/dev/null
fleet releases add "$WORK/manifest-2.0.0.txt" >/dev/null
out=$(fleet_sim --devices 1000 --id-prefix b-)
fleet rollouts create --release 2 --waves 1%,10%,50%,100% --failure 10 --min-sample 5 >/dev/null
out=$(fleet_sim --devices 1000 --id-prefix b- --rollback 20 --rounds 3)
printf '%s\n' "$out" | sed 's/^/    /'
show=$(fleet rollouts show 1)
printf '%s\n' "$show" | sed 's/^/    | /'
expect_contains "$show" "state   paused: paused by itself in wave 1" "the rollout paused by itself in wave 1"
expect_contains "$show" "above the 10% threshold (minimum sample 5)" "and says which threshold it crossed"
expect_contains "$show" "rolled back 2.0.0" "its history names the devices that rolled back"
expect_contains "$show" "wave 2 10%      not opened" "wave 2 never opened"
wave1=$(fleet --json rollouts show 1 | sed -n 's/.*"targeted": \([0-9]*\).*/\1/p' | head -1)
on2=$(printf '%s\n' "$out" | tail -1 | sed -n 's/.* 2\.0\.0=\([0-9]*\).*/\1/p')
on2=${on2:-0}
if [ "$on2" -le "$wave1" ] && [ "$on2" -gt 0 ]; then
    pass "only devices of wave 1 run 2.0.0 ($on2 of its $wave1)"
else
    fail "$on2 devices run 2.0.0, wave 1 has $wave1"
fi
list=$(fleet rollouts list)
expect_contains "$list" "paused" "fota fleet rollouts lists it as paused"
# A device outside wave 1 asks again: nothing for it.
outside=$(fleet --json devices | grep -B3 -A30 '"id": "b-' | grep -m1 -o '"decision": "304: rollout 1 is paused"' || true)
expect_ne "$outside" "" "devices outside the wave get 304 while it is paused"
finish
