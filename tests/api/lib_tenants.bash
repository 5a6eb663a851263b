# lib_tenants.bash -- helpers of the tenant-management API tests (bats + curl + jq).
#
# Load it from a .bats file with `load lib_tenants`. It needs only the
# TENANTRY_TEST_* variables that `scripts/dev test --api` exports, and does
# not depend on tests/api/helpers.bash.
#
#   tt_api [-t TOKEN] [-H 'Name: value']... METHOD PATH [JSON_BODY]
#       one request; sets TT_STATUS, TT_BODY, TT_HEADERS (CR stripped), TT_REQ
#   tt_header NAME          a header of the last response (case-insensitive)
#   tt_jq FILTER            jq -r FILTER on the last body
#   tt_expect STATUS [CODE] the last status (and error code), else print the
#                           request and the body and fail
#   tt_login EMAIL [PASSWORD]           -> identity token
#   tt_tenant_token IDENTITY TENANT_ID  -> tenant-scoped token
#   tt_admin_token                      -> the superadmin's identity token (cached)
#   tt_create_user EMAIL [NAME] [PASSWORD] -> user id (POST /api/v1/users)
#   tt_create_tenant NAME [TIER] [OWNER_EMAIL] -> tenant id (POST /api/v1/tenants)
#   tt_add_member TENANT EMAIL ROLE     tenantryctl add-member
#   tt_new_user PREFIX                  sets TT_EMAIL TT_UID (a fresh user)
#   tt_new_member TENANT ROLE [PREFIX]  sets TT_EMAIL TT_UID TT_TOKEN (identity)
#                                       TT_TTOKEN (tenant-scoped)
#   tt_fixture_tenant VAR [TIER]        a tenant with owner, admin, member and
#                                       viewer; exports VAR_ID, VAR_SLUG, VAR_NAME,
#                                       VAR_<ROLE>_{EMAIL,UID,TOKEN,TTOKEN}
#   tt_sql_owner|tt_sql_app|tt_sql_super SQL      plain psql (-At)
#   tt_sql_in_tenant URL TENANT SQL     SQL in one transaction with
#                                       tenantry.tenant_id set (RLS is FORCEd)
#   tt_jwt_sign PAYLOAD_JSON            an HS256 token signed with the test secret
#   tt_uniq                             a fresh lower-case suffix
#   tt_mail_for EMAIL                   the newest mail file addressed to EMAIL

: "${TENANTRY_TEST_URL:?run through scripts/dev test --api}"

TT_URL="$TENANTRY_TEST_URL"
TT_PASSWORD="tt-test-password-1"
TT_DOMAIN="tt.example"

# Where responses and caches go: the file's temp dir (bats >= 1.4).
tt_tmp() {
    local d="${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}}"
    printf '%s' "$d"
}

tt_fail() {
    printf 'lib_tenants: %s\n' "$*" >&2
    return 1
}

# A suffix unique across runs and processes: time, pid and a counter.
TT_SEQ=0
tt_uniq() {
    TT_SEQ=$((TT_SEQ + 1))
    printf '%s%s%s%s' "$(date +%s%N | tail -c 8)" "$BASHPID" "$RANDOM" "$TT_SEQ"
}

tt_curl() {
    local -a ca=(--cacert "$TENANTRY_TEST_CA_FILE")
    [[ -n "${TENANTRY_TEST_CA_FILE:-}" ]] || ca=(-k)
    curl --silent --show-error --max-time 60 "${ca[@]}" "$@"
}

