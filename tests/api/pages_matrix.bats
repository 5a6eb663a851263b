#!/usr/bin/env bats
# pages_matrix.bats -- the authorisation matrix of the dashboard, driven by pages_matrix.tsv.
#
# Every line of pages_matrix.tsv is one cell: a page or form (method, path, form
# fields), a principal (a browser: no cookie, an ended session, or a signed-in
# session), the side of the workspace it names (own = A, other = B, missing = no
# such workspace) and the expected status (and Location, and a string of the
# page). This file builds the fixture and signs the principals in, resolves the
# placeholders, sends the request as a browser would (the session's CSRF token,
# or the sign-in form's before sign-in) and compares; the expectations are all in
# the TSV. Cells that mutate are harmless (a save of what is there, a refused
# demotion of the last owner) or act on a throwaway made for the cell, whose
# state the driver checks afterwards, so no cell depends on another.

load helpers
load lib_dashboard
load lib_tenants

setup_file() {
    # A: the principals' workspace; B: another; C: the other admin's. Enterprise:
    # no rate limit class applies (settings reads and writes included).
    tt_fixture_tenant PA enterprise
    tt_fixture_tenant PB enterprise
    tt_fixture_tenant PC enterprise
    export PM_MISSING_SLUG="no-such-ws-$(tt_uniq)"
    export PM_JARS="$BATS_FILE_TMPDIR/jars"
    mkdir -p "$PM_JARS"

    export PM_EMAIL_viewer="$PA_VIEWER_EMAIL" PM_EMAIL_member="$PA_MEMBER_EMAIL"
    export PM_EMAIL_admin="$PA_ADMIN_EMAIL" PM_EMAIL_owner="$PA_OWNER_EMAIL"
    export PM_EMAIL_other_admin="$PC_ADMIN_EMAIL" PM_EMAIL_superadmin="$TENANTRY_TEST_ADMIN_EMAIL"
    local p pw
    for p in viewer member admin owner other_admin superadmin; do
        pw="$(pm_password "$p")"
        export "PM_PASSWORD_$p=$pw"
        sign_in "$PM_JARS/$p" "$(pm_email "$p")" "$pw"
        session_csrf "$PM_JARS/$p"
        export "PM_CSRF_$p=$CSRF"
    done

    # ended: A's viewer signs in and out; the jar keeps the ended session's cookie.
    sign_in "$PM_JARS/ended" "$PA_VIEWER_EMAIL" "$TT_PASSWORD"
    session_csrf "$PM_JARS/ended"
    export PM_CSRF_ended="$CSRF" PM_ENDED_SID="$SID"
    api POST /logout "" -b "$PM_JARS/ended" -H "Accept: $HTML_ACCEPT" --data-urlencode "csrf_token=$CSRF"
    expect_redirect /login
    [[ "$(session_rows "$PM_ENDED_SID")" == 0 ]] || fail "the ended session is still in the database"
    [[ "$(cookie "$PM_JARS/ended" "$SESSION_COOKIE")" == "$PM_ENDED_SID" ]]
    : >"$PM_JARS/anonymous"
}

pm_email() {
    local v="PM_EMAIL_$1"
    case "$1" in anonymous | ended) v=PM_EMAIL_viewer ;; esac
    printf '%s' "${!v}"
}

pm_password() {
    case "$1" in
        superadmin) printf '%s' "$TENANTRY_TEST_ADMIN_PASSWORD" ;;
        *) printf '%s' "$TT_PASSWORD" ;;
    esac
}

# ---- throwaways: made for one cell, their state read after it ----------------

# pm_member TENANT_ID: a member (role member; no password: never signs in). Prints its id.
pm_member() {
    local email="pm-$(tt_uniq)@$TT_DOMAIN"
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$1" "
        WITH u AS (INSERT INTO users (email, name, password_hash)
                   VALUES ('$email', 'pm throwaway', 'x') RETURNING id)
        INSERT INTO tenant_users (tenant_id, user_id, role)
        SELECT :'tid'::uuid, id, 'member' FROM u RETURNING user_id;"
}

