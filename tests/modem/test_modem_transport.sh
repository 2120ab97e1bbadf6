#!/usr/bin/env bash
# The SIM800 transport against sim800sim: bring-up, a GET through the modem
# returns the exact file from a real server (plain, by name, over TLS, on a
# GPRS-speed link), and each fault of the modem gives its own error code and
# a message naming the step.
. "$FOTA_SRC/tests/e2e/lib.sh"
. "$FOTA_SRC/tests/tls/tls_lib.sh"
require_tools python3 curl

dir=$(fota_tmpdir)
head -c 150000 /dev/urandom >"$dir/fw.bin"
head -c 20000 /dev/urandom >"$dir/small.bin"
start_python_http "$dir"
HTTP_PORT=$PY_PORT

SIM_N=0
# start_modem [sim800sim options...]: a fresh simulated modem; sets TTY.
start_modem() {
  SIM_N=$((SIM_N + 1))
  TTY=$FOTA_TEST_TMP/modem$SIM_N.tty
  start_bg "sim800sim.$SIM_N" "$SIM800SIM" --link "$TTY" --verbose "$@"
  SIM_PID=$BG_PID
  wait_line "$FOTA_TEST_TMP/sim800sim.$SIM_N.out" '^pty ' "$SIM_PID" >/dev/null ||
    { fail "sim800sim did not start: $(cat "$FOTA_TEST_TMP/sim800sim.$SIM_N.err")"; return 1; }
}
# get NAME [modem_get options...] HOST PORT PATH: run modem_get on $TTY; the
# body goes to $dir/NAME.out, the report to $dir/NAME.log.
get() {
  local name=$1; shift
  local args=("$@")
  local n=${#args[@]}
  timeout 120 "$MODEM_GET" --tty "$TTY" --cmd-timeout 2000 --reg-timeout 1500 "${args[@]:0:n-3}" \
    "${args[@]:n-3}" "$dir/$name.out" >"$dir/$name.log" 2>&1 || true
  note "$name: $(tr '\n' ' ' <"$dir/$name.log")"
}
result() { sed -n 's/^result=\(-\{0,1\}[0-9]*\) \(.*\)$/\2/p' "$dir/$1.log" | tail -1; }
detail() { sed -n 's/^detail=//p' "$dir/$1.log" | tail -1; }

# --- a working modem ---------------------------------------------------------
start_modem
timeout 60 "$MODEM_GET" --tty "$TTY" --apn internet --bring-up-only >"$dir/up.log" 2>&1 || true
expect_eq "$(sed -n 's/^result=//p' "$dir/up.log")" "0 FOTA_OK" "bring-up succeeds"
expect_contains "$(cat "$dir/up.log")" "rssi=18" "bring-up reads the signal quality"

get plain --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
expect_eq "$(result plain)" FOTA_OK "GET through the modem"
expect_file_eq "$dir/plain.out" "$dir/fw.bin" "GET through the modem returns the exact file"
expect_contains "$(cat "$dir/plain.log")" "transport=gsm" "the transport is named gsm"

get byname --apn internet localhost "$HTTP_PORT" /fw.bin
expect_file_eq "$dir/byname.out" "$dir/fw.bin" "GET by host name (AT+CDNSGIP) returns the exact file"
expect_contains "$(cat "$FOTA_TEST_TMP/sim800sim.$SIM_N.err")" 'AT+CDNSGIP="localhost"' "the name was resolved by the modem"

get tinybuf --apn internet --line 64 --rx 16 127.0.0.1 "$HTTP_PORT" /small.bin
expect_file_eq "$dir/tinybuf.out" "$dir/small.bin" "smallest buffers (line 64, RX 16) still work"

get refused --apn internet 127.0.0.1 "$(free_port)" /fw.bin
expect_eq "$(result refused)" FOTA_ERR_CONNECT "connect to a dead port -> FOTA_ERR_CONNECT"
expect_contains "$(detail refused)" "CONNECT FAIL" "connect failure quotes the modem"

# --- TLS layered over the modem ----------------------------------------------
make_pki "$dir/pki"
TLS_PORT=$(free_port)
start_tls_nginx "$dir/pki" "$dir" valid:$TLS_PORT
lib_track "$NGINX_PID"
get tls --apn internet --ca "$dir/pki/ca.pem" localhost "$TLS_PORT" /fw.bin
expect_eq "$(result tls)" FOTA_OK "HTTPS through the modem"
expect_file_eq "$dir/tls.out" "$dir/fw.bin" "HTTPS through the modem returns the exact file"
get tls_bad --apn internet --ca "$dir/pki/selfsigned.pem" localhost "$TLS_PORT" /fw.bin
expect_eq "$(result tls_bad)" FOTA_ERR_TLS_CERT_UNTRUSTED "HTTPS through the modem checks the certificate"

# --- a slow GPRS link --------------------------------------------------------
start_modem --rate 5000
get slow --apn internet 127.0.0.1 "$HTTP_PORT" /small.bin
expect_file_eq "$dir/slow.out" "$dir/small.bin" "GET over a 5 KB/s link returns the exact file"

# --- faults: each its own code and message ----------------------------------
fault_case() { # name, expected code, expected detail text, sim800sim options... -- modem_get options...
  local name=$1 code=$2 text=$3; shift 3
  local simopts=()
  while [ "$1" != -- ]; do simopts+=("$1"); shift; done
  shift
  start_modem "${simopts[@]}"
  get "$name" "$@"
  expect_eq "$(result "$name")" "$code" "$name -> $code"
  expect_contains "$(detail "$name")" "$text" "$name: message"
  kill "$SIM_PID" 2>/dev/null || true
}
fault_case sim_missing FOTA_ERR_LINK "SIM not ready: AT+CPIN? answered +CME ERROR: 10 (SIM not inserted)" \
  --fault sim-not-ready -- --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
fault_case sim_pin FOTA_ERR_LINK "SIM not ready: +CPIN: SIM PIN" \
  --fault sim-not-ready=pin -- --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
fault_case unregistered FOTA_ERR_LINK "no network registration: +CREG: 0,2 (searching)" \
  --fault no-registration -- --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
fault_case denied FOTA_ERR_LINK "no network registration: +CREG: 0,3 (registration denied)" \
  --fault no-registration=3 -- --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
fault_case attach FOTA_ERR_LINK "GPRS attach failed: AT+CGATT=1 answered ERROR" \
  --fault attach-fail -- --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
fault_case apn FOTA_ERR_LINK "APN rejected: AT+CIICR answered ERROR (APN \"internet\")" \
  --fault apn-reject -- --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
fault_case wrong_apn FOTA_ERR_LINK "APN rejected: AT+CIICR answered ERROR (APN \"wrong.apn\")" \
  --apn internet -- --apn wrong.apn 127.0.0.1 "$HTTP_PORT" /fw.bin
fault_case cme FOTA_ERR_LINK "modem setup: AT+CIPMUX=0 answered +CME ERROR: 4 (not supported)" \
  --fault cme-error=AT+CIPMUX=0:4 -- --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
fault_case dns FOTA_ERR_DNS "DNS lookup of localhost failed: +CDNSGIP: 0,8" \
  --fault dns-fail -- --apn internet localhost "$HTTP_PORT" /fw.bin
fault_case connect FOTA_ERR_CONNECT "TCP connect to 127.0.0.1:$HTTP_PORT failed: CONNECT FAIL" \
  --fault connect-fail -- --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
fault_case pdp FOTA_ERR_LINK "GPRS context dropped (+PDP: DEACT)" \
  --fault pdp-drop=40000 -- --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin

# --times: only the first session fails; the next bring-up recovers.
start_modem --fault pdp-drop=40000 --times 1
get drop1 --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
expect_eq "$(result drop1)" FOTA_ERR_LINK "--times 1: the first connection drops"
get drop2 --apn internet 127.0.0.1 "$HTTP_PORT" /fw.bin
expect_file_eq "$dir/drop2.out" "$dir/fw.bin" "--times 1: after the drop the link comes back and the GET works"

# A modem that never answers (a pty nobody serves).
python3 -c 'import os,pty,sys,time
m,s=pty.openpty(); os.symlink(os.ttyname(s), sys.argv[1]); sys.stdout.write("ready\n"); sys.stdout.flush(); time.sleep(120)' \
  "$FOTA_TEST_TMP/dead.tty" >"$FOTA_TEST_TMP/deadpty.out" 2>&1 &
lib_track $!
wait_line "$FOTA_TEST_TMP/deadpty.out" ready $! >/dev/null
TTY=$FOTA_TEST_TMP/dead.tty
timeout 60 "$MODEM_GET" --tty "$TTY" --cmd-timeout 100 --apn internet --bring-up-only >"$dir/dead.log" 2>&1 || true
expect_eq "$(result dead)" FOTA_ERR_LINK "silent modem -> FOTA_ERR_LINK"
expect_contains "$(cat "$dir/dead.log")" "modem not responding: no answer to AT" "silent modem: message"

finish
