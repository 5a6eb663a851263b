# scripts/lib/nginx.sh -- self-signed certificate, nginx config rendering
# (nginx/dev.conf.in), and the nginx master's start/stop/reload.
#
# Uses the stack variables set by stack_configure (scripts/lib/stack.sh):
# STACK_DIR, STACK_HTTPS_PORT, STACK_HTTP_PORT, STACK_KEEPCONN, ...

# shellcheck shell=bash

NGINX_TEMPLATE="$TENANTRY_REPO/nginx/dev.conf.in"

# tls_ensure DIR: DIR/cert.pem + DIR/key.pem, self-signed for 127.0.0.1 and
# localhost; made once, remade only when missing or expiring within a day.
tls_ensure() {
    local dir="$1"
    mkdir -p "$dir"
    if [[ -s "$dir/cert.pem" && -s "$dir/key.pem" ]] &&
        openssl x509 -in "$dir/cert.pem" -noout -checkend 86400 >/dev/null 2>&1; then
        return 0
    fi
    log "making a self-signed certificate in $dir"
    (
        umask 077
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -days 825 -subj "/CN=127.0.0.1" \
            -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
            -addext "basicConstraints=critical,CA:FALSE" \
            -addext "keyUsage=critical,digitalSignature" \
            -addext "extendedKeyUsage=serverAuth" \
            -keyout "$dir/key.pem.tmp" -out "$dir/cert.pem.tmp" 2>/dev/null
    ) || die "openssl could not make a certificate in $dir"
    mv -f "$dir/key.pem.tmp" "$dir/key.pem"
    mv -f "$dir/cert.pem.tmp" "$dir/cert.pem"
    chmod 0644 "$dir/cert.pem"
}

# render_template IN NAME=VALUE... : print IN with every @NAME@ replaced.
# Fails when a placeholder is left over.
render_template() {
    local in="$1" text kv k v left
    shift
    text="$(<"$in")" || return 1
    for kv in "$@"; do
        k="${kv%%=*}" v="${kv#*=}"
        # Quoted replacement: literal even with bash 5.2's patsub_replacement.
        text="${text//"@$k@"/"$v"}"
    done
    left="$(grep -oE '@[A-Z_]+@' <<<"$text" | sort -u | tr '\n' ' ')" || true
    if [[ -n "$left" ]]; then
        warn "unreplaced placeholders in $in: $left"
        return 1
    fi
    printf '%s\n' "$text"
}

# The substitutions for the app server (or, with other arguments, bench's
# copy of it).  nginx_vars UPSTREAM SOCKET HTTPS_PORT KEEPCONN
nginx_vars() {
    local upstream="$1" socket="$2" https_port="$3" keepconn="$4" user keepalive
    if is_root; then
        user='user root;  # started by root: see the comment above'
    else
        user='# (not root: nginx runs as the invoking user)'
    fi
    if [[ "$keepconn" == on ]]; then
        keepalive="keepalive ${STACK_UPSTREAM_KEEPALIVE:-$(nginx_default_keepalive)};"
    else
        keepalive='# no upstream keepalive (fastcgi_keep_conn off)'
    fi
    printf '%s\n' \
        "USER_DIRECTIVE=$user" \
        "NGINX_WORKERS=${STACK_NGINX_WORKERS:-auto}" \
        "STATE_DIR=$STACK_DIR" \
        "HTTPS_PORT=$https_port" \
        "HTTP_PORT=$STACK_HTTP_PORT" \
        "TLS_CERT=$STACK_DIR/tls/cert.pem" \
        "TLS_KEY=$STACK_DIR/tls/key.pem" \
        "STATIC_DIR=$TENANTRY_REPO/static" \
        "UPSTREAM=$upstream" \
        "FCGI_SOCKET=$socket" \
        "KEEPCONN=$keepconn" \
        "UPSTREAM_KEEPALIVE=$keepalive"
}

# Idle upstream connections each nginx worker may keep: the FastCGI pool
# split between the nginx workers, so that all kept connections together
# never hold more libfcgi workers than exist (each serves one connection).
nginx_default_keepalive() {
    local nw="${STACK_NGINX_WORKERS:-auto}" n
    [[ "$nw" == auto ]] && nw="$(nproc)"
    n=$(( STACK_WORKERS / nw ))
    ((n >= 1)) || n=1
    echo "$n"
}

