# helpers.bash -- shared helpers of the API tests (bats + curl + jq + openssl + psql).
#
# Load with `load helpers` from a tests/api/*.bats file. Needs the
# TENANTRY_TEST_* variables that `scripts/dev test --api` exports.
#
# Requests
#   api METHOD PATH [JSON] [CURL_ARGS...]
#       one request to $TENANTRY_TEST_URL. A non-empty JSON is sent as the body
#       with Content-Type: application/json (pass "" for no body). Sets
#         STATUS   the HTTP status ("000" when curl got no answer)
#         HEADERS  the response headers, CR stripped, one per line
#         BODY     the response body
#         REQ      "METHOD PATH" (for failure messages)
#       and always returns 0: assert on the variables.
#   api_as TOKEN METHOD PATH [JSON] [CURL_ARGS...]    the same with a Bearer token
#   header NAME          the (first) value of a response header, case-insensitive
#   header_count NAME    how many times the header occurs
#   jqb FILTER [ARGS]    jq -r FILTER on BODY
#   check_body JQ [ARGS] BODY satisfies the jq expression (prints BODY on failure)
#   expect_status N      STATUS is N (prints the request and BODY on failure)
#   expect_error N CODE  STATUS is N and BODY is exactly the SPEC §3 error shape
#                        with that code, request_id == X-Request-Id, and the
#                        status' companion header (401 WWW-Authenticate,
#                        405 Allow, 503 Retry-After)
#
# Identities
#   login EMAIL PASSWORD        prints the identity token (fails unless 200)
#   tenant_token ID_TOKEN TID   prints the tenant-scoped token (fails unless 200)
#   admin_token                 the superadmin's identity token (cached per file)
#   create_user EMAIL NAME PASSWORD [true]   POST /api/v1/users; prints the id
#   new_user PREFIX             a fresh user: sets NEW_EMAIL NEW_ID NEW_PASSWORD
#   ctl ARGS...                 ./tenantryctl from the repo root, app role URL
#   new_tenant PREFIX OWNER_EMAIL [TIER]   sets NEW_TENANT_ID NEW_TENANT_SLUG
#   demo_tenant_id SLUG         id of a seeded tenant (acme, globex, initech)
#   uniqsfx                     a fresh lower-case [0-9a-z] suffix
#
# Database
#   psql_owner [SQL]   psql -At as the table owner (SQL or stdin)
#   psql_app [SQL]     psql -At as the app role (RLS applies)
#   psql_super [SQL]   psql -At as the superuser on the tenantry database
#   psql_in_tenant URL TENANT_ID SQL   SQL in one transaction that first sets
#                      tenantry.tenant_id with set_config(..., true)
#
# Processes
#   worker_ids         this stack's tenantry.fcgi workers as sorted "PID:STARTTIME"
#                      lines (a restarted worker changes either)
#
# Tokens made by hand
#   forge_jwt PAYLOAD_JSON [ALG]  header {"alg":ALG,"typ":"JWT"} (default HS256),
#                      signed with the test secret: HS256 -> HMAC-SHA256,
#                      HS384/HS512 -> HMAC-SHA384/512, none -> no signature,
#                      anything else (RS256...) -> HMAC-SHA256 (key confusion)
#   jwt_payload TOKEN  the decoded payload JSON
#   jwt_header TOKEN   the decoded header JSON
#   claims KIND SUB [TENANT_ID]   a valid payload (iss/aud/sub/iat/exp, now)
#                      for KIND identity|tenant, iss taken from a real token

: "${TENANTRY_TEST_URL:?run the API tests through scripts/dev test --api}"

TENANTRY_REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
DEMO_PASSWORD="demo-password"

_tmp() {
    printf '%s' "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-${BATS_RUN_TMPDIR:-/tmp}}}"
}

fail() {
    printf '%s\n' "$@" >&2
    return 1
}

_SEQ=0
uniqsfx() {
    _SEQ=$((_SEQ + 1))
    printf '%s%s%s%s' "$(date +%s%N | tail -c 9)" "$$" "$RANDOM" "$_SEQ"
}

# ---- HTTP ------------------------------------------------------------------------

tcurl() {
    local -a tls=(-k)
    if [[ -n "${TENANTRY_TEST_CA_FILE:-}" && -r "${TENANTRY_TEST_CA_FILE:-}" ]]; then
        tls=(--cacert "$TENANTRY_TEST_CA_FILE")
    fi
    curl --silent --show-error --max-time "${CURL_MAX_TIME:-30}" "${tls[@]}" "$@"
}

