#!/usr/bin/env bash
# The fleet demo: a fleet server on loopback, 200 simulated devices (the real
# agent, one process), a staged rollout of a release that crashes on some
# devices: the rollout pauses by itself in its first wave and says why; the
# way back is a new release, signed offline, rolled out in its turn. The
# dashboard (the admin listener's /dashboard/) shows it all; in a terminal the
# server keeps running at the end until Enter, so the rollouts stay visible.
# Usage: scripts/fleet-demo.sh   (installs missing Debian packages, builds, runs)
#        FOTA_DEMO_KEEP=1|0: keep the server running at the end, or not (default: in a terminal)
#        FOTA_DEMO_SCREENSHOT=FILE.png: a screenshot of the dashboard with the paused rollout
#        (docs/fleet-dashboard.png is one; needs scripts/deps.sh test: chromium, npm ci)
set -euo pipefail
. "$(dirname "$0")/demo-prelude.sh" demo-work/fleet
run() { printf '$ %s\n' "$*" | sed "s|$fota|fota|g; s|$work/||g"; "$@"; }
# run_head N CMD...: the first N lines of what CMD prints
run_head() { local n=$1; shift; run "$@" >"$work/out.txt"; head -n "$n" "$work/out.txt"; }

step "1. Offline: a signing key and three builds; each is released (signed) as it is made"
"$fota" keygen -o "$work/key" >/dev/null
for v in 1.0.0 2.0.0 2.0.1; do
    "$fota" mkimage --chip esp32 --project demo --version $v --size 65536 -o "$work/fw-$v.bin" >/dev/null
done
rel() { "$fota" release --key "$work/key.key" --product demo --out "$work/www" "$@" >/dev/null; }
rel "$work/fw-1.0.0.bin"; cp "$work/www/demo/manifest.txt" "$work/manifest-1.0.0.txt"
rel "$work/fw-2.0.0.bin"; cp "$work/www/demo/manifest.txt" "$work/manifest-2.0.0.txt"
echo "1.0.0 (sequence 1) and 2.0.0 (sequence 2) signed into $work/www"

step "2. The fleet server: fota serve in fleet mode, an admin token"
token=$("$fota" fleet token add --db "$work/fleet.db")
"$fota" serve --fleet "$work/fleet.db" --fleet-key "$work/key.pub" --admin-port 0 --port 0 \
    --access-log "$work/access.log" "$work/www" >"$work/serve.out" &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
cat "$work/serve.out"
url=$(sed -n 's/^fota serve: listening on \(http[^ ]*\)\/ .*/\1/p' "$work/serve.out")
export FOTA_FLEET_URL FOTA_FLEET_TOKEN=$token
FOTA_FLEET_URL=$(sed -n 's/^fota fleet: admin API on \(http[^ ]*\)\/ .*/\1/p' "$work/serve.out")
dashboard() {
    printf 'dashboard: %s/dashboard/  (log in with the admin token %s)\n' "$FOTA_FLEET_URL" "$token"
}
dashboard
sim=("$fota" fleet sim --url "$url/demo/manifest.txt" --key "$work/key.pub" --product demo
     --factory "$work/fw-1.0.0.bin" --devices 200 --state "$work/devices" --jobs 2)
run "$fota" fleet releases add "$work/manifest-1.0.0.txt"
run "$fota" fleet releases add "$work/manifest-2.0.0.txt"

step "3. 200 devices leave the factory with 1.0.0 and check in"
run "${sim[@]}"
run_head 4 "$fota" fleet devices

step "4. A staged rollout of 2.0.0: 5% -> 25% -> 100%, pause above 10% failures (at least 5 outcomes)"
run "$fota" fleet rollouts create --release 2 --waves 5%,25%,100% --failure 10 --min-sample 5

step "5. The devices check in; 2.0.0 crashes on a third of the devices that boot it"
run "${sim[@]}" --rollback 34 --rounds 3

step "6. The rollout paused itself in its first wave: why, and who"
run "$fota" fleet rollouts show 1
run "$fota" fleet rollouts list
"$fota" fleet --json devices >"$work/devices.json"
failed=$(grep -B8 '"event": "rolled-back"' "$work/devices.json" | sed -n 's/.*"id": "\([^"]*\)".*/\1/p' | tail -n 1)
[ -n "$failed" ] && run "$fota" fleet devices show "$failed"
if [ -n "${FOTA_DEMO_SCREENSHOT:-}" ]; then # the paused rollout, as the dashboard shows it
    node "$top/tests/browser/screenshot.mjs" "$FOTA_FLEET_URL" "$token" "$FOTA_DEMO_SCREENSHOT" 1
    echo "dashboard screenshot: $FOTA_DEMO_SCREENSHOT"
fi

step "7. Abort it, and go back the only way devices accept: forward, with a new release"
run_head 2 "$fota" fleet rollouts abort 1 --reason "2.0.0 crashes at boot"
run "$fota" fleet rollouts rollback 1
echo "(the demo built the good source as 2.0.1; signed offline as the plan says:)"
rel "$work/fw-2.0.1.bin"; cp "$work/www/demo/manifest.txt" "$work/manifest-2.0.1.txt"
run "$fota" fleet releases add "$work/manifest-2.0.1.txt"
run_head 2 "$fota" fleet rollouts create --release 3 --waves 5%,25%,100%

step "8. The devices check in again: 2.0.1 reaches the whole fleet, wave by wave"
run "${sim[@]}" --rounds 4
run "$fota" fleet rollouts show 2

printf '\nfleet demo: done (server log %s/access.log, database %s/fleet.db)\n' "$work" "$work"
if [ "${FOTA_DEMO_KEEP:-$([ -t 0 ] && echo 1 || echo 0)}" = 1 ]; then
    step "9. The dashboard shows the fleet, both rollouts, the failing devices and the versions over time"
    dashboard
    printf 'The server keeps running for it: press Enter to stop.\n'
    read -r _ || true
fi
