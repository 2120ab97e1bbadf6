#!/usr/bin/env bash
# A manifest altered on its way to the server (issue 9, item 5): CRLF line
# ends from an FTP upload in ASCII mode, or a byte order mark from an editor.
# The device, fota inspect and fota release say so and what to do, instead of
# "malformed at line 1". Served by nginx and fota serve.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/compat.sh"
dir=$(fota_tmpdir)
cd "$dir"
"$FOTA" keygen -o k >/dev/null
"$FOTA" mkimage --chip esp32 --version 1.0.0 --project p --size 8192 -o v1.bin >/dev/null
"$FOTA" mkimage --chip esp32 --version 1.1.0 --project p --size 8192 -o v2.bin >/dev/null
"$FOTA" release --key k.key --product p --out rel v2.bin >/dev/null
m=rel/p/manifest.txt
sed 's/$/\r/' "$m" >rel/p/crlf.txt
{ printf '\357\273\277'; cat "$m"; } >rel/p/bom.txt

out=$("$FOTA" inspect rel/p/crlf.txt 2>&1 || true)
expect_contains "$out" "has CRLF line ends (an FTP upload in ASCII mode?): upload the file fota release wrote in binary mode" "inspect: CRLF named"
out=$("$FOTA" inspect rel/p/bom.txt 2>&1 || true)
expect_contains "$out" "starts with a byte order mark" "inspect: BOM named"

start_nginx "$dir/rel"
start_fota_serve "$dir/rel"
for server in "$NGINX_URL" "$SERVE_URL"; do
    for kind in crlf bom; do
        rm -rf dev
        out=$(sim_device --url "$server/p/$kind.txt" --key k.pub --product p --factory v1.bin \
            --dir dev 2>&1) || true
        case $kind in
        crlf) want="manifest has CRLF line ends (an FTP upload in ASCII mode?): upload the file fota release wrote in binary mode ($server/p/crlf.txt)" ;;
        bom) want="manifest starts with a byte order mark (an editor added it): upload the file fota release wrote, unchanged, in binary mode ($server/p/bom.txt)" ;;
        esac
        expect_contains "$out" "$want" "device names the $kind problem ($server)"
        case $out in *"malformed at line"*) fail "still says 'malformed at line' ($kind)" ;; *) pass "no bare line number ($kind, $server)" ;; esac
    done
done
# the untouched manifest works
out=$(sim_device --url "$SERVE_URL/p/manifest.txt" --key k.pub --product p --factory v1.bin --dir dev 2>&1) || true
expect_contains "$out" "result: updated 1.0.0 -> 1.1.0" "binary upload updates"

# release over a CRLF'd current manifest: the same reason
cp rel/p/crlf.txt rel/p/manifest.txt
out=$("$FOTA" release --key k.key --product p --out rel v1.bin --allow-downgrade 2>&1 || true)
expect_contains "$out" "has CRLF line ends" "release names the CRLF in the current manifest"
finish