api() {
    local method="$1" path="$2" json="${3-}" d
    shift 2
    (($#)) && shift
    local -a data=()
    d="$(_tmp)"
    if [[ -n "$json" ]]; then
        # From a file: a body starting with @ must not make curl read a file.
        printf '%s' "$json" >"$d/api_req"
        data=(-H 'Content-Type: application/json' --data-binary "@$d/api_req")
    fi
    REQ="$method $path"
    rm -f "$d/api_headers" "$d/api_body"
    local -a how=(-X "$method")
    [[ "$method" != HEAD ]] || how=(--head)
    STATUS="$(tcurl "${how[@]}" -D "$d/api_headers" -o "$d/api_body" -w '%{http_code}' \
        "${data[@]}" "$@" "$TENANTRY_TEST_URL$path" 2>"$d/api_err")" || STATUS="${STATUS:-000}"
    [[ -n "$STATUS" ]] || STATUS=000
    BODY="$(cat "$d/api_body" 2>/dev/null || true)"
    [[ "$method" != HEAD ]] || BODY=""   # curl --head writes the headers to -o too
    # With HTTP/2 there is one header block; keep the last block in any case.
    HEADERS="$(tr -d '\r' <"$d/api_headers" 2>/dev/null |
        awk '/^HTTP\// { block = "" } { block = block $0 "\n" } END { printf "%s", block }')"
    return 0
}

api_as() {
    local token="$1" method="$2" path="$3" json="${4-}"
    shift 3
    (($#)) && shift
    api "$method" "$path" "$json" -H "Authorization: Bearer $token" "$@"
}

header() {
    printf '%s\n' "$HEADERS" | awk -v n="$1" 'BEGIN { n = tolower(n) }
        { i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) {
              v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v; exit } }'
}

header_count() {
    printf '%s\n' "$HEADERS" | awk -v n="$1" 'BEGIN { n = tolower(n); c = 0 }
        { i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) c++ }
        END { print c }'
}

jqb() {
    printf '%s' "$BODY" | jq -r "$@"
}

check_body() {
    local expr="$1" out
    shift
    out="$(printf '%s' "$BODY" | jq "$@" "$expr" 2>&1)" || true
    [[ "$out" == true ]] ||
        fail "body check failed: $expr" "request: $REQ -> $STATUS" "body: $BODY" "jq: $out"
}

expect_status() {
    [[ "$STATUS" == "$1" ]] || fail "expected status $1, got $STATUS for $REQ" "headers:" "$HEADERS" "body: $BODY"
}

# expect_error STATUS CODE: the whole SPEC §3 error contract.
expect_error() {
    local want="$1" code="$2" rid ok
    expect_status "$want" || return 1
    [[ "$(header Content-Type)" == application/json* ]] ||
        fail "error $want for $REQ: Content-Type is '$(header Content-Type)', not application/json" || return 1
    ok="$(printf '%s' "$BODY" | jq --arg code "$code" '
        type == "object" and keys == ["error"] and (.error | type == "object")
        and (.error | has("code") and has("message") and has("request_id"))
        and ((.error | keys) - ["code", "message", "request_id", "details"] == [])
        and .error.code == $code
        and (.error.message | type == "string" and length > 0)
        and (.error.request_id | type == "string" and length > 0)
        and ((.error | has("details") | not) or (.error.details | type == "array"))' 2>/dev/null)" || ok=false
    [[ "$ok" == true ]] ||
        fail "error body of $REQ ($STATUS) is not {\"error\":{\"code\":\"$code\",\"message\",\"request_id\"}}" "body: $BODY" || return 1
    rid="$(header X-Request-Id)"
    [[ -n "$rid" && "$(header_count X-Request-Id)" == 1 ]] ||
        fail "$REQ: expected exactly one X-Request-Id header" "headers:" "$HEADERS" || return 1
    [[ "$(jqb .error.request_id)" == "$rid" ]] ||
        fail "$REQ: body request_id $(jqb .error.request_id) != X-Request-Id $rid" || return 1
    # Never SQL, file paths or stack traces.
    if grep -qiE 'postgres|libpq|select |insert |syntax error|sqlstate|/work/|/tmp/|\.c:[0-9]|segfault|stack' <<<"$BODY"; then
        fail "$REQ: the error body leaks internals: $BODY" || return 1
    fi
    case "$want" in
        401) [[ "$(header WWW-Authenticate)" == Bearer* ]] ||
            fail "$REQ: 401 without 'WWW-Authenticate: Bearer ...'" "headers:" "$HEADERS" || return 1 ;;
        405) [[ -n "$(header Allow)" ]] || fail "$REQ: 405 without Allow" "headers:" "$HEADERS" || return 1 ;;
        503) [[ "$(header Retry-After)" =~ ^[0-9]+$ ]] ||
            fail "$REQ: 503 without a numeric Retry-After" "headers:" "$HEADERS" || return 1 ;;
    esac
    return 0
}