# nginx_render [KEEPCONN]: write $STACK_DIR/nginx/nginx.conf.
nginx_render() {
    local keepconn="${1:-$STACK_KEEPCONN}"
    local -a vars
    mkdir -p "$STACK_DIR/nginx/conf.d" "$STACK_DIR/nginx/tmp" "$STACK_DIR/log"
    mapfile -t vars < <(nginx_vars tenantry_app "$STACK_SOCKET" "$STACK_HTTPS_PORT" "$keepconn")
    render_template "$NGINX_TEMPLATE" "${vars[@]}" >"$STACK_DIR/nginx/nginx.conf.new" ||
        die "could not render $NGINX_TEMPLATE"
    mv -f "$STACK_DIR/nginx/nginx.conf.new" "$STACK_DIR/nginx/nginx.conf"
}

# nginx_app_server_block UPSTREAM SOCKET HTTPS_PORT KEEPCONN: print the
# template's app-server block rendered with these values (bench/run's
# second server in front of bare_fcgi).
nginx_app_server_block() {
    local -a vars
    mapfile -t vars < <(nginx_vars "$@")
    render_template "$NGINX_TEMPLATE" "${vars[@]}" |
        sed -n '/# BEGIN app-server/,/# END app-server/p'
}

# nginx_plain_server_block UPSTREAM SOCKET PORT KEEPCONN: the same app-server
# block on plain HTTP (bench/run --fast takes TLS out of the measurement):
# the template's block with "ssl http2" dropped from its listen line and
# without the certificate lines; everything else -- locations, FastCGI
# params (HTTPS on: as behind a TLS terminator), headers -- is unchanged.
nginx_plain_server_block() {
    local block
    block="$(nginx_app_server_block "$@")" || return 1
    block="$(sed -e 's/^\( *listen 127\.0\.0\.1:[0-9]*\) ssl http2;/\1;/' \
        -e '/^ *ssl_certificate\(_key\)\{0,1\} /d' <<<"$block")"
    if grep -qE '^ *(listen .*ssl|ssl_)' <<<"$block"; then
        warn "nginx_plain_server_block: the template's TLS lines changed; cannot make a plain block"
        return 1
    fi
    printf '%s\n' "$block"
}

_nginx() {
    nginx -p "$STACK_DIR/nginx" -c "$STACK_DIR/nginx/nginx.conf" \
        -e "$STACK_DIR/log/nginx-error.log" "$@"
}

nginx_check_config() {
    _nginx -t -q 2>&1 || {
        show_log_tail "$STACK_DIR/log/nginx-error.log" 10
        return 1
    }
}

# nginx_start: check the config, start the master (daemon), record its PID.
nginx_start() {
    local pidfile="$STACK_DIR/run/nginx.pid" rec pid
    nginx_check_config || die "nginx config test failed ($STACK_DIR/nginx/nginx.conf)"
    rm -f "$pidfile"
    detached _nginx </dev/null || {
        show_log_tail "$STACK_DIR/log/nginx-error.log" 15
        die "nginx did not start"
    }
    WAIT_TIMEOUT=10 wait_for test -s "$pidfile" || die "nginx wrote no pid file"
    pid="$(<"$pidfile")"
    rec="$(pid_record "$pid")" || die "nginx (PID $pid) exited right after start"
    echo "$rec" >"$STACK_DIR/run/nginx.rec"
}

# nginx_stop: fast shutdown of the recorded master (its workers follow).
nginx_stop() {
    stop_recorded_file "$STACK_DIR/run/nginx.rec" TERM 10
}

# nginx_reload: re-read the (re-rendered) config; old workers finish their
# requests and exit.
nginx_reload() {
    local rec
    rec="$(cat "$STACK_DIR/run/nginx.rec" 2>/dev/null)" || die "no recorded nginx in $STACK_DIR"
    record_alive "$rec" || die "the recorded nginx is not running"
    nginx_check_config || die "nginx config test failed"
    kill -HUP "${rec%% *}"
}

nginx_running() {
    [[ -f "$STACK_DIR/run/nginx.rec" ]] && record_alive "$(<"$STACK_DIR/run/nginx.rec")"
}