# tt_api [-t TOKEN] [-H 'Name: value']... METHOD PATH [BODY]
# A BODY is sent as application/json. Sets TT_STATUS TT_BODY TT_HEADERS TT_REQ.
tt_api() {
    local token="" method path d
    local -a hdrs=() data=()
    while (($#)); do
        case "$1" in
            -t) token="$2"; shift 2 ;;
            -H) hdrs+=(-H "$2"); shift 2 ;;
            *) break ;;
        esac
    done
    method="$1" path="$2"
    shift 2
    if (($#)); then
        data=(-H 'Content-Type: application/json' --data-binary "$1")
    fi
    [[ -z "$token" ]] || hdrs+=(-H "Authorization: Bearer $token")
    d="$(tt_tmp)"
    TT_REQ="$method $path${1:+ $1}"
    TT_STATUS="$(tt_curl -X "$method" -D "$d/tt_h" -o "$d/tt_b" -w '%{http_code}' \
        "${hdrs[@]}" "${data[@]}" "$TT_URL$path")" || TT_STATUS=000
    TT_BODY="$(cat "$d/tt_b" 2>/dev/null)"
    TT_HEADERS="$(tr -d '\r' <"$d/tt_h" 2>/dev/null)"
    return 0
}

tt_header() {
    printf '%s\n' "$TT_HEADERS" | awk -v n="$1" 'BEGIN { n = tolower(n) }
        { i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) {
              v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }'
}

tt_jq() {
    printf '%s' "$TT_BODY" | jq -r "$@"
}

# tt_expect STATUS [ERROR_CODE]
tt_expect() {
    local code
    if [[ "$TT_STATUS" != "$1" ]]; then
        printf 'expected %s, got %s for %s\nbody: %s\n' "$1" "$TT_STATUS" "$TT_REQ" "$TT_BODY" >&2
        return 1
    fi
    if [[ -n "${2:-}" ]]; then
        code="$(tt_jq '.error.code // empty' 2>/dev/null)"
        if [[ "$code" != "$2" ]]; then
            printf 'expected error code %s, got "%s" for %s\nbody: %s\n' "$2" "$code" "$TT_REQ" "$TT_BODY" >&2
            return 1
        fi
    fi
}

# tt_check JQ_EXPR [JQ ARGS...]: the last body satisfies the expression.
tt_check() {
    local expr="$1"
    shift
    if [[ "$(printf '%s' "$TT_BODY" | jq "$@" "$expr" 2>/dev/null)" != true ]]; then
        printf 'check failed: %s\nfor %s (%s)\nbody: %s\n' "$expr" "$TT_REQ" "$TT_STATUS" "$TT_BODY" >&2
        return 1
    fi
}

# ---- identities ------------------------------------------------------------

tt_login() {
    local email="$1" pw="${2:-$TT_PASSWORD}"
    tt_api POST /api/v1/auth/login "$(jq -cn --arg e "$email" --arg p "$pw" '{email:$e,password:$p}')"
    [[ "$TT_STATUS" == 200 ]] || tt_fail "login $email: $TT_STATUS $TT_BODY" || return 1
    tt_jq .access_token
}

tt_tenant_token() {
    tt_api -t "$1" POST /api/v1/auth/tenant-token "$(jq -cn --arg t "$2" '{tenant_id:$t}')"
    [[ "$TT_STATUS" == 200 ]] || tt_fail "tenant-token $2: $TT_STATUS $TT_BODY" || return 1
    tt_jq .access_token
}

# The superadmin's identity token, cached per test file for 10 minutes.
tt_admin_token() {
    local f="${BATS_FILE_TMPDIR:-$(tt_tmp)}/tt_admin_token" t
    if [[ -s "$f" && -n "$(find "$f" -mmin -10 2>/dev/null)" ]]; then
        cat "$f"
        return 0
    fi
    t="$(tt_login "$TENANTRY_TEST_ADMIN_EMAIL" "$TENANTRY_TEST_ADMIN_PASSWORD")" || return 1
    printf '%s' "$t" >"$f"
    printf '%s' "$t"
}

# tt_create_user EMAIL [NAME] [PASSWORD] -> user id
tt_create_user() {
    local tok
    tok="$(tt_admin_token)" || return 1
    tt_api -t "$tok" POST /api/v1/users "$(jq -cn --arg e "$1" --arg n "${2:-Test User}" \
        --arg p "${3:-$TT_PASSWORD}" '{email:$e,name:$n,password:$p}')"
    [[ "$TT_STATUS" == 201 ]] || tt_fail "create user $1: $TT_STATUS $TT_BODY" || return 1
    tt_jq '.id // .user.id'
}

# tt_create_tenant NAME [TIER] [OWNER_EMAIL] -> tenant id
tt_create_tenant() {
    local tok body
    tok="$(tt_admin_token)" || return 1
    body="$(jq -cn --arg n "$1" --arg t "${2:-}" --arg o "${3:-}" \
        '{name:$n} + (if $t != "" then {tier:$t} else {} end) + (if $o != "" then {owner_email:$o} else {} end)')"
    tt_api -t "$tok" POST /api/v1/tenants "$body"
    [[ "$TT_STATUS" == 201 ]] || tt_fail "create tenant $1: $TT_STATUS $TT_BODY" || return 1
    tt_jq .id
}

# tt_add_member TENANT_ID_OR_SLUG EMAIL ROLE (the operator CLI: fast, no invitation)
tt_add_member() {
    local out
    out="$(eval "$TENANTRY_TEST_CTL add-member --tenant \"\$1\" --email \"\$2\" --role \"\$3\"" 2>&1)" ||
        tt_fail "add-member $*: $out"
}

