#!/usr/bin/env bash
# Benchmark: the simulated device time of a 1.5 MiB update (`fota sim` with
# its timing model, docs/sim.md) over a GPRS-class link (10.7 KB/s, SIM800
# class 12) and a WiFi-like one (1 MB/s), against the bound the same model
# gives: max(link time, flash time), where the link time is the image at the
# link's rate plus one round trip, and the flash time is the image's erase in
# the port's largest units plus its programming.
#
#   bench/device_time.sh [BUILD_DIR] [--doc FILE]     (default: build)
#
# Prints one line per link, "device time: <s> s, bound: <s> s, ratio: <r>",
# the 1 MB/s one last. The simulated time comes from the model alone (no
# host clock), so every run prints the same figures. --doc FILE rewrites the
# part of FILE (docs/bench.md) between "<!-- BEGIN device_time -->" and
# "<!-- END device_time -->" (appended when missing) with this run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
doc=
while [ $# -gt 0 ]; do
    case $1 in
    --doc) doc=$2; shift 2 ;;
    *) build=$1; shift ;;
    esac
done
fota=$build/tools/fota
size=$((1536 * 1024))
[ -x "$fota" ] || { echo "bench: build first ($fota missing)"; exit 1; }

# flash model, the port's erase block, link (RATE,LATENCY_MS[,WINDOW]; one
# way), name. The second GPRS line shows what a larger lwIP TCP_WND does
# where rate x round trip exceeds the default window; the sector-only line
# is a port without block erase (the ESP8266 SDK's), i.e. the agent's erase
# before issue 10, with its own bound.
links=(
    "esp32 65536 10700,300 GPRS class 12 (10.7 KB/s, 300 ms one way)"
    "esp32 65536 10700,300,16384 GPRS class 12, 16 KiB TCP window"
    "esp32 4096 1000000,2 WiFi-like, port with 4 KiB sector erases only"
    "esp32 65536 1000000,2 WiFi-like (1 MB/s, 2 ms one way)"
)

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
"$fota" keygen -o "$work/key" >/dev/null
"$fota" mkimage --chip esp32 --project bench --version 1.0.0 --size $size -o "$work/v1.bin" >/dev/null
"$fota" mkimage --chip esp32 --project bench --version 2.0.0 --size $size -o "$work/v2.bin" >/dev/null
"$fota" release --key "$work/key.key" --product bench --out "$work/www" "$work/v2.bin" >/dev/null
"$fota" serve "$work/www" --port 0 --access-log /dev/null >"$work/serve.out" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/.*listening on \(http[^ ]*\)\/ serving.*/\1/p' "$work/serve.out")
[ -n "$base" ] || { echo "bench: fota serve did not start"; cat "$work/serve.out"; exit 1; }

table="| link | device time (s) | link time (s) | flash time (s) | bound (s) | ratio | flash busy (s) | waiting for the link (s) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
lines=()
for entry in "${links[@]}"; do
    read -r model block link name <<<"$entry"
    out=$work/sim-$model-$block-${link//,/-}.out
    rm -rf "$work/dev"
    "$fota" sim --quiet --dir "$work/dev" --factory "$work/v1.bin" --url "$base/bench/manifest.txt" \
        --key "$work/key.pub" --product bench --slot-size $((2 * 1024 * 1024)) \
        --flash-model "$model" --block-size "$block" --link "$link" >"$out"
    grep -q "result: updated 1.0.0 -> 2.0.0 and confirmed" "$out" ||
        { echo "bench: the update did not complete:"; cat "$out"; exit 1; }
    dt=$(sed -n 's/^device time: \([0-9.]*\) s, bound: \([0-9.]*\) s, ratio: \([0-9.]*\)$/\1 \2 \3/p' "$out")
    read -r dev bound ratio <<<"$dt"
    lt=$(sed -n 's/^bound: link \([0-9.]*\) s .*, flash \([0-9.]*\) s .*/\1 \2/p' "$out")
    read -r link_s flash_s <<<"$lt"
    busy=$(sed -n 's/^update: .*flash busy \([0-9.]*\) s, waiting for the link \([0-9.]*\) s.*/\1 \2/p' "$out")
    read -r busy_s wait_s <<<"$busy"
    table+="
| $name | $dev | $link_s | $flash_s | $bound | $ratio | $busy_s | $wait_s |"
    lines+=("$name: $(grep '^device time:' "$out")")
done

echo "$table"
echo
echo "image: $size bytes; flash model esp32 (docs/sim.md)"
for l in "${lines[@]}"; do echo "# ${l%%: device time*}"; echo "${l#*: }"; done

if [ -n "$doc" ]; then
    section=$(cat <<EOF
<!-- BEGIN device_time -->
## Device time of an update (simulated)

\`bench/device_time.sh [BUILD_DIR] [--doc docs/bench.md]\` releases a 1.5 MiB ESP32 image,
serves it with \`fota serve\` on loopback and updates a fresh simulated device (\`fota sim\`)
with the timing model of [sim.md](sim.md): ESP32 flash operation times (ESP-IDF's
performance floors, datasheet erase times), ESP-IDF's lwIP receive window (5760 bytes,
1440-byte segments), and the link's rate and latency. Device time is the simulated time of
the check that installs the update (manifest, download, read-back verification,
activation); the bound is max(link time, flash time) from the same model: the image at
the link's rate plus one round trip, and the image's erase in 64 KiB blocks plus its
programming. The model is deterministic: every run prints these figures.

$table

Where rate × round trip exceeds the TCP window (GPRS with lwIP's default window), the window,
not the flash, holds the download below the link's rate; a larger
\`CONFIG_LWIP_TCP_WND_DEFAULT\` closes that gap. A port that erases 4 KiB sectors only pays
about 3.3 times the erase time of 64 KiB blocks: its own bound is that much higher.

Generated by \`bench/device_time.sh --doc docs/bench.md\`; do not edit by hand.
<!-- END device_time -->
EOF
)
    python3 - "$doc" "$section" <<'PY'
import sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
b, e = "<!-- BEGIN device_time -->", "<!-- END device_time -->"
if b in text and e in text:
    text = text[:text.index(b)] + section + text[text.index(e) + len(e):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
fi
