# shellcheck shell=bash
# tests/fleet/fleet.sh - a fleet server and its releases for the fleet tests.
# Source after tests/e2e/lib.sh:
#   fleet_releases [VERSIONS...]  -> WORK KEY WWW FW_<v> MAN_<v> (default 1.0.0 2.0.0 3.0.0;
#                                    each released in turn, so sequences are 1, 2, 3)
#   start_fleet [ARGS...]         -> fota serve --fleet $WORK/fleet.db on free ports:
#                                    SERVE_URL SERVE_PORT SERVE_PID SERVE_LOG, ADMIN_URL,
#                                    CHECKIN_URL (the manifest URL devices use); TOKEN
#                                    (created on the first call)
#   fleet ARGS...                 -> fota fleet with --server and --token
#   fleet_sim ARGS...             -> fota fleet sim against CHECKIN_URL, factory 1.0.0
#   checkin ID VERSION [HEADER...]-> curl check-in: prints "STATUS DECISION"
PRODUCT=demo

fleet_releases() {
    local v
    WORK=$(fota_tmpdir)
    KEY=$WORK/key
    WWW=$WORK/www
    "$FOTA_BIN" keygen -o "$KEY" >/dev/null
    for v in "${@:-1.0.0 2.0.0 3.0.0}"; do
        for v in $v; do
            "$FOTA_BIN" mkimage --chip esp32 --project $PRODUCT --version "$v" --size 16384 \
                -o "$WORK/fw-$v.bin" >/dev/null
            "$FOTA_BIN" release --key "$KEY.key" --product $PRODUCT --out "$WWW" "$WORK/fw-$v.bin" >/dev/null
            cp "$WWW/$PRODUCT/manifest.txt" "$WORK/manifest-$v.txt"
        done
    done
    rm "$WWW/$PRODUCT/manifest.txt" # only the fleet server answers check-ins
}

start_fleet() {
    [ -n "${TOKEN:-}" ] || TOKEN=$("$FOTA_BIN" fleet token add --db "$WORK/fleet.db" --name test)
    start_fota_serve "$WWW" --fleet "$WORK/fleet.db" --admin-port 0 --fleet-key "$KEY.pub" "$@" || return 1
    ADMIN_URL=$(sed -nE 's|^fota fleet: admin API on (http://[^ ]*)/ .*|\1|p' "$FOTA_TEST_TMP/serve.$LIB_SERVE_COUNT.out")
    CHECKIN_URL=$SERVE_URL/$PRODUCT/manifest.txt
    export ADMIN_URL CHECKIN_URL TOKEN
}

fleet() {
    "$FOTA_BIN" fleet --server "$ADMIN_URL" --token "$TOKEN" "$@"
}

fleet_sim() {
    "$FOTA_BIN" fleet sim --url "$CHECKIN_URL" --key "$KEY.pub" --product $PRODUCT \
        --factory "$WORK/fw-1.0.0.bin" --jobs 2 "$@"
}

checkin() {
    local id=$1 version=$2
    shift 2
    local args=() h
    for h in "$@"; do args+=(-H "$h"); done
    curl -gs -o /dev/null -D - --max-time 10 -H "Fota-Id: $id" -H "Fota-Product: $PRODUCT" \
        -H "Fota-Version: $version" "${args[@]}" "$CHECKIN_URL" |
        awk 'NR == 1 { s = $2 } tolower($1) == "fota-decision:" { sub(/\r$/, ""); $1 = ""; d = substr($0, 2) }
             END { print s, d }'
}