# tt_new_user PREFIX: sets TT_EMAIL and TT_UID.
tt_new_user() {
    TT_EMAIL="${1:-user}-$(tt_uniq)@$TT_DOMAIN"
    TT_UID="$(tt_create_user "$TT_EMAIL" "${1:-user} $(tt_uniq)")" || return 1
}

# tt_new_member TENANT ROLE [PREFIX]: a fresh user with that role; sets TT_EMAIL,
# TT_UID, TT_TOKEN (identity) and TT_TTOKEN (scoped to TENANT).
tt_new_member() {
    tt_new_user "${3:-$2}" || return 1
    tt_add_member "$1" "$TT_EMAIL" "$2" || return 1
    TT_TOKEN="$(tt_login "$TT_EMAIL")" || return 1
    TT_TTOKEN="$(tt_tenant_token "$TT_TOKEN" "$1")" || return 1
}

# tt_fixture_tenant VAR [TIER]: a fresh tenant with one user per role.
# Exports VAR_ID VAR_SLUG VAR_NAME and VAR_<ROLE>_{EMAIL,UID,TOKEN,TTOKEN}
# for ROLE in OWNER ADMIN MEMBER VIEWER.
tt_fixture_tenant() {
    local var="$1" tier="${2:-business}" u role R tid
    u="$(tt_uniq)"
    tt_new_user "${var,,}-owner" || return 1
    local owner_email="$TT_EMAIL" owner_uid="$TT_UID"
    tid="$(tt_create_tenant "TT ${var} $u" "$tier" "$owner_email")" || return 1
    tt_api -t "$(tt_admin_token)" GET "/api/v1/tenants/$tid"
    [[ "$TT_STATUS" == 200 ]] || tt_fail "get tenant $tid: $TT_STATUS $TT_BODY" || return 1
    export "${var}_ID=$tid"
    export "${var}_SLUG=$(tt_jq .slug)"
    export "${var}_NAME=$(tt_jq .name)"
    export "${var}_OWNER_EMAIL=$owner_email" "${var}_OWNER_UID=$owner_uid"
    TT_TOKEN="$(tt_login "$owner_email")" || return 1
    export "${var}_OWNER_TOKEN=$TT_TOKEN"
    export "${var}_OWNER_TTOKEN=$(tt_tenant_token "$TT_TOKEN" "$tid")" || return 1
    for role in admin member viewer; do
        R="${role^^}"
        tt_new_member "$tid" "$role" "${var,,}-$role" || return 1
        export "${var}_${R}_EMAIL=$TT_EMAIL" "${var}_${R}_UID=$TT_UID"
        export "${var}_${R}_TOKEN=$TT_TOKEN" "${var}_${R}_TTOKEN=$TT_TTOKEN"
    done
}

# ---- tokens made by hand (expired, tampered) --------------------------------

tt_b64url() {
    openssl base64 -A | tr '+/' '-_' | tr -d '='
}

