#!/usr/bin/env bash
# The simulated device (fota sim) updates over HTTPS from nginx with the TLS
# transport, and refuses servers whose certificate is wrong, naming the cause.
. "$FOTA_SRC/tests/e2e/lib.sh"
. "$FOTA_SRC/tests/e2e/device.sh"
. "$FOTA_SRC/tests/tls/tls_lib.sh"
require_tools nginx openssl

prepare_release
make_pki "$WORK/pki"
P_VALID=$(free_port) P_EXPIRED=$(free_port) P_WRONG=$(free_port)
start_tls_nginx "$WORK/pki" "$WWW" valid:$P_VALID expired:$P_EXPIRED wrongname:$P_WRONG
lib_track "$NGINX_PID"
CA=$WORK/pki/ca.pem
path=$PRODUCT/manifest.txt

sim_device "https://localhost:$P_VALID/$path" --ca "$CA"
expect_sim 0 "result: up to date, running 1.0.0" "https: factory 1.0.0 is up to date"
release "$FW2"
sim_device "https://localhost:$P_VALID/$path" --ca "$CA"
expect_sim 0 "result: updated 1.0.0 -> 2.0.0 and confirmed (via wifi)" "https: updates 1.0.0 -> 2.0.0"
sim_device "https://localhost:$P_VALID/$path" --ca "$CA"
expect_sim 0 "result: up to date, running 2.0.0" "https: stays on 2.0.0"

# Certificate failures: each its own code, no update.
prepare_release
release "$FW2"
sim_device "https://localhost:$P_VALID/$path" --ca "$CA.missing" --attempts 1
expect_sim 2 "cannot read CA file" "a missing CA file is a usage error naming the file"
sim_device "https://localhost:$P_VALID/$path" --ca "$(dirname "$CA")/selfsigned.pem" --attempts 1
expect_sim 1 "FOTA_ERR_TLS_CERT_UNTRUSTED" "server certificate from another CA -> untrusted"
sim_device "https://localhost:$P_EXPIRED/$path" --ca "$CA" --attempts 1
expect_sim 1 "FOTA_ERR_TLS_CERT_EXPIRED" "expired server certificate -> expired"
sim_device "https://localhost:$P_WRONG/$path" --ca "$CA" --attempts 1
expect_sim 1 "FOTA_ERR_TLS_NAME_MISMATCH" "certificate for another name -> name mismatch"
expect_contains "$(cat "$SIM_OUT")" "running 1.0.0" "no update after a certificate failure"
finish
