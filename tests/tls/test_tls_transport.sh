#!/bin/bash
# The TLS transport against a real nginx: a GET over TLS returns the exact
# file, and each failure cause yields its own fota error code.
set -u
. "$(dirname "$0")/tls_lib.sh"

WORK=$(mktemp -d)
trap 'stop_tls_nginx; [ -n "${SILENT_PID:-}" ] && kill $SILENT_PID 2>/dev/null; rm -rf "$WORK"' EXIT

# fota error codes by name: tls_get prints "result=<code> <name>" with the
# name from fota_strerror(), generated from FOTA_ERROR_TABLE (fota/error.h),
# so no number is written twice.
OK=FOTA_OK CONNECT_REFUSED=FOTA_ERR_CONNECT_REFUSED TIMEOUT=FOTA_ERR_TIMEOUT
TLS_HANDSHAKE=FOTA_ERR_TLS_HANDSHAKE UNTRUSTED=FOTA_ERR_TLS_CERT_UNTRUSTED
EXPIRED=FOTA_ERR_TLS_CERT_EXPIRED NAME_MISMATCH=FOTA_ERR_TLS_NAME_MISMATCH TLS=FOTA_ERR_TLS

pass=0 fail=0
check() { # description, condition...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok: $what"; else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
result_of() { sed -n 's/^result=-\{0,1\}[0-9]* \([A-Z_]*\).*/\1/p' "$1"; }
field() { sed -n "s/.*$2=\([0-9]*\).*/\1/p" "$1" | head -1; }

make_pki "$WORK/pki" || exit 1
mkdir -p "$WORK/www"
head -c 200000 /dev/urandom >"$WORK/www/fw.bin"

P_VALID=$(free_port) P_EXPIRED=$(free_port) P_WRONG=$(free_port) P_SELF=$(free_port) P_PLAIN=$(free_port)
start_tls_nginx "$WORK/pki" "$WORK/www" valid:$P_VALID expired:$P_EXPIRED wrongname:$P_WRONG \
  selfsigned:$P_SELF plain:$P_PLAIN || exit 1

CA=$WORK/pki/ca.pem
get() { # out-prefix, tls_get args...
  local o=$WORK/$1; shift
  "$TLS_GET" "$@" "$o.body" >"$o.log" 2>&1
  echo "--- tls_get $*"; cat "$o.log"
}

# 1. A GET over TLS returns the exact file.
get ok --ca "$CA" localhost "$P_VALID" /fw.bin
check "GET over TLS succeeds" [ "$(result_of "$WORK/ok.log")" = $OK ]
check "GET over TLS: status 200" grep -q "^status=200 body=200000" "$WORK/ok.log"
check "GET over TLS: body identical" cmp -s "$WORK/www/fw.bin" "$WORK/ok.body"

# 2. Each certificate problem has its own code and a detail naming it.
get expired --ca "$CA" --check-time localhost "$P_EXPIRED" /fw.bin
check "expired certificate -> FOTA_ERR_TLS_CERT_EXPIRED" [ "$(result_of "$WORK/expired.log")" = $EXPIRED ]
check "expired certificate: detail says expired" grep -qi "expired" "$WORK/expired.log"
get expired_notime --ca "$CA" localhost "$P_EXPIRED" /fw.bin
check "expired certificate accepted when the device has no trusted time" \
  [ "$(result_of "$WORK/expired_notime.log")" = $OK ]

get wrongname --ca "$CA" --check-time localhost "$P_WRONG" /fw.bin
check "certificate for another name -> FOTA_ERR_TLS_NAME_MISMATCH" [ "$(result_of "$WORK/wrongname.log")" = $NAME_MISMATCH ]
check "name mismatch: detail says so" grep -qi "common name\|CN" "$WORK/wrongname.log"

get self --ca "$CA" --check-time localhost "$P_SELF" /fw.bin
check "self-signed certificate -> FOTA_ERR_TLS_CERT_UNTRUSTED" [ "$(result_of "$WORK/self.log")" = $UNTRUSTED ]
check "untrusted: detail says not trusted" grep -qi "not correctly signed\|trusted" "$WORK/self.log"

# 3. Not a TLS server at all: handshake failure, not a certificate error.
get notls --ca "$CA" localhost "$P_PLAIN" /fw.bin
check "TLS to a plain HTTP port -> FOTA_ERR_TLS_HANDSHAKE" [ "$(result_of "$WORK/notls.log")" = $TLS_HANDSHAKE ]
check "handshake failure: detail is mbedTLS's text" grep -q "^detail=TLS handshake: ." "$WORK/notls.log"

# 4. The lower transport's errors pass through unchanged.
DEAD=$(free_port)
get refused --ca "$CA" localhost "$DEAD" /fw.bin
check "refused TCP connect -> FOTA_ERR_CONNECT_REFUSED" [ "$(result_of "$WORK/refused.log")" = $CONNECT_REFUSED ]
check "refused: detail says refused" grep -qi "refused" "$WORK/refused.log"

# A server that accepts and never answers: the handshake read times out.
SILENT=$(free_port)
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('127.0.0.1',$SILENT)); s.listen(4); c=s.accept(); time.sleep(30)" &
SILENT_PID=$!
for i in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$SILENT) 2>/dev/null && break; sleep 0.1; done
get silent --ca "$CA" --timeout-ms 500 localhost "$SILENT" /fw.bin
check "silent server -> FOTA_ERR_TIMEOUT" [ "$(result_of "$WORK/silent.log")" = $TIMEOUT ]
kill $SILENT_PID 2>/dev/null; SILENT_PID=

