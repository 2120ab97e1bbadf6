# shellcheck shell=bash
# tests/e2e/device.sh - a release tree and a simulated device for e2e tests.
# Source after lib.sh:
#     prepare_release [SIZE]   -> WORK KEY FW1 FW2 WWW (1.0.0 released), PRODUCT=demo
#     release FILE [ARGS...]   -> fota release into $WWW with $KEY
#     sim_device URL [ARGS...] -> runs `fota sim` on the device in $WORK/dev;
#                                 output in $SIM_OUT, exit status in $SIM_RC
PRODUCT=demo

prepare_release() {
    local size=${1:-262144}
    WORK=$(fota_tmpdir)
    KEY=$WORK/key
    WWW=$WORK/www
    "$FOTA_BIN" keygen -o "$KEY" >/dev/null
    FW1=$WORK/fw-1.0.0.bin
    FW2=$WORK/fw-2.0.0.bin
    "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 1.0.0 --size "$size" -o "$FW1" >/dev/null
    "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version 2.0.0 --size "$size" -o "$FW2" >/dev/null
    release "$FW1"
}

release() {
    local fw=$1
    shift
    "$FOTA_BIN" release --key "$KEY.key" --product $PRODUCT --out "$WWW" "$@" "$fw" >/dev/null
}

# sim_device URL [ARGS...]: the first call programs 1.0.0 at the factory.
sim_device() {
    local url=$1
    shift
    local factory=()
    [ -f "$WORK/dev/flash.bin" ] || factory=(--factory "$FW1")
    SIM_OUT=$WORK/sim.$((++SIM_RUNS)).out
    local wrap=()
    # FOTA_VALGRIND=1: run the device under valgrind; any memory error fails the run
    [ "${FOTA_VALGRIND:-0}" = 1 ] && wrap=(valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite)
    set +e
    "${wrap[@]}" "$FOTA_BIN" sim --dir "$WORK/dev" --url "$url" --key "$KEY.pub" --product $PRODUCT \
        --chip esp32 --backoff 100 --timeout 5000 "${factory[@]}" "$@" >"$SIM_OUT" 2>&1
    SIM_RC=$?
    set -e
    sed 's/^/    | /' "$SIM_OUT"
}
SIM_RUNS=0

# expect_sim RC TEXT DESCRIPTION: the last sim run exited RC and printed TEXT.
expect_sim() {
    local rc=$1 text=$2 what=$3
    if [ "$SIM_RC" = "$rc" ] && grep -qF -- "$text" "$SIM_OUT"; then
        pass "$what"
    else
        fail "$what (exit $SIM_RC, wanted $rc and '$text')"
    fi
}

# ---- State of the simulated device after a run --------------------------------
# Its flash is $WORK/dev/flash.bin; with the default 2 MiB slots slot 0 starts
# at 0x10000 and slot 1 at 0x210000 (sim/device.c, sim_layout_default).
SLOT_ADDR=(0x10000 0x210000)

# slot_holds SLOT FILE: slot SLOT begins with exactly the bytes of FILE.
slot_holds() {
    local n
    n=$(stat -c %s "$2")
    cmp -s <(slice "$WORK/dev/flash.bin" $((SLOT_ADDR[$1])) "$n") "$2"
}

# slot_blank SLOT OFFSET LENGTH: those bytes of slot SLOT are all erased (0xFF).
slot_blank() {
    local left
    left=$(slice "$WORK/dev/flash.bin" $((SLOT_ADDR[$1] + $2)) "$3" | tr -d '\377' | wc -c)
    [ "$left" -eq 0 ]
}

# expect_not_activated VERSION DESCRIPTION: the last sim run selected no new
# slot (no activation, no reboot: one boot only) and VERSION still runs.
expect_not_activated() {
    local boots
    boots=$(grep -c '^boot #' "$SIM_OUT" || true)
    if ! grep -q 'activated in slot' "$SIM_OUT" && [ "$boots" -eq 1 ] &&
        grep -q "^result: .*running $1\b" "$SIM_OUT"; then
        pass "$2"
    else
        fail "$2 (boots: $boots; $(grep -m1 -E 'activated in slot|^result:' "$SIM_OUT"))"
    fi
}