# ---- identities ------------------------------------------------------------------

login() {
    api POST /api/v1/auth/login "$(jq -cn --arg e "$1" --arg p "$2" '{email: $e, password: $p}')"
    [[ "$STATUS" == 200 ]] || fail "login $1: $STATUS $BODY" || return 1
    jqb .access_token
}

tenant_token() {
    api_as "$1" POST /api/v1/auth/tenant-token "$(jq -cn --arg t "$2" '{tenant_id: $t}')"
    [[ "$STATUS" == 200 ]] || fail "tenant-token $2: $STATUS $BODY" || return 1
    jqb .access_token
}

# The superadmin's identity token, cached for the file (10 minutes; tokens live 15).
admin_token() {
    local f="${BATS_FILE_TMPDIR:-$(_tmp)}/admin_token" t
    if [[ -s "$f" && -n "$(find "$f" -mmin -10 2>/dev/null)" ]]; then
        cat "$f"
        return 0
    fi
    t="$(login "$TENANTRY_TEST_ADMIN_EMAIL" "$TENANTRY_TEST_ADMIN_PASSWORD")" || return 1
    printf '%s' "$t" >"$f"
    printf '%s' "$t"
}

# create_user EMAIL NAME PASSWORD [IS_SUPERADMIN] -> the new user's id
create_user() {
    local tok body
    tok="$(admin_token)" || return 1
    body="$(jq -cn --arg e "$1" --arg n "$2" --arg p "$3" --arg s "${4:-}" \
        '{email: $e, name: $n, password: $p} + (if $s == "" then {} else {is_superadmin: ($s == "true")} end)')"
    api_as "$tok" POST /api/v1/users "$body"
    [[ "$STATUS" == 201 ]] || fail "create user $1: $STATUS $BODY" || return 1
    jqb .id
}

# new_user PREFIX: sets NEW_EMAIL NEW_ID NEW_PASSWORD.
new_user() {
    local u
    u="$(uniqsfx)"
    NEW_EMAIL="${1:-user}-$u@api-tests.example"
    NEW_PASSWORD="pw-${u}-Secret"
    NEW_ID="$(create_user "$NEW_EMAIL" "${1:-user} $u" "$NEW_PASSWORD")" || return 1
}

# ctl ARGS...: the operator CLI against the test database, as the app role.
ctl() {
    (cd "$TENANTRY_REPO" && TENANTRY_DATABASE_URL="$TENANTRY_TEST_APP_DB_URL" ./tenantryctl "$@")
}

# new_tenant PREFIX OWNER_EMAIL [TIER]: sets NEW_TENANT_ID NEW_TENANT_SLUG.
new_tenant() {
    local slug out
    slug="${1:-t}-$(uniqsfx)"
    out="$(ctl create-tenant --name "API test $slug" --slug "$slug" --tier "${3:-business}" \
        --owner-email "$2" 2>&1)" || fail "create-tenant $slug: $out" || return 1
    NEW_TENANT_ID="$(grep -Eo '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' <<<"$out" | tail -1)"
    NEW_TENANT_SLUG="$slug"
    [[ -n "$NEW_TENANT_ID" ]] || fail "create-tenant $slug printed no id: $out"
}

add_member() {
    local out
    out="$(ctl add-member --tenant "$1" --email "$2" --role "$3" 2>&1)" ||
        fail "add-member $*: $out"
}

# demo_tenant_id SLUG: the seeded tenants, read from their owner's login.
demo_tenant_id() {
    local owner f="${BATS_FILE_TMPDIR:-$(_tmp)}/demo_$1"
    if [[ -s "$f" ]]; then
        cat "$f"
        return 0
    fi
    case "$1" in
        acme) owner=alice@acme.example ;;
        globex) owner=gina@globex.example ;;
        initech) owner=ivan@initech.example ;;
        *) fail "no demo tenant $1"; return 1 ;;
    esac
    login "$owner" "$DEMO_PASSWORD" >/dev/null || return 1
    jqb --arg s "$1" '.tenants[] | select(.slug == $s) | .id' >"$f"
    [[ -s "$f" ]] || fail "demo tenant $1 not in $owner's login" || return 1
    cat "$f"
}

# ---- SQL -------------------------------------------------------------------------