# pm_key TENANT_ID: an API key (its secret is never known). Prints its id.
pm_key() {
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$1" "
        INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes)
        VALUES (:'tid'::uuid, 'pm key $(tt_uniq)', 'tnt_pmx', sha256(gen_random_uuid()::text::bytea),
                '{read}') RETURNING id;"
}

# pm_invitation TENANT_ID TOKEN [revoked]: an invitation (role member) whose link is TOKEN. Prints its id.
pm_invitation() {
    local revoked=NULL
    [[ "${3:-}" != revoked ]] || revoked='now()'
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$1" "
        INSERT INTO invitations (tenant_id, email, role, token_hash, expires_at, revoked_at)
        VALUES (:'tid'::uuid, 'pm-inv-$(tt_uniq)@$TT_DOMAIN', 'member',
                decode('$(sha256_hex "$2")', 'hex'), now() + interval '1 day', $revoked) RETURNING id;"
}

pm_token() { printf 'pm%s' "$(openssl rand -hex 16)"; }

# pm_session EMAIL PASSWORD: another session of that user (its own browser). Prints its public id.
pm_session() {
    local j="$(_tmp)/side_jar"
    rm -f "$j"
    sign_in "$j" "$1" "$2" >/dev/null || return 1
    psql_owner "SELECT public_id FROM sessions WHERE id_hash = decode('$(sha256_hex "$SID")', 'hex')"
}

# pm_loner: a user made for the cell, a member of nothing. Sets LONER_EMAIL.
pm_loner() {
    LONER_EMAIL="pm-loner-$(tt_uniq)@$TT_DOMAIN"
    tt_create_user "$LONER_EMAIL" "pm loner" "$TT_PASSWORD" >/dev/null
}

# State readers: one word each.
pm_member_state() {   # TENANT USER: the role, or "gone"
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$1" "
        SELECT coalesce((SELECT role FROM tenant_users WHERE tenant_id = :'tid'::uuid
                         AND user_id = '$2'::uuid), 'gone');"
}
pm_key_state() {      # TENANT KEY: live or revoked
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$1" "
        SELECT CASE WHEN revoked_at IS NULL THEN 'live' ELSE 'revoked' END FROM api_keys
        WHERE id = '$2'::uuid;"
}
pm_session_state() {   # PUBLIC_ID: live or gone
    psql_owner "SELECT CASE WHEN count(*) = 1 THEN 'live' ELSE 'gone' END FROM sessions
                WHERE public_id = '$1'::uuid"
}
pm_invitation_state() {   # TENANT INVITATION: open or used
    tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$1" "
        SELECT CASE WHEN accepted_at IS NULL AND revoked_at IS NULL THEN 'open' ELSE 'used' END
        FROM invitations WHERE id = '$2'::uuid;"
}

# ---- one pass -------------------------------------------------------------------

# subst TEXT: the placeholders of the current cell.
subst() {
    local s="$1"
    s="${s//\{slug\}/$c_slug}"
    s="${s//\{tname\}/$c_tname}"
    s="${s//\{tid\}/$c_tid}"
    s="${s//\{member_uid\}/$c_member}"
    s="${s//\{member_email\}/$c_member_email}"
    s="${s//\{owner_uid\}/$c_owner}"
    s="${s//\{throwaway_uid\}/$c_tw_uid}"
    s="${s//\{throwaway_key\}/$c_tw_key}"
    s="${s//\{foreign_uid\}/$c_fr_uid}"
    s="${s//\{foreign_key\}/$c_fr_key}"
    s="${s//\{invite_token\}/$c_inv_token}"
    s="${s//\{used_invite_token\}/$c_used_token}"
    s="${s//\{self_email\}/$c_self_email}"
    s="${s//\{self_password\}/$c_self_password}"
    s="${s//\{own_session\}/$c_own_session}"
    s="${s//\{foreign_session\}/$c_foreign_session}"
    s="${s//\{uniq\}/$c_uniq}"
    printf '%s' "$s"
}

