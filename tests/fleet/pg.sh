# shellcheck shell=bash
# tests/fleet/pg.sh - a temporary PostgreSQL cluster and an nginx balancer
# for the fleet tests. Source after tests/e2e/lib.sh and fleet.sh:
#   start_pg                  -> PG_URL (postgresql://fota@127.0.0.1:PORT/postgres)
#                                a fresh cluster (initdb, pg_ctl) on a free loopback
#                                port, its socket and data in the test's temporary
#                                directory: removed with it. As root it runs as
#                                "nobody" (PostgreSQL refuses to run as root).
#   restart_pg                PostgreSQL restarts (pg_ctl restart -m fast, same port):
#                                every client connection is dropped
#   start_balancer URL...     -> BALANCER_URL BALANCER_LOG: nginx round-robin over
#                                the fota serve URLs, retrying the next one when an
#                                instance is down; its access log says which served
#                                each request ("URI STATUS UPSTREAM").

start_pg() {
    local bin run=() dir
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$bin" ] && [ -x "$bin/initdb" ] || skip "PostgreSQL not installed (/usr/lib/postgresql/*/bin/initdb)"
    dir=$FOTA_TEST_TMP/pg
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chmod 711 "$FOTA_TEST_TMP"
        chown nobody "$dir"
        run=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
    fi
    (cd / && "${run[@]}" "$bin/initdb" -D "$dir/data" -A trust -U fota -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1) || { fail "initdb failed:"; sed 's/^/    /' "$dir/initdb.log"; return 1; }
    local attempt port
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        if (cd / && "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
                -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c max_connections=60" start \
                >/dev/null 2>&1); then
            lib_track "$(head -n 1 "$dir/data/postmaster.pid")"
            PG_URL=postgresql://fota@127.0.0.1:$port/postgres
            export PG_URL
            return 0
        fi
        grep -q "already in use" "$dir/server.log" 2>/dev/null || break
    done
    fail "PostgreSQL did not start; its log:"
    sed 's/^/    /' "$dir/server.log"
    return 1
}

restart_pg() {
    local bin run=() dir=$FOTA_TEST_TMP/pg
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ "$(id -u)" = 0 ] && run=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
    (cd / && "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast \
        restart >/dev/null 2>&1) || { fail "PostgreSQL did not restart; its log:"; sed 's/^/    /' "$dir/server.log"; return 1; }
    lib_track "$(head -n 1 "$dir/data/postmaster.pid")"
}

start_balancer() {
    local nginx=${NGINX_BIN:-/usr/sbin/nginx} ndir u servers="" user_line="" attempt
    [ -x "$nginx" ] || skip "nginx not found at $nginx"
    ndir=$(mktemp -d "$FOTA_TEST_TMP/balancer.XXXXXX")
    mkdir -p "$ndir/tmp"
    for u in "$@"; do servers="$servers server ${u#http://} max_fails=1 fail_timeout=60s;"; done
    [ "$(id -u)" = 0 ] && user_line="user root;"
    for attempt in 1 2 3 4 5; do
        local port
        port=$(free_port)
        cat >"$ndir/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes 1;
pid $ndir/nginx.pid;
error_log $ndir/error.log;
events { worker_connections 512; }
http {
    log_format up '\$request_uri \$status \$upstream_addr';
    access_log $ndir/access.log up;
    client_body_temp_path $ndir/tmp;
    proxy_temp_path $ndir/tmp;
    upstream fleet { $servers keepalive 16; }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://fleet;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout http_502;
        }
    }
}
CONF
        start_bg "balancer.$port" "$nginx" -p "$ndir" -c "$ndir/nginx.conf" -e "$ndir/error.log"
        BALANCER_URL=http://127.0.0.1:$port
        BALANCER_LOG=$ndir/access.log
        export BALANCER_URL BALANCER_LOG
        if wait_http "$BALANCER_URL/" "$BG_PID"; then
            return 0
        fi
        grep -q "Address already in use" "$ndir/error.log" 2>/dev/null || break
    done
    fail "the nginx balancer did not start:"
    sed 's/^/    /' "$ndir/error.log"
    return 1
}
