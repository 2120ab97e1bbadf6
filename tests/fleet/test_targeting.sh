#!/usr/bin/env bash
# Targeting, decided per check-in (curl sends the check-in headers, the
# fleet server answers): channels, groups, waves (a device outside the
# current wave gets 304), pinning, the per-minute start limit, and the
# device's anti-replay rule (a device whose sequence is ahead is never offered
# an older manifest). One real simulated device follows a pin end to end.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/fleet.sh"
require_tools curl

fleet_releases
start_fleet
for v in 1.0.0 2.0.0 3.0.0; do fleet releases add "$WORK/manifest-$v.txt" >/dev/null; done

for i in $(seq -w 0 39); do checkin "t-$i" 1000000 >/dev/null; done
expect_eq "$(checkin t-00 1000000)" "304 no rollout for this device" "no rollout: 304"

# Channels
fleet devices set t-01 --channel beta >/dev/null
fleet rollouts create --release 2 --channel beta >/dev/null
expect_eq "$(checkin t-01 1000000)" "200 offered 2.0.0 (rollout 1, wave 1)" "a beta device gets the beta rollout"
expect_eq "$(checkin t-02 1000000 | cut -c1-3)" "304" "a stable device does not"
body=$(curl -gs -H "Fota-Id: t-01" -H "Fota-Product: demo" -H "Fota-Version: 1000000" "$CHECKIN_URL")
expect_eq "$body" "$(cat "$WORK/manifest-2.0.0.txt")" "the answer is the manifest as signed offline, byte for byte"

# Groups
fleet groups add lab t-02 t-03 >/dev/null
fleet rollouts create --release 2 --groups lab >/dev/null
expect_eq "$(checkin t-02 1000000)" "200 offered 2.0.0 (rollout 2, wave 1)" "a device of group lab gets the lab rollout"
expect_eq "$(checkin t-04 1000000)" "304 no rollout for this device" "a device outside the group does not"
fleet rollouts abort 2 >/dev/null
expect_eq "$(checkin t-02 1000000)" "304 no rollout for this device" "after abort nobody is offered it, not even a device that was"

# Waves: 10% first
fleet rollouts create --release 2 --waves 10%,100% >/dev/null
in=0
out=0
wrong=0
first_in=
for i in $(seq -w 0 39); do
    [ "$i" = 01 ] && continue # beta
    r=$(checkin "t-$i" 1000000)
    case $r in
    "200 offered 2.0.0 (rollout 3, wave 1)") in=$((in + 1)); first_in=${first_in:-t-$i} ;;
    "304 not in wave 1 of rollout 3"*) out=$((out + 1)) ;;
    *) wrong=$((wrong + 1)); note "t-$i: $r" ;;
    esac
done
targeted=$(fleet --json rollouts show 3 | sed -n 's/.*"targeted": \([0-9]*\).*/\1/p' | head -1)
expect_eq "$wrong" 0 "every device got the manifest or 'not in wave 1'"
expect_eq "$in" "$targeted" "exactly the $targeted devices bucketed into wave 1 were offered it"
if [ "$in" -gt 0 ] && [ "$out" -gt "$in" ]; then
    pass "devices outside the current wave get 304 ($out of 39)"
else
    fail "in wave $in, outside $out"
fi
again=$(checkin t-00 1000000)
expect_eq "$(checkin t-00 1000000)" "$again" "the decision is the same on every check-in (bucketing from the id)"

# Anti-replay: a device in the wave that has already seen sequence 3
r=$(checkin "$first_in" 1000000 "Fota-Sequence: 3")
expect_contains "$r" "304 release 2.0.0 has sequence 2, below 3 the device has seen: never offered" \
    "a device whose sequence is ahead is never offered the older manifest"
expect_contains "$(checkin "$first_in" 3000000)" "304 up to date" \
    "nor is a device that runs a newer version"

# Pinning overrides rollouts
fleet devices set t-05 --pin 3 >/dev/null
expect_eq "$(checkin t-05 1000000)" "200 offered 3.0.0 (pinned)" "a pinned device gets its release"
fleet devices set t-05 --unpin >/dev/null
expect_ne "$(checkin t-05 1000000)" "200 offered 3.0.0 (pinned)" "unpinned, it follows the rollouts again"
fleet devices set t-06 --pin 1 >/dev/null
expect_contains "$(checkin t-06 2000000)" "304 up to date" "pinned to an older release than it runs: never offered"

# Per-minute start limit
fleet rollouts abort 3 >/dev/null
fleet rollouts create --release 3 --per-minute 3 >/dev/null
got=0
limited=0
for i in $(seq -w 0 9); do
    r=$(checkin "u-$i" 1000000)
    case $r in
    "200 "*) got=$((got + 1)) ;;
    *"started in the last minute (limit 3)"*) limited=$((limited + 1)) ;;
    esac
done
expect_eq "$got/$limited" "3/7" "3 devices start within the minute, 7 are told to wait"

# A real device, pinned, end to end: its check-ins carry id, version, image
fleet devices set t-07 --pin 3 >/dev/null
"$FOTA_BIN" sim --dir "$WORK/dev7" --factory "$WORK/fw-1.0.0.bin" --url "$CHECKIN_URL" \
    --key "$KEY.pub" --product $PRODUCT --id t-07 --backoff 100 --quiet >"$WORK/sim7.out" 2>&1 || true
expect_contains "$(cat "$WORK/sim7.out")" "result: updated 1.0.0 -> 3.0.0 and confirmed" \
    "the simulated device t-07 updates to its pinned 3.0.0"
dev=$(fleet devices show t-07)
printf '%s\n' "$dev" | sed 's/^/    | /'
expect_contains "$dev" "version    3000000" "the server saw it running 3.0.0"
expect_contains "$dev" "image      $(sha256sum "$WORK/fw-3.0.0.bin" | cut -c1-64)" \
    "with the SHA-256 of the 3.0.0 image file"
expect_contains "$dev" "last       confirmed 3000000" "and its last outcome: confirmed"
expect_contains "$dev" "sequence   3" "and the highest sequence it accepted"
finish
