# Helpers for the TLS tests: a throw-away PKI made with openssl and an nginx
# on loopback ports serving one directory with several certificates.
# Source it; needs $WORK (a temporary directory the caller removes).

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# make_pki DIR: ca.pem (trusted CA) and four server certificates, each with
# its key: valid.* (localhost, 127.0.0.1), expired.* (valid names, notAfter
# in the past), wrongname.* (other.example), selfsigned.* (localhost, not
# issued by the CA).
make_pki() {
  local d=$1
  mkdir -p "$d"
  (
    cd "$d" || exit 1
    set -e
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -subj "/CN=fota test CA" -days 30 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out ca.pem 2>/dev/null
    issue() { # name CN SAN days [selfsigned]
      openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
      printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' "$3" >"$1.ext"
      openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
      if [ "${5:-}" = selfsigned ]; then
        openssl x509 -req -in "$1.csr" -signkey "$1.key" -days "$4" -extfile "$1.ext" -out "$1.pem" 2>/dev/null
      else
        openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$4" \
          -extfile "$1.ext" -out "$1.pem" 2>/dev/null
      fi
    }
    issue valid localhost "DNS:localhost,IP:127.0.0.1" 30
    issue expired localhost "DNS:localhost,IP:127.0.0.1" -1
    issue wrongname other.example "DNS:other.example" 30
    issue selfsigned localhost "DNS:localhost,IP:127.0.0.1" 30 selfsigned
  ) || { echo "make_pki: openssl failed in $d" >&2; return 1; }
}

# start_tls_nginx DIR ROOT NAME:PORT...: nginx serving ROOT over TLS, one
# loopback port per certificate NAME (DIR/NAME.pem, DIR/NAME.key); NAME
# "plain" serves plain HTTP. Sets NGINX_PID; stop with stop_tls_nginx.
start_tls_nginx() {
  local d=$1 root=$2; shift 2
  local conf=$d/nginx.conf servers="" spec name port
  for spec in "$@"; do
    name=${spec%%:*} port=${spec##*:}
    if [ "$name" = plain ]; then
      servers+="  server { listen 127.0.0.1:$port; root $root; }"$'\n'
    else
      servers+="  server { listen 127.0.0.1:$port ssl; ssl_certificate $d/$name.pem; ssl_certificate_key $d/$name.key; root $root; }"$'\n'
    fi
  done
  mkdir -p "$d/nginx-tmp"
  cat >"$conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/nginx-error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $d/nginx-tmp;
  proxy_temp_path $d/nginx-tmp;
  fastcgi_temp_path $d/nginx-tmp;
  uwsgi_temp_path $d/nginx-tmp;
  scgi_temp_path $d/nginx-tmp;
  default_type application/octet-stream;
$servers}
CONF
  nginx -p "$d" -c "$conf" -e "$d/nginx-error.log" &
  NGINX_PID=$!
  # Ready when every port accepts (bounded: 10 s).
  local i ok
  for i in $(seq 1 100); do
    ok=1
    for spec in "$@"; do
      (exec 3<>"/dev/tcp/127.0.0.1/${spec##*:}") 2>/dev/null || ok=0
    done
    [ $ok = 1 ] && return 0
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "start_tls_nginx: nginx did not come up; its log:" >&2
  cat "$d/nginx-error.log" >&2
  return 1
}

stop_tls_nginx() {
  if [ -n "${NGINX_PID:-}" ]; then
    kill "$NGINX_PID" 2>/dev/null
    wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=
  fi
}