tt_b64url_decode() {
    local s="$1"
    s="${s//-/+}"
    s="${s//_//}"
    while ((${#s} % 4)); do s+="="; done
    printf '%s' "$s" | openssl base64 -A -d
}

# The HMAC key: the secret file's bytes minus one trailing newline, as hex.
tt_jwt_key_hex() {
    local hex
    hex="$(od -An -v -tx1 "$TENANTRY_TEST_SECRET_FILE" | tr -d ' \n')"
    [[ "$hex" == *0a ]] && hex="${hex%0a}"
    printf '%s' "$hex"
}

# tt_jwt_sign PAYLOAD_JSON: header {"alg":"HS256","typ":"JWT"}.
tt_jwt_sign() {
    local h p sig
    h="$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | tt_b64url)"
    p="$(printf '%s' "$1" | tt_b64url)"
    sig="$(printf '%s' "$h.$p" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(tt_jwt_key_hex)" -binary | tt_b64url)"
    printf '%s.%s.%s' "$h" "$p" "$sig"
}

tt_jwt_payload() {
    local p
    p="$(cut -d. -f2 <<<"$1")"
    tt_b64url_decode "$p"
}

# tt_jwt_expired USER_ID [TENANT_ID]: correctly signed, expired 10 minutes ago.
tt_jwt_expired() {
    local now payload
    now="$(date +%s)"
    payload="$(jq -cn --arg s "$1" --arg t "${2:-}" --argjson now "$now" \
        '{iss:"tenantry", aud:(if $t == "" then "tenantry:identity" else "tenantry:tenant" end),
          sub:$s, iat:($now - 1500), exp:($now - 600)} + (if $t == "" then {} else {tenant_id:$t} end)')"
    tt_jwt_sign "$payload"
}

# tt_jwt_tamper TOKEN JQ_EDIT: the payload changed, the signature kept.
tt_jwt_tamper() {
    local h s p
    h="$(cut -d. -f1 <<<"$1")"
    s="$(cut -d. -f3 <<<"$1")"
    p="$(tt_jwt_payload "$1" | jq -c "$2" | tr -d '\n' | tt_b64url)"
    printf '%s.%s.%s' "$h" "$p" "$s"
}

# ---- SQL ----------------------------------------------------------------------

tt_dbname() {
    local n
    n="$(sed -n 's/.*dbname=\([^ ]*\).*/\1/p' <<<"$TENANTRY_TEST_OWNER_DB_URL")"
    printf '%s' "${n:-tenantry}"
}

# The superuser conninfo names the postgres database; point it at ours.
tt_super_url() {
    local u="${TENANTRY_TEST_SUPERUSER_DB_URL:?no TENANTRY_TEST_SUPERUSER_DB_URL}"
    if [[ "$u" == *://* ]]; then
        printf '%s' "$u"
    else
        printf '%s dbname=%s' "$u" "$(tt_dbname)"
    fi
}

tt_psql() {
    local url="$1"
    shift
    psql "$url" -X -q -At -v ON_ERROR_STOP=1 "$@"
}

tt_sql_owner() { tt_psql "$TENANTRY_TEST_OWNER_DB_URL" -c "$1"; }
tt_sql_app() { tt_psql "$TENANTRY_TEST_APP_DB_URL" -c "$1"; }
tt_sql_super() { tt_psql "$(tt_super_url)" -c "$1"; }

# tt_sql_in_tenant URL TENANT_ID SQL: one transaction with the tenant context
# set (RLS is FORCEd: even the table owner sees nothing without it). SQL may
# hold several statements; it may use :'tid' for the tenant id.
tt_sql_in_tenant() {
    tt_psql "$1" -v tid="$2" <<EOF
BEGIN;
\o /dev/null
SELECT set_config('tenantry.tenant_id', :'tid', true);
\o
$3
;
COMMIT;
EOF
}

# ---- mail -----------------------------------------------------------------------

# tt_mail_for EMAIL: the newest message file in the mail sink addressed to EMAIL.
tt_mail_for() {
    local f
    f="$(grep -ilsF -- "To: $1" "$TENANTRY_TEST_MAIL_DIR"/* 2>/dev/null | xargs -r ls -t 2>/dev/null | head -1)"
    [[ -n "$f" ]] || return 1
    printf '%s' "$f"
}

# tt_audit_count TOKEN TENANT_ID [ACTION]: events (of that action), all pages.
tt_audit_count() {
    local cursor="" n=0 q
    while :; do
        q="/api/v1/tenants/$2/activity?limit=100${3:+&action=$3}${cursor:+&cursor=$cursor}"
        tt_api -t "$1" GET "$q"
        [[ "$TT_STATUS" == 200 ]] || tt_fail "activity: $TT_STATUS $TT_BODY" || return 1
        n=$((n + $(tt_jq '.events | length')))
        cursor="$(tt_jq '.next_cursor // empty')"
        [[ -n "$cursor" ]] || break
    done
    printf '%s' "$n"
}
