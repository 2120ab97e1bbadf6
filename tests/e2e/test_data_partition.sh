#!/usr/bin/env bash
# A release carries a data-partition image (docs/data-partitions.md) beside
# the application, through fota serve: the simulated device stages it in its
# inactive slot, unmounts, copies it into partition "storage" under the busy
# mark, compares, mounts again, then installs the application; a later
# release with the same data image does not fetch it again; a device without
# a partition of that label refuses the release before anything is erased.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/device.sh"
require_tools curl

prepare_release 131072
DATA=$WORK/storage.bin
# a file-system image: some text and random blocks, then erased space (mklittlefs pads with 0xFF)
{ printf 'fota data partition test %04d\n' $(seq 2000); head -c 100000 /dev/urandom; } >"$DATA"
pad=$((393216 - $(stat -c %s "$DATA")))
head -c "$pad" /dev/zero | tr '\0' '\377' >"$WORK/pad.bin"
cat "$WORK/pad.bin" >>"$DATA"
start_fota_serve "$WWW"
url=$SERVE_URL/$PRODUCT/manifest.txt

# 1.0.0 runs with a blank partition
sim_device "$url" --data storage:393216 --slot-size 524288
expect_sim 0 "result: up to date, running 1.0.0" "1.0.0 runs and is up to date"
expect_contains "$(cat "$SIM_OUT")" "app: mounted data partition 'storage'" "the application mounts its partition"
data_addr=$(sed -n "s/^data partition 'storage': [0-9]* bytes at \(0x[0-9a-f]*\).*/\1/p" "$SIM_OUT")
[ -n "$data_addr" ] && pass "the partition is at $data_addr" || fail "no partition address printed"

# 2.0.0 with a new data image: manifest format 3 with a data line
release "$FW2" --data storage="$DATA"
manifest=$WWW/$PRODUCT/manifest.txt
expect_contains "$(head -1 "$manifest")" "fota-manifest: 3" "the manifest is format 3"
expect_contains "$(grep '^data: ' "$manifest")" "data: storage 393216 $(sha256sum "$DATA" | cut -c1-64) firmware/demo-2.0.0.storage.bin" "it lists the data image with size and SHA-256"
"$FOTA_BIN" inspect "$manifest" --key "$KEY.pub" >"$WORK/inspect.out" 2>&1 && pass "fota inspect checks the format-3 manifest" || { cat "$WORK/inspect.out"; fail "fota inspect refused it"; }

sim_device "$url" --data storage:393216 --slot-size 524288 --verbose
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "updated to 2.0.0 with its data image"
out=$(cat "$SIM_OUT")
expect_contains "$out" "data partition 'storage' differs from the signed image: staging 393216 bytes in slot 1" "the data image is staged in the inactive slot"
expect_contains "$out" "app: unmounted data partition 'storage' for the update" "the application unmounts before the partition is written"
expect_contains "$out" "holds the new image (393216 bytes)" "the copy compares equal"
expect_contains "$out" "event: data-ready" "the application hears data-ready"
order=$(grep -n -E "unmounted data partition|holds the new image|downloading 2.0.0: 131072" "$SIM_OUT" | cut -d: -f1 | tr '\n' ' ')
read -r l_unmount l_ready l_app <<<"$order"
[ "${l_unmount:-0}" -lt "${l_ready:-0}" ] && [ "${l_ready:-0}" -lt "${l_app:-0}" ] &&
    pass "the data partition is written before the application is downloaded" ||
    fail "order of unmount, copy and application download: $order"
cmp -s <(slice "$WORK/dev/flash.bin" $((data_addr)) 393216) "$DATA" &&
    pass "partition 'storage' holds the data image byte for byte" || fail "partition differs from the data image"
expect_contains "$(cat "$SERVE_LOG")" "demo-2.0.0.storage.bin 200 393216" "fota serve sent the data image"

# 3.0.0 with the same data image: nothing is fetched for the partition
FW3=$WORK/fw-3.0.0.bin
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 3.0.0 --size 131072 -o "$FW3" >/dev/null
release "$FW3" --data storage="$DATA"
: >"$SERVE_LOG.mark"
lines_before=$(wc -l <"$SERVE_LOG")
sim_device "$url" --data storage:393216 --slot-size 524288
expect_sim 0 "result: updated 2.0.0 -> 3.0.0 and confirmed" "updated to 3.0.0"
expect_contains "$(cat "$SIM_OUT")" "data partition 'storage' holds the signed image already" "the unchanged data image is recognised by its hash"
expect_eq "$(tail -n +$((lines_before + 1)) "$SERVE_LOG" | grep -c 'storage.bin' || true)" 0 "the data image was not fetched again"

# A device without partition "storage": refused before anything is erased
rm -rf "${WORK:?}/dev"
sim_device "$url" --slot-size 524288
expect_sim 1 "FOTA_ERR_DATA_PARTITION" "a device without the partition refuses the release"
expect_contains "$(cat "$SIM_OUT")" "data partition 'storage', which this device does not have" "the message names the partition"
# shellcheck disable=SC2034 # read by slot_blank (device.sh): the slots of 512 KiB
SLOT_ADDR=(0x10000 0x90000)
slot_blank 1 0 131072 && pass "nothing was written to the inactive slot" || fail "the inactive slot was written"
expect_not_activated 1.0.0 "no slot was activated"

# A data image larger than the inactive slot it would be staged in: refused
# before anything is erased (the partition is large enough, the slot is not)
BIG=$WORK/big.bin
head -c 600000 /dev/urandom >"$BIG"
FW4=$WORK/fw-4.0.0.bin
"$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 4.0.0 --size 131072 -o "$FW4" >/dev/null
release "$FW4" --data storage="$BIG"
rm -rf "${WORK:?}/dev"
sim_device "$url" --data storage:655360 --slot-size 524288
expect_sim 1 "FOTA_ERR_TOO_BIG" "a data image larger than the staging slot is refused"
expect_contains "$(cat "$SIM_OUT")" "data image 'storage' of 600000 bytes does not fit slot 1 (524288 bytes)" "the message names both sizes"
slot_blank 1 0 131072 && pass "nothing was written to the inactive slot" || fail "the inactive slot was written"
finish