_psql() {
    local url="$1"
    shift
    if (($#)); then
        psql "$url" -X -q -At -v ON_ERROR_STOP=1 -c "$1"
    else
        psql "$url" -X -q -At -v ON_ERROR_STOP=1
    fi
}

_super_url() {
    local u="${TENANTRY_TEST_SUPERUSER_DB_URL:?no TENANTRY_TEST_SUPERUSER_DB_URL}"
    if [[ "$u" == *dbname=* ]]; then
        printf '%s' "$(sed -E 's/dbname=[^ ]*/dbname=tenantry/' <<<"$u")"
    else
        printf '%s dbname=tenantry' "$u"
    fi
}

psql_owner() { _psql "$TENANTRY_TEST_OWNER_DB_URL" "$@"; }
psql_app() { _psql "$TENANTRY_TEST_APP_DB_URL" "$@"; }
psql_super() { _psql "$(_super_url)" "$@"; }

# psql_in_tenant URL TENANT_ID SQL: one transaction with tenantry.tenant_id set
# (RLS is FORCEd: even the table owner sees nothing without it).
psql_in_tenant() {
    _psql "$1" <<EOF
BEGIN;
SELECT set_config('tenantry.tenant_id', '$2', true) \\gset
$3
COMMIT;
EOF
}

# ---- JWT -------------------------------------------------------------------------

b64url() {
    openssl base64 -A | tr '+/' '-_' | tr -d '='
}

b64url_decode() {
    local s="$1"
    s="${s//-/+}"
    s="${s//_//}"
    while ((${#s} % 4)); do s+="="; done
    printf '%s' "$s" | openssl base64 -A -d
}

# The HMAC key: the secret file's bytes minus one trailing newline, in hex.
jwt_key_hex() {
    local hex
    hex="$(od -An -v -tx1 "${TENANTRY_TEST_SECRET_FILE:?no TENANTRY_TEST_SECRET_FILE}" | tr -d ' \n')"
    [[ "$hex" == *0a ]] && hex="${hex%0a}"
    printf '%s' "$hex"
}

# forge_jwt PAYLOAD_JSON [ALG]
forge_jwt() {
    local payload="$1" alg="${2:-HS256}" h p sig="" md
    h="$(jq -cn --arg a "$alg" '{alg: $a, typ: "JWT"}' | tr -d '\n' | b64url)"
    p="$(printf '%s' "$payload" | b64url)"
    case "$alg" in
        none) ;;
        HS384) md=sha384 ;;
        HS512) md=sha512 ;;
        *) md=sha256 ;;
    esac
    if [[ "$alg" != none ]]; then
        sig="$(printf '%s' "$h.$p" | openssl dgst -"$md" -mac HMAC -macopt "hexkey:$(jwt_key_hex)" -binary | b64url)"
    fi
    printf '%s.%s.%s' "$h" "$p" "$sig"
}

jwt_header() { b64url_decode "$(cut -d. -f1 <<<"$1")"; }
jwt_payload() { b64url_decode "$(cut -d. -f2 <<<"$1")"; }

# The issuer the server puts in its tokens (read from a real one, cached).
jwt_issuer() {
    local f="${BATS_FILE_TMPDIR:-$(_tmp)}/jwt_iss" t
    if [[ ! -s "$f" ]]; then
        t="$(admin_token)" || return 1
        jwt_payload "$t" | jq -r .iss >"$f"
    fi
    cat "$f"
}

# claims identity|tenant SUB [TENANT_ID]: a payload the server would accept.
claims() {
    local iss now
    iss="$(jwt_issuer)" || return 1
    now="$(date +%s)"
    jq -cn --arg k "$1" --arg s "$2" --arg t "${3:-}" --arg iss "$iss" --argjson now "$now" '
        {iss: $iss, aud: ("tenantry:" + $k), sub: $s, iat: $now, exp: ($now + 600)}
        + (if $t == "" then {} else {tenant_id: $t} end)'
}

# ---- Processes -------------------------------------------------------------------

# This stack's workers as "PID:STARTTIME" lines (a restarted worker changes
# either). The stack records its workers' PIDs; pgrep alone would also see
# other stacks' workers on this machine.
worker_ids() {
    local pids p rec="$TENANTRY_TEST_STATE_DIR/run/tenantry.pids" all
    all=" $(pgrep -f tenantry.fcgi | tr '\n' ' ') "
    if [[ -s "$rec" ]]; then
        pids="$(awk '{ print $1 }' "$rec")"
    else
        pids="$all"
    fi
    for p in $pids; do
        [[ "$all" == *" $p "* ]] || continue
        [[ -r "/proc/$p/stat" ]] || continue
        tr '\0' ' ' <"/proc/$p/cmdline" | grep -q tenantry.fcgi || continue
        printf '%s:%s\n' "$p" "$(awk '{ print $22 }' "/proc/$p/stat")"
    done | sort
}