# main_text: the text of BODY's <main> (or of all of it), tags dropped, 300 characters.
main_text() {
    local t="$BODY"
    [[ "$t" != *'<main'* ]] || t="${t#*<main}"
    t="$(sed -E 's/<[^>]*>/ /g' <<<"${t#*>}" | tr -s ' \n\t' ' ')"
    printf '%s' "${t:0:300}"
}

# cell_mismatch TEXT: record one failure of the current cell.
cell_mismatch() {
    bad=$((bad + 1))
    mismatches+=("pages_matrix.tsv:$line: $method $url [$principal/$side${form:+ $form}] $1")
}

# form_get JAR PATH: GET the page that shows a form, as this browser, keeping
# from the answer only a new pre-session cookie (a redirect that clears a dead
# session must not change what the cell itself sends).
form_get() {
    local j="$1" line
    rm -f "$j.prep"
    api GET "$2" "" -b "$j" -c "$j.prep" -H "Accept: $HTML_ACCEPT"
    if [[ -z "$(cookie "$j" "$SESSION_COOKIE-pre")" ]]; then
        line="$(grep -P "\t$SESSION_COOKIE-pre\t" "$j.prep" 2>/dev/null | tail -1)"
        [[ -z "$line" ]] || printf '%s\n' "$line" >>"$j"
    fi
}

# form_token JAR: the CSRF token this browser's form carries: the invitation's
# or the sign-in form's (before sign-in: the pre-session's), else the session's.
form_token() {
    local j="$1"
    if [[ "$url" == /invite/* ]]; then
        form_get "$j" "$url"
        scrape_csrf
        [[ -n "$(scrape_csrf)" ]] && return 0
    fi
    if [[ "$url" == /login* || "$url" == /invite/* || "$principal" == anonymous ]]; then
        form_get "$j" /login
        scrape_csrf
        return 0
    fi
    if [[ -n "$c_fresh_csrf" ]]; then printf '%s' "$c_fresh_csrf"; return 0; fi
    local v="PM_CSRF_$principal"
    printf '%s' "${!v}"
}

# pages_pass LABEL: every cell once; fails on any mismatch. PAGES_MATRIX_TSV
# names another file of cells (a subset, while working on one page).
pages_pass() {
    local label="$1" tsv="${PAGES_MATRIX_TSV:-$BATS_TEST_DIRNAME/pages_matrix.tsv}"
    local method path form principal side expect check
    local n=0 bad=0 line=0 effects=0 url want_status want_loc loc got_ct f acts tok other
    local c_tid c_slug c_tname c_member c_member_email c_owner c_tw_uid c_tw_key c_fr_uid c_fr_key
    local c_inv_token c_inv_id c_used_token c_self_email c_self_password c_uniq c_fresh_csrf c_fresh_sid
    local fr_tid cj fld want_text c_own_session c_foreign_session
    local -a mismatches=() data=() extra=() flags=() fields=()

    [ -f "$tsv" ]
    while IFS=$'\t' read -r method path form principal side expect check; do
        line=$((line + 1))
        [[ -z "$method" || "$method" == \#* ]] && continue
        url="$path"

        case "$side" in
            own | -)
                c_tid="$PA_ID" c_slug="$PA_SLUG" c_tname="$PA_NAME" c_member="$PA_MEMBER_UID"
                c_member_email="$PA_MEMBER_EMAIL" c_owner="$PA_OWNER_UID" fr_tid="$PB_ID" ;;
            other)
                c_tid="$PB_ID" c_slug="$PB_SLUG" c_tname="$PB_NAME" c_member="$PB_MEMBER_UID"
                c_member_email="$PB_MEMBER_EMAIL" c_owner="$PB_OWNER_UID" fr_tid="$PA_ID" ;;
            missing)
                c_tid="$(cat /proc/sys/kernel/random/uuid)" c_slug="$PM_MISSING_SLUG"
                c_tname="No such workspace" c_member="$(cat /proc/sys/kernel/random/uuid)"
                c_member_email="nobody@$TT_DOMAIN" c_owner="$c_member" fr_tid="$PB_ID" ;;
            *) cell_mismatch "unknown side '$side'"; continue ;;
        esac
        case "$principal" in
            anonymous | ended | viewer | member | admin | owner | other_admin | superadmin | loner) ;;
            *) cell_mismatch "unknown principal '$principal'"; continue ;;
        esac
        c_uniq="$(tt_uniq)"
        c_self_email="$(pm_email "$principal")" c_self_password="$(pm_password "$principal")"
        c_tw_uid="" c_tw_key="" c_fr_uid="" c_fr_key="" c_inv_token="" c_inv_id="" c_used_token=""
        c_fresh_csrf="" c_fresh_sid=""
        if [[ "$path$form" == *"{throwaway_uid}"* ]]; then
            if [[ "$side" == missing ]]; then c_tw_uid="$c_member"; else c_tw_uid="$(pm_member "$c_tid")"; fi
        fi
        if [[ "$path" == *"{throwaway_key}"* ]]; then
            if [[ "$side" == missing ]]; then c_tw_key="$c_member"; else c_tw_key="$(pm_key "$c_tid")"; fi
        fi
        [[ "$path$form" != *"{foreign_uid}"* ]] || c_fr_uid="$(pm_member "$fr_tid")"
        [[ "$path" != *"{foreign_key}"* ]] || c_fr_key="$(pm_key "$fr_tid")"
        if [[ "$path" == *"{invite_token}"* ]]; then
            c_inv_token="$(pm_token)"
            [[ "$side" == missing ]] || c_inv_id="$(pm_invitation "$c_tid" "$c_inv_token")"
        fi
        if [[ "$path" == *"{used_invite_token}"* ]]; then
            c_used_token="$(pm_token)"
            pm_invitation "$c_tid" "$c_used_token" revoked >/dev/null
        fi
        c_own_session="" c_foreign_session=""
        if [[ "$principal" == loner ]]; then
            pm_loner || { cell_mismatch "no loner user"; continue; }
            c_self_email="$LONER_EMAIL"
        fi
        if [[ "$path$form$check" == *"{own_session}"* || "$form" == *action=end_others* ]]; then
            c_own_session="$(pm_session "$c_self_email" "$c_self_password")" ||
                { cell_mismatch "no second session for $c_self_email"; continue; }
        fi
        if [[ "$path$form$check" == *"{foreign_session}"* ]]; then
            if [[ "$principal" == owner ]]; then other="$PA_ADMIN_EMAIL"; else other="$PA_OWNER_EMAIL"; fi
            c_foreign_session="$(pm_session "$other" "$TT_PASSWORD")" ||
                { cell_mismatch "no session for $other"; continue; }
        fi
        url="$(subst "$path")"

        # The fields and flags of the form.
        data=() extra=() flags=()
        if [[ "$form" != - ]]; then
            IFS='&' read -r -a fields <<<"$(subst "$form")"
            for fld in "${fields[@]}"; do
                if [[ "$fld" == *=* ]]; then data+=(--data-urlencode "$fld"); else flags+=("$fld"); fi
            done
        fi
        # The cell's browser: a copy of the principal's jar (or a new session).
        cj="$(_tmp)/cell_jar"
        if [[ " ${flags[*]} " == *" fresh "* || "$principal" == loner ]]; then
            rm -f "$cj"
            sign_in "$cj" "$c_self_email" "$c_self_password" || { cell_mismatch "fresh sign-in failed"; continue; }
            c_fresh_sid="$SID"
            session_csrf "$cj" || { cell_mismatch "fresh session has no CSRF token"; continue; }
            c_fresh_csrf="$CSRF"
        else
            cp "$PM_JARS/$principal" "$cj"
        fi
        if [[ "$method" == POST ]]; then
            if [[ " ${flags[*]} " != *" nocsrf "* ]]; then
                tok="$(form_token "$cj")"
                if [[ " ${flags[*]} " == *" badcsrf "* ]]; then
                    [[ "${tok: -1}" == 0 ]] && tok="${tok%?}1" || tok="${tok%?}0"
                elif [[ " ${flags[*]} " == *" othercsrf "* ]]; then
                    [[ "$principal" == viewer ]] && tok="$PM_CSRF_member" || tok="$PM_CSRF_viewer"
                fi
                data+=(--data-urlencode "csrf_token=$tok")
            fi
            [[ " ${flags[*]} " != *" evilorigin "* ]] || extra+=(-H "Origin: https://evil.example")
            [[ " ${flags[*]} " != *" nullorigin "* ]] || extra+=(-H "Origin: null")
            [[ " ${flags[*]} " != *" httporigin "* ]] || extra+=(-H "Origin: http://${TENANTRY_TEST_URL#https://}")
            [[ " ${flags[*]} " != *" selforigin "* ]] || extra+=(-H "Origin: $TENANTRY_TEST_URL")
            ((${#data[@]})) || data=(--data '')   # still a form: an empty one
        else
            data=()
        fi

        api "$method" "$url" "" -b "$cj" -H "Accept: $HTML_ACCEPT" "${data[@]}" "${extra[@]}"
        n=$((n + 1))

        # Status, Location, the kind of answer, the body.
        want_status="${expect%% *}" want_loc=""
        [[ "$expect" != *" "* ]] || want_loc="$(subst "${expect#* }")"
        loc="$(header Location)"
        if [[ "$STATUS" != "$want_status" ]]; then
            cell_mismatch "expected $expect, got $STATUS${loc:+ $loc}: $(main_text)"
            continue
        fi
        if [[ -n "$want_loc" ]]; then
            if [[ "$want_loc" == *'*' ]]; then
                [[ "$loc" == "${want_loc%\*}"* ]] || { cell_mismatch "expected Location ${want_loc}, got '$loc'"; continue; }
            else
                [[ "$loc" == "$want_loc" ]] || { cell_mismatch "expected Location $want_loc, got '$loc'"; continue; }
            fi
        fi
        got_ct="$(header Content-Type)"
        if [[ "$STATUS" != 3* ]]; then
            if [[ "$STATUS" == 200 && "$url" == *.csv* ]]; then
                [[ "$got_ct" == text/csv* ]] || { cell_mismatch "$STATUS: Content-Type '$got_ct', not text/csv"; continue; }
            elif [[ "$got_ct" != "text/html; charset=utf-8" ]]; then
                cell_mismatch "$STATUS: Content-Type '$got_ct', not an HTML page: ${BODY:0:200}"
                continue
            fi
        fi
        if [[ -n "$check" && "$check" != - ]]; then
            want_text="$(subst "$check")"
            if [[ "$want_text" == '!'* ]]; then
                ! grep -qF -- "${want_text#!}" <<<"$BODY" ||
                    { cell_mismatch "$STATUS but the page contains '${want_text#!}'"; continue; }
            else
                grep -qF -- "$want_text" <<<"$BODY" ||
                    { cell_mismatch "$STATUS but the page lacks '$want_text': $(main_text)"; continue; }
            fi
        fi

        # What the cell changed. A POST acts when it is expected to succeed: 2xx, or a
        # redirect that is not "sign in first" (except /logout's, which is its success).
        acts=0
        if [[ "$method" == POST ]]; then
            if [[ "$want_status" == 2* ]] ||
                [[ "$want_status" == 303 && ("$path" == /logout || "$want_loc" != /login*) ]]; then
                acts=1
            fi
        fi
        if [[ -n "$c_tw_uid" && "$side" != missing ]]; then
            effects=$((effects + 1))
            f="$(pm_member_state "$c_tid" "$c_tw_uid")"
            if ((acts)) && [[ "$f" == member ]]; then cell_mismatch "succeeded, but the throwaway member is unchanged"
            elif ((!acts)) && [[ "$f" != member ]]; then cell_mismatch "refused or a read, but the throwaway member is now '$f'"; fi
        fi
        if [[ -n "$c_tw_key" && "$side" != missing ]]; then
            effects=$((effects + 1))
            f="$(pm_key_state "$c_tid" "$c_tw_key")"
            if ((acts)) && [[ "$f" != revoked ]]; then cell_mismatch "succeeded, but the throwaway key is $f"
            elif ((!acts)) && [[ "$f" != live ]]; then cell_mismatch "refused or a read, but the throwaway key is $f"; fi
        fi
        if [[ -n "$c_inv_id" ]]; then
            effects=$((effects + 1))
            f="$(pm_invitation_state "$c_tid" "$c_inv_id")"
            if ((acts)) && [[ "$f" != used ]]; then cell_mismatch "succeeded, but the invitation is still $f"
            elif ((!acts)) && [[ "$f" != open ]]; then cell_mismatch "refused or a read, but the invitation is $f"; fi
        fi
        if [[ -n "$c_fr_uid" ]]; then
            effects=$((effects + 1))
            f="$(pm_member_state "$fr_tid" "$c_fr_uid")"
            [[ "$f" == member ]] || cell_mismatch "the other workspace's member is now '$f'"
        fi
        if [[ -n "$c_fr_key" ]]; then
            effects=$((effects + 1))
            f="$(pm_key_state "$fr_tid" "$c_fr_key")"
            [[ "$f" == live ]] || cell_mismatch "the other workspace's key is $f"
        fi
        if [[ "$path$form" == *"{owner_uid}"* && "$side" != missing ]]; then
            effects=$((effects + 1))
            f="$(pm_member_state "$c_tid" "$c_owner")"
            [[ "$f" == owner ]] || cell_mismatch "the workspace's only owner is now '$f'"
        fi
        if [[ -n "$c_own_session" ]]; then
            effects=$((effects + 1))
            f="$(pm_session_state "$c_own_session")"
            if ((acts)) && [[ "$f" != gone ]]; then cell_mismatch "succeeded, but the user's other session is still there"
            elif ((!acts)) && [[ "$f" != live ]]; then cell_mismatch "refused or a read, but the user's other session is gone"; fi
        fi
        if [[ -n "$c_foreign_session" ]]; then
            effects=$((effects + 1))
            f="$(pm_session_state "$c_foreign_session")"
            [[ "$f" == live ]] || cell_mismatch "another user's session is gone"
        fi
        if [[ -n "$c_fresh_sid" ]]; then
            # /login and /logout end the browser's session when they succeed; nothing else does.
            effects=$((effects + 1))
            f="$(session_rows "$c_fresh_sid")"
            if ((acts)) && [[ "$path" == /login || "$path" == /logout ]]; then
                [[ "$f" == 0 ]] || cell_mismatch "succeeded, but the browser's session is still there"
            else
                [[ "$f" == 1 ]] || cell_mismatch "refused, but the browser's session is gone"
            fi
        fi
    done <"$tsv"

    echo "# pages matrix ($label): $n cells checked, $effects effects checked, $bad mismatches" >&3
    echo "pages matrix ($label): $n cells checked, $effects effects checked, $bad mismatches"
    local m
    for m in "${mismatches[@]}"; do
        echo "# mismatch: $m" >&3
        echo "mismatch: $m"
    done
    [ "$n" -gt 0 ]
    [ "$effects" -gt 0 ]
    [ "$bad" -eq 0 ]
}

@test "pages authorisation matrix: every dashboard page and form x principal x workspace side (pages_matrix.tsv)" {
    pages_pass "first pass"
}

# The workers now hold the sessions, contexts and the billing page of every
# principal above (SPEC §2's cache): the same cells, in the same stack, must
# come out the same, so nothing cached crosses a session, a role or a workspace.
@test "pages authorisation matrix again, with the workers' caches warm from the first pass" {
    pages_pass "second pass, caches warm"
}
