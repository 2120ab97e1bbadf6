#!/bin/bash
# How the fota TLS transport (ports/tls/tls.c) ends a response when the peer
# closes the TCP connection with or without TLS close_notify (issue 16): a
# close without close_notify is the end of the stream, not a receive error
# (the agent's HTTP layer then checks the body's length; tls_get does not).
set -u
. "$(dirname "$0")/tls_lib.sh"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OK=0

pass=0 fail=0
check() { # description, condition...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok: $what"; else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
result_of() { sed -n 's/^result=\(-\{0,1\}[0-9]*\).*/\1/p' "$1"; }

make_pki "$WORK/pki" || exit 1
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 19 + bytes(136))' >"$WORK/want"

get() { # mode: run the server in that mode, fetch once over TLS
  local mode=$1 pf=$WORK/$1.port
  python3 "$(dirname "$0")/tls_close_server.py" "$WORK/pki/valid.pem" "$WORK/pki/valid.key" \
    "$mode" "$pf" &
  local pid=$!
  for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.1; done
  "$TLS_GET" --ca "$WORK/pki/ca.pem" localhost "$(cat "$pf")" /fw.bin "$WORK/$mode.body" \
    >"$WORK/$mode.log" 2>&1
  wait $pid
  echo "--- $mode"; cat "$WORK/$mode.log"
}

get notify-length
check "close_notify then FIN: the body" [ "$(result_of "$WORK/notify-length.log")" = $OK ]
get fin-length
check "FIN without close_notify after a Content-Length body: end of body" \
  [ "$(result_of "$WORK/fin-length.log")" = $OK ]
check "FIN without close_notify: body identical" cmp -s "$WORK/want" "$WORK/fin-length.body"
get fin-close
check "FIN without close_notify ends a close-delimited body" \
  [ "$(result_of "$WORK/fin-close.log")" = $OK ]
check "close-delimited body identical" cmp -s "$WORK/want" "$WORK/fin-close.body"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
