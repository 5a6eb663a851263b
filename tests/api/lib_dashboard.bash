# lib_dashboard.bash -- a browser for the dashboard tests: cookie jars, pages,
# forms, the CSRF token, sign-in (SPEC §2 dashboard sessions, §6 pages).
#
# Load after helpers.bash (`load helpers` then `load lib_dashboard`): it uses
# api(), fail(), header(), expect_status() and psql_owner() from there.
#
#   jar NAME                      the cookie jar file of one browser (per test)
#   page JAR METHOD PATH [CURL_ARGS...]      api() as a browser (jar read and written)
#   post_form JAR PATH [F=V...] [-- CURL_ARGS...]   an urlencoded form POST
#   cookie JAR NAME               a cookie's value in the jar ("" when absent)
#   scrape_csrf / scrape_input NAME   the csrf_token / an input's value in BODY
#   set_cookie_line NAME          the Set-Cookie header that sets NAME
#   urldecode S / urlencode S / sha256_hex S
#   session_rows SID              sessions rows holding SHA-256(SID)
#   expect_page N / expect_redirect PATH / expect_to_login / body_has S / body_lacks S
#   sign_in JAR EMAIL PASSWORD [NEXT]   sets SID and CSRF
#   session_csrf JAR              the session's CSRF token (from /dashboard), in CSRF

HTML_ACCEPT='text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
SESSION_COOKIE='__Host-tenantry'
SID_RE='^[0-9A-Za-z]{32}$'
UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

# jar NAME: the cookie jar file of one browser (fresh for each test).
jar() { printf '%s/jar_%s' "$(_tmp)" "${1:-main}"; }

# page JAR METHOD PATH [CURL_ARGS...]: api() as a browser: the jar's cookies
# are sent and updated, and the client asks for HTML.
page() {
    local j="$1" m="$2" p="$3"
    shift 3
    api "$m" "$p" "" -b "$j" -c "$j" -H "Accept: $HTML_ACCEPT" "$@"
}

# post_form JAR PATH [FIELD=VALUE...] [-- CURL_ARGS...]: an urlencoded form POST.
post_form() {
    local j="$1" p="$2"
    shift 2
    local -a data=() extra=()
    while (($#)); do
        if [[ "$1" == -- ]]; then
            shift
            extra=("$@")
            break
        fi
        data+=(--data-urlencode "$1")
        shift
    done
    ((${#data[@]})) || data=(--data '')   # still a form: an empty one
    page "$j" POST "$p" "${data[@]}" "${extra[@]}"
}

# cookie JAR NAME: the cookie's value in the jar ("" when absent).
cookie() {
    [[ -f "$1" ]] || return 0
    awk -F'\t' -v n="$2" 'NF >= 7 && $6 == n { v = $7 } END { printf "%s", v }' "$1"
}

# scrape_csrf: the first hidden csrf_token in BODY.
scrape_csrf() {
    grep -o 'name="csrf_token" value="[^"]*"' <<<"$BODY" | head -1 | sed -E 's/.*value="([^"]*)"/\1/'
}

# scrape_input NAME: the value attribute of the input named NAME in BODY.
scrape_input() {
    grep -o "name=\"$1\"[^>]*value=\"[^\"]*\"" <<<"$BODY" | head -1 | sed -E 's/.*value="([^"]*)"/\1/'
}

# set_cookie_line NAME: the Set-Cookie header that sets NAME ("" when none).
set_cookie_line() {
    printf '%s\n' "$HEADERS" | awk -v n="$1=" 'BEGIN { IGNORECASE = 1 }
        tolower($0) ~ /^set-cookie:/ { v = $0; sub(/^[^:]*:[ \t]*/, "", v)
            if (substr(v, 1, length(n)) == n) { print v; exit } }'
}

urldecode() {
    local s="${1//+/ }"
    printf '%b' "${s//%/\\x}"
}

urlencode() {
    jq -rn --arg s "$1" '$s | @uri'
}

sha256_hex() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# session_rows SID: how many sessions rows have the SHA-256 of SID as id_hash.
session_rows() {
    psql_owner "SELECT count(*) FROM sessions WHERE id_hash = decode('$(sha256_hex "$1")', 'hex')"
}

# expect_page N: STATUS is N and the answer is an HTML page.
expect_page() {
    expect_status "$1" || return 1
    [[ "$(header Content-Type)" == "text/html; charset=utf-8" ]] ||
        fail "$REQ -> $STATUS: Content-Type '$(header Content-Type)', not 'text/html; charset=utf-8'"
}

# expect_redirect PATH: 303 to exactly PATH.
expect_redirect() {
    expect_status 303 || return 1
    [[ "$(header Location)" == "$1" ]] ||
        fail "$REQ: expected Location $1, got '$(header Location)'" "headers:" "$HEADERS"
}

# expect_to_login: 303 to the sign-in page (with or without next=).
expect_to_login() {
    expect_status 303 || return 1
    [[ "$(header Location)" == /login || "$(header Location)" == "/login?"* ]] ||
        fail "$REQ: expected a redirect to /login, got '$(header Location)'" "headers:" "$HEADERS"
}

body_has() {
    grep -qF -- "$1" <<<"$BODY" || fail "$REQ -> $STATUS: the page lacks '$1'" "body: $BODY"
}

body_lacks() {
    ! grep -qF -- "$1" <<<"$BODY" || fail "$REQ -> $STATUS: the page contains '$1'" "body: $BODY"
}

# sign_in JAR EMAIL PASSWORD [NEXT]: GET /login, POST it; 303; sets SID (the
# session cookie's value) and CSRF (the form token that was used).
sign_in() {
    local j="$1" e="$2" p="$3" next="${4-}" q=""
    [[ -z "$next" ]] || q="?next=$(urlencode "$next")"
    page "$j" GET "/login$q"
    expect_page 200 || return 1
    CSRF="$(scrape_csrf)"
    [[ -n "$CSRF" ]] || fail "no csrf_token in the sign-in form" "body: $BODY" || return 1
    local -a f=("csrf_token=$CSRF" "email=$e" "password=$p")
    [[ -z "$next" ]] || f+=("next=$next")
    post_form "$j" /login "${f[@]}"
    expect_status 303 || return 1
    SID="$(cookie "$j" "$SESSION_COOKIE")"
    [[ "$SID" =~ $SID_RE ]] || fail "sign-in of $e left no session cookie in the jar" "headers:" "$HEADERS"
}

# session_csrf JAR: the signed-in session's CSRF token (from /dashboard), in CSRF.
session_csrf() {
    page "$1" GET /dashboard
    expect_page 200 || return 1
    CSRF="$(scrape_csrf)"
    [[ -n "$CSRF" ]] || fail "no csrf_token on /dashboard" "body: $BODY"
}
