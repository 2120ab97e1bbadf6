# shellcheck shell=bash disable=SC2154,SC2034 # $fota, $work, $size in, $server out: the caller's
# Shared by the bench/ scripts (sourced): a release of a 1.0.0 -> 2.0.0
# update of $size-byte ESP32 images, served by `fota serve` on loopback.
#
#   bench_serve_release     needs $fota, $work, $size; sets $server (pid) and
#                           $base (http://127.0.0.1:PORT); the caller's EXIT
#                           trap kills $server
bench_serve_release() {
    "$fota" keygen -o "$work/key" >/dev/null
    "$fota" mkimage --chip esp32 --project bench --version 1.0.0 --size "$size" -o "$work/v1.bin" >/dev/null
    "$fota" mkimage --chip esp32 --project bench --version 2.0.0 --size "$size" -o "$work/v2.bin" >/dev/null
    "$fota" release --key "$work/key.key" --product bench --out "$work/www" "$work/v2.bin" >/dev/null
    "$fota" serve "$work/www" --port 0 --access-log /dev/null >"$work/serve.out" &
    server=$!
    for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
    base=$(sed -n 's/.*listening on \(http[^ ]*\)\/ serving.*/\1/p' "$work/serve.out")
    [ -n "$base" ] || { echo "bench: fota serve did not start"; cat "$work/serve.out"; exit 1; }
}
