#!/usr/bin/env bats
# matrix.bats -- the authorisation matrix of tenant management, driven by matrix.tsv.
#
# Every line of matrix.tsv is one cell: a route (method, path template, body),
# a principal, the side of the tenant it names (own = A, other = B, missing =
# no such tenant) and the expected status (and error code). This file only
# builds the fixture and the principals, resolves the placeholders and
# compares; all the expectations are in the TSV. Cells that mutate are
# harmless (a name set to itself, a role to the one it has, the last owner's
# removal which must be refused) or act on a throwaway made for the cell, so
# no cell depends on another.

load lib_tenants

setup_file() {
    # A: the principals' tenant; B: another tenant; C: the other admin's tenant.
    # Enterprise: no rate limit class applies, however many cells run.
    tt_fixture_tenant MA enterprise
    tt_fixture_tenant MB enterprise
    tt_fixture_tenant MC enterprise

    export P_anonymous=""
    export P_expired P_tampered P_identity P_viewer P_member P_admin P_owner P_other_admin P_superadmin
    P_expired="$(tt_jwt_expired "$MA_OWNER_UID" "$MA_ID")"
    P_tampered="$(tt_jwt_tamper "$MA_VIEWER_TTOKEN" ".sub = \"$MA_OWNER_UID\"")"
    P_identity="$MA_ADMIN_TOKEN"
    P_viewer="$MA_VIEWER_TTOKEN"
    P_member="$MA_MEMBER_TTOKEN"
    P_admin="$MA_ADMIN_TTOKEN"
    P_owner="$MA_OWNER_TTOKEN"
    P_other_admin="$MC_ADMIN_TOKEN"
    P_superadmin="$(tt_admin_token)"
    export MISSING_ID
    MISSING_ID="$(cat /proc/sys/kernel/random/uuid)"
}

# A member made for one cell (no password: it never signs in). Prints its id.
throwaway_member() {
    local email="mx-$(tt_uniq)@$TT_DOMAIN"
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$1" "
        WITH u AS (INSERT INTO users (email, name, password_hash)
                   VALUES ('$email', 'matrix throwaway', 'x') RETURNING id)
        INSERT INTO tenant_users (tenant_id, user_id, role)
        SELECT :'tid'::uuid, id, 'member' FROM u RETURNING user_id;"
}

# A pending invitation made for one cell. Prints its id.
throwaway_invitation() {
    local email="mx-inv-$(tt_uniq)@$TT_DOMAIN"
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$1" "
        INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at)
        VALUES (:'tid'::uuid, '$email', 'viewer', sha256(gen_random_uuid()::text::bytea),
                now() + interval '1 day') RETURNING id;"
}

# subst TEXT: the placeholders of the current cell.
subst() {
    local s="$1"
    s="${s//\{tid\}/$c_tid}"
    s="${s//\{slug\}/$c_slug}"
    s="${s//\{tname\}/$c_tname}"
    s="${s//\{member_uid\}/$c_member}"
    s="${s//\{owner_uid\}/$c_owner}"
    s="${s//\{throwaway_uid\}/$c_throwaway}"
    s="${s//\{throwaway_inv\}/$c_inv}"
    s="${s//\{uniq\}/$c_uniq}"
    printf '%s' "$s"
}