# 5. tls == 0 passes straight through to the lower transport.
get plain --ca "$CA" --plain localhost "$P_PLAIN" /fw.bin
check "plain HTTP through the TLS transport (tls=0)" cmp -s "$WORK/www/fw.bin" "$WORK/plain.body"

# 6. Trust store forms: a bundle with the CA second, and one pinned DER CA.
cat "$WORK/pki/selfsigned.pem" "$CA" >"$WORK/bundle.pem"
get bundle --ca "$WORK/bundle.pem" localhost "$P_VALID" /fw.bin
check "PEM bundle with several CAs" cmp -s "$WORK/www/fw.bin" "$WORK/bundle.body"
openssl x509 -in "$CA" -outform DER -out "$WORK/ca.der"
get der --ca "$WORK/ca.der" localhost "$P_VALID" /fw.bin
check "pinned CA in DER" cmp -s "$WORK/www/fw.bin" "$WORK/der.body"
echo "not a certificate" >"$WORK/junk.pem"
get junk --ca "$WORK/junk.pem" localhost "$P_VALID" /fw.bin
check "unparseable CA -> FOTA_ERR_TLS at init" [ "$(result_of "$WORK/junk.log")" = $TLS ]

# 7. max_fragment_length: nginx (OpenSSL) honours it, so the device's TLS
# input buffer can be that small. Without it the server sends 16 KB records.
check "without MFL the server sends records > 4096" [ "$(field "$WORK/ok.log" max_record)" -gt 4096 ]
for mfl in 1:512 2:1024 3:2048 4:4096; do
  get mfl${mfl%%:*} --ca "$CA" --mfl ${mfl%%:*} localhost "$P_VALID" /fw.bin
  check "MFL ${mfl##*:}: file intact" cmp -s "$WORK/www/fw.bin" "$WORK/mfl${mfl%%:*}.body"
  rec=$(field "$WORK/mfl${mfl%%:*}.log" max_record)
  check "MFL ${mfl##*:}: largest record $rec <= ${mfl##*:} (+256 for MAC/padding)" [ "${rec:-999999}" -le $((${mfl##*:} + 256)) ]
done

# 8. Heap taken by mbedTLS (statically linked, calloc/free counted): all
# given back after fota_tls_free().
if [ -n "${TLS_GET_COUNTED:-}" ]; then
  for mfl in 0 4 1; do
    "$TLS_GET_COUNTED" --ca "$CA" --mfl $mfl localhost "$P_VALID" /fw.bin "$WORK/heap$mfl.body" >"$WORK/heap$mfl.log" 2>&1
    echo "--- heap, mfl $mfl:"; cat "$WORK/heap$mfl.log"
    check "counted client (mfl $mfl): body identical" cmp -s "$WORK/www/fw.bin" "$WORK/heap$mfl.body"
    check "counted client (mfl $mfl): no heap left after fota_tls_free" grep -q "heap_end=0 " "$WORK/heap$mfl.log"
  done
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
