#!/usr/bin/env bash
# A signing key that others can read (issue 15, finding 7): `fota release`
# and `fota keygen` warn, as ssh does, and refuse with --strict.
. "$(dirname "$0")/../e2e/lib.sh"
require_tools cc

dir=$(fota_tmpdir)
key=$dir/signing
"$FOTA_BIN" keygen -o "$key" >"$dir/keygen.out" 2>"$dir/keygen.err"
expect_eq "$(stat -c %a "$key.key")" 600 "keygen writes the private key with mode 0600"
expect_eq "$(cat "$dir/keygen.err")" "" "keygen: no warning for a key only its owner can read"
"$FOTA_BIN" mkimage --chip esp32 --project demo --version 1.0.0 --size 4096 -o "$dir/fw.bin" >/dev/null

# release ARGS...: exit status, stderr in $dir/err
release() {
    local rc=0
    "$FOTA_BIN" release --product demo --out "$dir/www" "$@" "$dir/fw.bin" >"$dir/out" 2>"$dir/err" || rc=$?
    echo "$rc"
}

expect_eq "$(release --key "$key.key")" 0 "release with a 0600 key"
expect_eq "$(cat "$dir/err")" "" "release: no warning for a 0600 key"

for mode in 644 640 604 660; do
    chmod "$mode" "$key.key"
    rm -rf "$dir/www"
    expect_eq "$(release --key "$key.key")" 0 "release with a $mode key still works (a warning)"
    expect_contains "$(cat "$dir/err")" "fota release: warning: private key $key.key has mode 0$mode: group or others can read it; run: chmod 600 $key.key" \
        "release warns about a key of mode $mode"
    rm -rf "$dir/www"
    expect_eq "$(release --key "$key.key" --strict)" 1 "release --strict refuses a $mode key"
    expect_contains "$(cat "$dir/err")" "fota release: error: private key $key.key has mode 0$mode" \
        "release --strict says why"
    [ ! -e "$dir/www" ] && pass "release --strict wrote nothing with a $mode key" ||
        fail "release --strict wrote $dir/www with a $mode key"
done
chmod 620 "$key.key"
release --key "$key.key" >/dev/null
expect_contains "$(cat "$dir/err")" "mode 0620: group or others can access it" "any group/other bit counts, as for ssh"
chmod 600 "$key.key"
rm -rf "$dir/www"
expect_eq "$(release --key "$key.key" --strict)" 0 "release --strict takes a 0600 key"

# keygen on a file system that does not keep the mode it asks for (vfat, some
# network shares): simulated by making chmod give 0644
cat >"$dir/loose.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/stat.h>
int fchmod(int fd, mode_t mode)
{
    int (*real)(int, mode_t) = (int (*)(int, mode_t))dlsym(RTLD_NEXT, "fchmod");
    (void)mode;
    return real(fd, 0644);
}
EOF
cc -shared -fPIC -o "$dir/loose.so" "$dir/loose.c" -ldl
rc=0
LD_PRELOAD=$dir/loose.so "$FOTA_BIN" keygen -o "$dir/loose" >"$dir/out" 2>"$dir/err" || rc=$?
expect_eq "$rc" 0 "keygen on such a file system works (a warning)"
expect_contains "$(cat "$dir/err")" "fota keygen: warning: private key $dir/loose.key has mode 0644" \
    "keygen warns when the key file ends up readable by others"
rc=0
LD_PRELOAD=$dir/loose.so "$FOTA_BIN" keygen -o "$dir/strict" --strict >"$dir/out" 2>"$dir/err" || rc=$?
expect_eq "$rc" 1 "keygen --strict fails there"
expect_contains "$(cat "$dir/err")" "fota keygen: error: private key $dir/strict.key has mode 0644" "keygen --strict says why"
[ ! -e "$dir/strict.key" ] && [ ! -e "$dir/strict.pub" ] && [ ! -e "$dir/strict.pub.h" ] &&
    pass "keygen --strict leaves no key behind" || fail "keygen --strict left files behind"

finish
