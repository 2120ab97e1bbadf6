#!/usr/bin/env bash
# The fleet dashboard in a real browser (Debian's chromium driven by
# playwright-core, tests/browser/dashboard.mjs): a fleet server whose rollout
# paused itself on injected failures, a device record with markup in every
# text field, and a page on another origin that tries to abort the rollout.
# Screenshots go to $FOTA_BUILD/browser/ (failed-*.png when a check fails).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../fleet/fleet.sh"
require_tools curl sqlite3
here=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# Installed by scripts/deps.sh (Debian's chromium, npm ci here): missing means
# the set-up was not run, which is a failure, not a reason to pass.
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null || [ ! -d "$here/node_modules/playwright-core" ]; then
    fail "chromium ($CHROMIUM), node and tests/browser/node_modules are needed: run scripts/deps.sh test"
    finish
fi

fleet_releases 1.0.0 2.0.0
start_fleet
fleet releases add "$WORK/manifest-2.0.0.txt" >/dev/null
fleet_sim --devices 40 --id-prefix d- >/dev/null
fleet rollouts create --release 1 --waves 50%,100% --failure 20 --min-sample 5 >/dev/null
fleet_sim --devices 40 --id-prefix d- --fail-verify 25 --rounds 2 >/dev/null
show=$(fleet rollouts show 1)
expect_contains "$show" "state   paused: paused by itself" "set-up: the rollout paused itself"

# The views behind the dashboard, read with the bearer token: the fleet as
# the simulator reported it, and the history agreeing with it at its end.
api() { curl -gs --max-time 10 -H "Authorization: Bearer $TOKEN" "$ADMIN_URL/api/v1/$1"; }
sim_end=$(fleet --json devices | python3 -c 'import json,sys,collections
c=collections.Counter(d["version_code"] for d in json.load(sys.stdin)["devices"]); print(sorted(c.items()))')
summary_view=$(api summary | python3 -c 'import json,sys; s=json.load(sys.stdin)
print(s["devices"], sorted((v["version_code"], v["devices"]) for v in s["by_version"]), s["failing_total"])')
history_end=$(api "history?points=7" | python3 -c 'import json,sys; h=json.load(sys.stdin)
print(len(h["times_ms"]), sorted((v["version_code"], v["devices"][-1]) for v in h["series"] if v["devices"][-1]))')
expect_eq "$summary_view" "40 $sim_end $(fleet --json devices | grep -c '"event": "failed"')" \
    "summary: devices per version and the failing count as the device records say"
expect_eq "$history_end" "7 $sim_end" "history: 7 instants, the last one is the fleet as it is now"

# Device fields are checked at check-in, so markup cannot arrive that way ...
expect_eq "$(checkin '<img src=x onerror=alert(1)>' 1000000 | cut -d' ' -f1)" 400 \
    "a check-in whose device id is markup is refused"
# ... but the dashboard must not rely on it: a record with markup everywhere,
# written straight into the database (an older server, a restored backup).
HOSTILE_ID='<img src=x onerror="window.__pwned=1">d-evil'
sqlite3 -cmd '.timeout 5000' "$WORK/fleet.db" "INSERT INTO devices(id, product, channel, protocol,
    version, version_code, sequence, image, last_event, last_error, last_version, address,
    first_seen, last_seen, pinned_release, bucket, offered_sequence, decision) VALUES(
    '${HOSTILE_ID//\'/\'\'}', 'demo', 'stable', 'fota', '<b>9</b>', 1000000, 1, '', 'failed', -83,
    2000000, '<script>window.__pwned=2</script>', 1, 1, 0, 1, 0,
    '<iframe src=\"javascript:window.__pwned=3\"></iframe>')"

# A page on another origin (another port of 127.0.0.1: same site, other
# origin, so the SameSite=Strict cookie is sent) that posts to the admin API.
mkdir -p "$WORK/evil"
start_python_http "$WORK/evil"
cat >"$WORK/evil/evil.html" <<EOF
<!doctype html><title>evil</title>
<form id="f" method="post" action="$ADMIN_URL/api/v1/rollouts/1/abort"></form>
<script>
fetch("$ADMIN_URL/api/v1/rollouts/1/abort", {method: "POST", mode: "no-cors", credentials: "include",
  headers: {"Content-Type": "text/plain"}, body: "{}"}).finally(() => document.getElementById("f").submit());
</script>
EOF

mkdir -p "${FOTA_BUILD:-$FOTA_TEST_TMP}/browser"
out=$(ADMIN_URL=$ADMIN_URL TOKEN=$TOKEN EVIL_URL=$PY_URL/evil.html HOSTILE_ID=$HOSTILE_ID \
      CHROMIUM=$CHROMIUM SHOTS=${FOTA_BUILD:-$FOTA_TEST_TMP}/browser \
      timeout 240 node "$here/dashboard.mjs" 2>&1) && rc=0 || rc=$?
while IFS= read -r line; do
    case $line in
        "ok   "*) pass "${line#ok   }" ;;
        "FAIL "*) fail "${line#FAIL }" ;;
        *) printf '    %s\n' "$line" ;;
    esac
done <<<"$out"
expect_eq "$rc" 0 "dashboard.mjs ran to its end"

# What the browser did, seen by the server: resumed by the dashboard, never aborted.
show=$(fleet rollouts show 1)
expect_contains "$show" "resumed by hand: <img src=x onerror=" "the resume from the dashboard is recorded with its reason"
case $show in *"aborted"*) fail "the cross-site page aborted the rollout" ;; *) pass "the cross-site page did not abort the rollout" ;; esac
finish
