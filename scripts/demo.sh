#!/usr/bin/env bash
# The main job: a firmware server on loopback, v1 then v2 released, and a
# simulated ESP32 device that updates itself from v1 to v2 and confirms.
# Usage: scripts/demo.sh   (installs missing Debian packages, builds, runs)
set -euo pipefail
. "$(dirname "$0")/demo-prelude.sh" demo-work

step "1. A signing key (kept offline in real life) and two firmware builds"
mkdir -p "$work/keys"
"$fota" keygen -o "$work/keys/demo"
"$fota" mkimage --chip esp32 --project demo-board --version 1.0.0 --size 262144 -o "$work/fw-1.0.0.bin"
"$fota" mkimage --chip esp32 --project demo-board --version 2.0.0 --size 262144 -o "$work/fw-2.0.0.bin"

step "2. Release 1.0.0 into a directory any static web server can serve"
"$fota" release --key "$work/keys/demo.key" --product demo-board --out "$work/www" "$work/fw-1.0.0.bin"

step "3. Serve it on loopback"
"$fota" serve "$work/www" --port 0 --access-log "$work/access.log" > "$work/serve.out" &
server_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/serve.out")
[ -n "$url" ] || { echo "demo: the server did not start"; cat "$work/serve.out"; exit 1; }
echo "server: $url"
manifest="${url}demo-board/manifest.txt"
sim=("$fota" sim --dir "$work/device" --url "$manifest" --key "$work/keys/demo.pub" --product demo-board --chip esp32)

step "4. A device leaves the factory with 1.0.0 and checks in: nothing newer"
"${sim[@]}" --factory "$work/fw-1.0.0.bin"

step "5. Release 2.0.0"
"$fota" release --key "$work/keys/demo.key" --product demo-board --out "$work/www" "$work/fw-2.0.0.bin"

step "6. The device checks again: downloads, verifies, activates, reboots and confirms 2.0.0"
"${sim[@]}"

step "What the server saw"
cat "$work/access.log"
printf '\ndemo: done (files in %s)\n' "$work"
