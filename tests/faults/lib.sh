# shellcheck shell=bash
# tests/faults/lib.sh - one fault case at a time, and the table it writes.
# Source after tests/e2e/lib.sh and tests/e2e/device.sh:
#
#     faults_setup NAME            prepare_release, start the origin (fota serve),
#                                  set TABLE_PART ($FOTA_BUILD/faults-table.d/NAME.md)
#     fault_case TEXT              start a case: a new device on 1.0.0, the
#                                  origin's access log marked
#     route manifest|image URL     release 2.0.0 so that the fault sits on the
#                                  whole check (manifest and image: URL serves
#                                  both) or on the image only (manifest from the
#                                  origin, its url: field absolute on URL);
#                                  sets DEVICE_URL
#     expect_failure CODES WORDS.. the first failure has a code matching the
#                                  regex CODES and names each of WORDS
#     expect_backoff               that failure was retried: "retry 1 of M in X ms"
#     expect_final                 it was not retried; the device kept 1.0.0
#     expect_updated               the run ended on 2.0.0, slot 1 holds exactly FW2
#     expect_resumed               the retry continued with Range where the
#                                  device stopped: the origin sent 206 with
#                                  exactly the missing bytes
#     next_check [SIM ARGS]        after a final failure, the device checks again
#                                  (the fault has cleared); the row keeps
#                                  describing the failed run
#     row WHAT COMPLETED           one table row for the case (fault, WHAT, the
#                                  first failure, COMPLETED)
#     faults_finish                write the table, then finish
#
# Ports change from run to run; the table shows them as PORT.
#
# Tables (also used by tests/attacks): each script writes its rows to
# $FOTA_BUILD/KIND-table.d/PART.md and rebuilds $FOTA_BUILD/KIND-table.md
# from all parts, in the order of their names.
#     table_setup KIND PART        TABLE_ROWS is where rows go
#     table_row CELLS...           one row (| in a cell is escaped)
#     table_finish KIND COLUMNS... write the part and rebuild the table

FAULT_SIZE=262144

table_setup() {
    TABLE_DIR=${FOTA_BUILD:-$FOTA_TEST_TMP}/$1-table.d
    mkdir -p "$TABLE_DIR"
    TABLE_PART=$TABLE_DIR/$2.md
    TABLE_ROWS=$FOTA_TEST_TMP/rows.md
    : >"$TABLE_ROWS"
}

table_row() {
    local c line="|"
    for c in "$@"; do
        line="$line ${c//|/\\|} |"
    done
    printf '%s\n' "$line" >>"$TABLE_ROWS"
}