# matrix_pass LABEL: every cell once; fails on any mismatch.
matrix_pass() {
    local label="$1"
    local tsv="$BATS_TEST_DIRNAME/matrix.tsv"
    local method path body principal side expect check
    local n=0 bad=0 line=0 want_status want_code got_code tokvar token url data
    local c_tid c_slug c_tname c_member c_owner c_throwaway c_inv c_uniq
    local -a hdr mismatches=()

    [ -f "$tsv" ]
    while IFS=$'\t' read -r method path body principal side expect check; do
        line=$((line + 1))
        [[ -z "$method" || "$method" == \#* ]] && continue

        case "$side" in
            own | -) c_tid="$MA_ID" c_slug="$MA_SLUG" c_tname="$MA_NAME" c_member="$MA_MEMBER_UID" c_owner="$MA_OWNER_UID" ;;
            other) c_tid="$MB_ID" c_slug="$MB_SLUG" c_tname="$MB_NAME" c_member="$MB_MEMBER_UID" c_owner="$MB_OWNER_UID" ;;
            missing)
                c_tid="$MISSING_ID" c_slug="no-such-tenant" c_tname="No such tenant"
                c_member="$(cat /proc/sys/kernel/random/uuid)" c_owner="$c_member"
                ;;
            *) mismatches+=("matrix.tsv:$line: unknown side '$side'"); bad=$((bad + 1)); continue ;;
        esac
        c_uniq="$(tt_uniq)"
        c_throwaway="" c_inv=""
        if [[ "$path" == *"{throwaway_uid}"* ]]; then
            if [[ "$side" == missing ]]; then c_throwaway="$c_member"
            else c_throwaway="$(throwaway_member "$c_tid")"; fi
        fi
        if [[ "$path" == *"{throwaway_inv}"* ]]; then
            if [[ "$side" == missing ]]; then c_inv="$c_member"
            else c_inv="$(throwaway_invitation "$c_tid")"; fi
        fi

        tokvar="P_$principal"
        if [[ -z "${!tokvar+set}" ]]; then
            mismatches+=("matrix.tsv:$line: unknown principal '$principal'"); bad=$((bad + 1)); continue
        fi
        token="${!tokvar}"
        hdr=()
        [[ -z "$token" ]] || hdr+=(-t "$token")
        # The /tenants/current routes take the tenant from the credential or X-Tenant-ID.
        if [[ "$path" == /api/v1/tenants/current* && "$principal" != identity ]]; then
            case "$principal" in
                viewer | member | admin | owner | expired | tampered)
                    [[ "$side" == own ]] || hdr+=(-H "X-Tenant-ID: $c_tid") ;;
                *) hdr+=(-H "X-Tenant-ID: $c_tid") ;;
            esac
        fi
        url="$(subst "$path")"
        data=()
        [[ "$body" == - ]] || data=("$(subst "$body")")

        tt_api "${hdr[@]}" "$method" "$url" "${data[@]}"
        n=$((n + 1))

        want_status="${expect%%/*}"
        want_code=""
        [[ "$expect" != */* ]] || want_code="${expect#*/}"
        got_code="$(printf '%s' "$TT_BODY" | jq -r '.error.code? // empty' 2>/dev/null || true)"
        if [[ "$TT_STATUS" != "$want_status" || (-n "$want_code" && "$got_code" != "$want_code") ]]; then
            bad=$((bad + 1))
            mismatches+=("matrix.tsv:$line: $method $url [$principal/$side] expected $expect, got $TT_STATUS${got_code:+/$got_code}: ${TT_BODY:0:200}")
            continue
        fi
        if [[ -n "$check" && "$check" != - ]]; then
            if [[ "$(printf '%s' "$TT_BODY" | jq "$(subst "$check")" 2>/dev/null)" != true ]]; then
                bad=$((bad + 1))
                mismatches+=("matrix.tsv:$line: $method $url [$principal/$side] $TT_STATUS but check failed: $(subst "$check") on ${TT_BODY:0:300}")
            fi
        fi
    done <"$tsv"

    echo "# matrix ($label): $n cells checked, $bad mismatches" >&3
    echo "matrix ($label): $n cells checked, $bad mismatches"
    local m
    for m in "${mismatches[@]}"; do
        echo "# mismatch: $m" >&3
        echo "mismatch: $m"
    done
    [ "$n" -gt 0 ]
    [ "$bad" -eq 0 ]
}

@test "authorisation matrix: every tenant route x principal x tenant side (matrix.tsv)" {
    matrix_pass "first pass"
}

# The workers now hold the contexts and answers of every principal above
# (SPEC §2's cache): the same cells, in the same stack, must come out the
# same, so nothing cached crosses a principal or a tenant.
@test "authorisation matrix again, with the workers' caches warm from the first pass" {
    matrix_pass "second pass, caches warm"
}
