# shellcheck shell=bash
# tests/attacks/lib.sh - one attack at a time, and the table row it writes.
# Source after tests/e2e/lib.sh and tests/e2e/device.sh (it sources
# tests/faults/lib.sh for the table and the error helpers):
#
#     attacks_setup PART           this script's rows go to
#                                  $FOTA_BUILD/attacks-table.d/PART.md
#     fresh_release                a new key, 1.0.0 released and served by
#                                  fota serve; a new device; sets URL
#     attack THREAT CASE           start an attack (names the table row)
#     expect_refused CODE WORDS..  the device ended the check with CODE, its
#                                  message naming each of WORDS
#     attack_row DOES STOPS        the row: threat, DOES (the attacker), STOPS
#                                  (the defence), the error reported, the test
#     attacks_finish               write the table, then finish
. "$(dirname "${BASH_SOURCE[0]}")/../faults/lib.sh"

attacks_setup() {
    table_setup attacks "$1"
}

fresh_release() {
    prepare_release
    start_fota_serve "$WWW"
    URL=$SERVE_URL/$PRODUCT/manifest.txt
}

attack() {
    THREAT=$1
    CASE=$2
    CASE_OUT=""
    printf '\n== %s: %s\n' "$THREAT" "$CASE"
}

expect_refused() {
    local code=$1
    shift
    expect_sim 1 "result: update failed" "$CASE: the update is refused"
    expect_failure "$code" "$@"
    expect_contains "$(grep '^result:' "$SIM_OUT")" "$code" "$CASE: the check ends with $code"
}

attack_row() {
    local code err
    code=$(failure_code)
    if [ -n "$code" ]; then
        err="\`$code\`: $(failure_text)"
    else
        err="none"
    fi
    table_row "$THREAT" "$1" "$2" "$err" "\`tests/attacks/$LIB_NAME.sh\`: $CASE"
}

attacks_finish() {
    table_finish attacks "threat" "what the attacker does" "what stops it" "error" "test"
    finish
}