table_finish() {
    local kind=$1 c head="|" rule="|"
    shift
    for c in "$@"; do
        head="$head $c |"
        rule="$rule --- |"
    done
    # parts and table are replaced by rename: scripts run in parallel
    cp "$TABLE_ROWS" "$TABLE_PART.tmp.$$" && mv "$TABLE_PART.tmp.$$" "$TABLE_PART"
    local table=${TABLE_DIR%/*}/$kind-table.md
    { printf '%s\n%s\n' "$head" "$rule"; cat "$TABLE_DIR"/*.md; } >"$table.tmp.$$"
    mv "$table.tmp.$$" "$table"
    note "rows written to $TABLE_PART; the whole table is $table"
}

faults_setup() {
    table_setup faults "$1"
    prepare_release $FAULT_SIZE
    start_fota_serve "$WWW"
    ORIGIN_PORT=$SERVE_PORT
    ORIGIN_URL=$SERVE_URL
    ORIGIN_LOG=$SERVE_LOG
    ORIGIN_PID=$SERVE_PID
}

fault_case() {
    CASE=$1
    CASE_OUT=
    printf '\n== %s\n' "$CASE"
    rm -rf "${WORK:?}/dev"
    LOG_MARK=$(wc -l <"$ORIGIN_LOG")
}

route() {
    rm -rf "${WWW:?}/$PRODUCT"
    if [ "$1" = image ]; then
        release "$FW2" --url "$2/$PRODUCT/firmware/$PRODUCT-2.0.0.bin"
        DEVICE_URL=$ORIGIN_URL/$PRODUCT/manifest.txt
    else
        release "$FW2"
        DEVICE_URL=$2/$PRODUCT/manifest.txt
    fi
}

next_check() {
    CASE_OUT=$SIM_OUT
    sim_device "$DEVICE_URL" "$@"
}

# case_out: the output of the case's failed run (see next_check).
case_out() {
    printf '%s' "${CASE_OUT:-$SIM_OUT}"
}

# origin_log: the origin's access log lines of this case.
origin_log() {
    tail -n +"$((LOG_MARK + 1))" "$ORIGIN_LOG"
}

# header_bytes URL: length of the status line and headers the origin sends
# for URL (what faultproxy counts before the first body byte).
header_bytes() {
    curl -s -D - -o /dev/null --max-time 10 "$1" | wc -c
}

# The first failure of the last run: code, and message without the retry
# note, the code and the port numbers.
failure_line() {
    grep -m1 -E '^  fota (warn|error): .* \[FOTA_ERR_[A-Z_]+\]$' "$(case_out)" || true
}
failure_code() {
    failure_line | sed -E 's/.*\[(FOTA_ERR_[A-Z_]+)\]$/\1/'
}
failure_text() {
    failure_line | sed -E 's/^  fota (warn|error): //; s/ \[FOTA_ERR_[A-Z_]+\]$//;
        s/; retry [0-9]+ of [0-9]+ in [0-9]+ ms$//; s/(127\.0\.0\.1|localhost):[0-9]+/\1:PORT/g'
}

expect_failure() {
    local codes=$1 code text w
    shift
    code=$(failure_code)
    text=$(failure_text)
    if [[ "$code" =~ ^($codes)$ ]]; then
        pass "$CASE: the device reports $code"
    else
        fail "$CASE: the device reports '${code:-no error}', expected $codes"
    fi
    for w in "$@"; do
        expect_contains "$text" "$w" "$CASE: the message names '$w'"
    done
}

# retries: the backoff notes of the last run, e.g. "retry 1 of 3 in 73 ms".
retries() {
    grep -oE 'retry [0-9]+ of [0-9]+ in [0-9]+ ms' "$(case_out)" || true
}

expect_backoff() {
    local first
    first=$(retries | head -1)
    if [[ "$first" =~ ^retry\ 1\ of\ [0-9]+\ in\ [0-9]+\ ms$ ]]; then
        pass "$CASE: the device backs off ($first)"
    else
        fail "$CASE: no 'retry 1 of M in X ms' in the log"
    fi
}

expect_final() {
    local n
    n=$(retries | wc -l)
    expect_eq "$n" 0 "$CASE: final error, not retried"
    expect_sim 1 "result: update failed, running 1.0.0" "$CASE: the check ends with the error"
    expect_not_activated 1.0.0 "$CASE: 1.0.0 keeps running, slot 1 never activated"
}

expect_updated() {
    expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed" "$CASE: the update completes"
    if slot_holds 1 "$FW2"; then
        pass "$CASE: slot 1 holds exactly the signed 2.0.0 image"
    else
        fail "$CASE: slot 1 differs from the signed 2.0.0 image"
    fi
}

# resumed_at: the offset of the last "server continues at offset N" (Range).
resumed_at() {
    sed -n 's/.*server continues at offset \([0-9]*\)$/\1/p' "$(case_out)" | tail -1
}

expect_resumed() {
    local at want line
    at=$(resumed_at)
    if [ -z "$at" ]; then
        fail "$CASE: the retry did not continue with Range"
        return
    fi
    want=$((FAULT_SIZE - at))
    line=$(wait_line "$ORIGIN_LOG" "demo-2.0.0.bin 206 $want range=\"bytes=$at-\"" "$ORIGIN_PID" || true)
    if [ -n "$line" ]; then
        pass "$CASE: resumed at byte $at: the origin sent 206 with the missing $want bytes only"
    else
        fail "$CASE: no '206 $want range=\"bytes=$at-\"' in the origin's log"
        origin_log | sed 's/^/    /'
    fi
}

# facts: what the log says the device did about the failure, in words.
facts() {
    local n delays at out=""
    n=$(retries | wc -l)
    delays=$(retries | sed -E 's/.* in ([0-9]+) ms/\1 ms/' | paste -sd, - | sed 's/,/, /g')
    if [ "$n" -eq 1 ]; then
        out="retried after $delays"
    elif [ "$n" -gt 1 ]; then
        out="retried $n times (after $delays)"
    fi
    at=$(resumed_at)
    [ -n "$at" ] && out="$out; resumed with Range at byte $at"
    grep -q 'answered 200 to a Range request: starting over' "$(case_out)" &&
        out="$out; the server ignored Range: started over"
    printf '%s' "$out"
}

# row WHAT COMPLETED: WHAT is the case's own explanation; the log's facts
# and the reported failure are added.
row() {
    local what=$1 done_=$2 f err code
    f=$(facts)
    [ -n "$f" ] && what="$what; $f"
    code=$(failure_code)
    if [ -n "$code" ]; then
        err="\`$code\`: $(failure_text)"
    else
        err="none"
    fi
    table_row "$CASE" "$what" "$err" "$done_"
}

faults_finish() {
    table_finish faults "fault" "what the device did" "error it reported" \
        "completed after the fault cleared"
    finish
}
