#!/usr/bin/env bats
# paging.bats -- keyset paging (issue 19): every list's next_cursor walks it while rows are inserted and deleted, repeating nothing and losing nothing that existed when paging began; cursors are checked.

load lib_tenants

setup_file() {
    tt_fixture_tenant PG enterprise
}

# walk PATH ITEMS ID LIMIT TOKEN [HOOK]: follow next_cursor from the first
# page of PATH (its query string may hold filters) to the end, LIMIT rows
# a page, calling HOOK (a function name) with the page number after each
# page; prints every id seen, one a line, in order. Checks each page's
# shape: at most LIMIT rows, page = its number, next_cursor null only at
# the end.
walk() {
    local path="$1" items="$2" id="$3" limit="$4" tok="$5" hook="${6:-}" sep cursor="" n=1
    [[ "$path" == *\?* ]] && sep='&' || sep='?'
    while :; do
        if [ -z "$cursor" ]; then
            tt_api -t "$tok" GET "$path${sep}limit=$limit"
        else
            tt_api -t "$tok" GET "$path${sep}limit=$limit&cursor=$cursor"
        fi
        tt_expect 200 >&2 || return 1
        tt_check "(.$items | length) <= $limit and ((has(\"page\") | not) or .page == $n) and .limit == $limit" >&2 || return 1
        tt_jq ".$items[].$id"
        cursor="$(tt_jq '.next_cursor // empty')"
        [ -n "$cursor" ] || break
        tt_check "(.$items | length) == $limit" >&2 || return 1
        [ -z "$hook" ] || "$hook" "$n" >&2 || return 1
        n=$((n + 1))
        [ "$n" -lt 200 ] || { tt_fail "more than 200 pages" >&2; return 1; }
    done
}

# check_walk SEEN_FILE BEFORE_FILE GONE_FILE: no id twice; every id of
# BEFORE that is not in GONE was seen.
check_walk() {
    local dup lost
    dup="$(sort "$1" | uniq -d)"
    [ -z "$dup" ] || tt_fail "repeated across pages: $dup"
    lost="$(sort "$2" | comm -23 - <(sort -u "$3") | comm -23 - <(sort -u "$1"))"
    [ -z "$lost" ] || tt_fail "lost while paging: $lost"
}

# ---- members ---------------------------------------------------------------

members_hook() {
    # After each page: one member who was there from the start leaves, and a new one joins.
    local victim
    victim="$(sed -n "$((2 + $1 * 4))p" "$(tt_tmp)/before")"
    if [ -n "$victim" ] && [ "$victim" != "$PG_OWNER_UID" ]; then
        tt_api -t "$PG_ADMIN_TTOKEN" DELETE "/api/v1/tenants/$PG_ID/users/$victim"
        [ "$TT_STATUS" = 204 ] && echo "$victim" >>"$(tt_tmp)/gone"
    fi
    tt_new_user "pg-late$1"
    tt_add_member "$PG_ID" "$TT_EMAIL" member
}

@test "members: paging by cursor while members join and leave repeats and loses nothing" {
    local i
    for i in $(seq 1 14); do
        tt_new_user "pg-m$i"
        tt_add_member "$PG_ID" "$TT_EMAIL" member
    done
    : >"$(tt_tmp)/gone"
    walk "/api/v1/tenants/$PG_ID/users" users user_id 100 "$PG_ADMIN_TTOKEN" >"$(tt_tmp)/before"
    [ "$(wc -l <"$(tt_tmp)/before")" -eq 18 ]
    walk "/api/v1/tenants/$PG_ID/users" users user_id 4 "$PG_ADMIN_TTOKEN" members_hook >"$(tt_tmp)/seen"
    [ "$(wc -l <"$(tt_tmp)/gone")" -ge 3 ]
    check_walk "$(tt_tmp)/seen" "$(tt_tmp)/before" "$(tt_tmp)/gone"
    # Joined order, as page paging gives it.
    tt_api -t "$PG_ADMIN_TTOKEN" GET "/api/v1/tenants/$PG_ID/users?limit=100"
    tt_check '[.users[].joined_at] == ([.users[].joined_at] | sort)'
}

@test "members: search by e-mail or name, case-insensitive, within the workspace, with its own total and cursor" {
    local u
    u="$(tt_uniq)"
    tt_create_user "pg-find-$u-a@$TT_DOMAIN" "Zed Findable $u" >/dev/null
    tt_add_member "$PG_ID" "pg-find-$u-a@$TT_DOMAIN" viewer
    tt_create_user "pg-find-$u-b@$TT_DOMAIN" "Other Person" >/dev/null
    tt_add_member "$PG_ID" "pg-find-$u-b@$TT_DOMAIN" viewer
    # Not a member: never found.
    tt_create_user "pg-find-$u-c@$TT_DOMAIN" "Zed Outsider $u" >/dev/null
    tt_api -t "$PG_MEMBER_TTOKEN" GET "/api/v1/tenants/$PG_ID/users?q=PG-FIND-$u"
    tt_expect 200
    tt_check '.total == 2 and ([.users[].email] | sort) == [$a, $b]' \
        --arg a "pg-find-$u-a@$TT_DOMAIN" --arg b "pg-find-$u-b@$TT_DOMAIN"
    tt_api -t "$PG_MEMBER_TTOKEN" GET "/api/v1/tenants/$PG_ID/users?q=zed%20findable%20$u"
    tt_check '.total == 1 and .users[0].name == $n' --arg n "Zed Findable $u"
    # LIKE's wildcards are plain characters.
    tt_api -t "$PG_MEMBER_TTOKEN" GET "/api/v1/tenants/$PG_ID/users?q=%25"
    tt_check '.total == 0 and .users == []'
    tt_api -t "$PG_MEMBER_TTOKEN" GET "/api/v1/tenants/$PG_ID/users?q=pg-find-$u&limit=1"
    tt_check '.total == 2 and (.users | length) == 1 and (.next_cursor | type) == "string"'
    local first next
    first="$(tt_jq '.users[0].user_id')"
    next="$(tt_jq .next_cursor)"
    tt_api -t "$PG_MEMBER_TTOKEN" GET "/api/v1/tenants/$PG_ID/users?q=pg-find-$u&limit=1&cursor=$next"
    tt_check '.page == 2 and (.users | length) == 1 and .users[0].user_id != $f and .next_cursor == null' --arg f "$first"
    tt_api -t "$PG_MEMBER_TTOKEN" GET "/api/v1/tenants/$PG_ID/users?q=$(printf 'x%.0s' $(seq 1 101))"
    tt_expect 400 invalid_request
}

# ---- tenants (superadmin) --------------------------------------------------------

tenants_hook() {
    # A new tenant (newest: before every cursor) and one of ours not yet seen deleted.
    local victim
    tt_create_tenant "PG Walk $PG_U late $1" starter >/dev/null
    victim="$(grep -vxF -f "$(tt_tmp)/gone" "$(tt_tmp)/mine" | head -n 1)"
    if [ -n "$victim" ]; then
        tt_sql_super "BEGIN; DELETE FROM audit_log WHERE tenant_id = '$victim'; DELETE FROM tenants WHERE id = '$victim'; COMMIT;" >/dev/null
        echo "$victim" >>"$(tt_tmp)/gone"
    fi
}

@test "tenants: paging by cursor (whole fleet, a search, a tier) while tenants are made and deleted repeats and loses nothing" {
    local i tok
    tok="$(tt_admin_token)"
    PG_U="$(tt_uniq)"
    export PG_U
    for i in $(seq 1 9); do
        tt_create_tenant "PG Walk $PG_U $i" "$( ((i % 2)) && echo starter || echo business)" >/dev/null
    done
    # A search (trigram path) with a tier.
    : >"$(tt_tmp)/gone"
    walk "/api/v1/tenants?q=walk%20$PG_U" tenants id 100 "$tok" >"$(tt_tmp)/before"
    [ "$(wc -l <"$(tt_tmp)/before")" -eq 9 ]
    # The hook deletes only these, oldest first (the last pages').
    tac "$(tt_tmp)/before" >"$(tt_tmp)/mine"
    walk "/api/v1/tenants?q=walk%20$PG_U" tenants id 2 "$tok" tenants_hook >"$(tt_tmp)/seen"
    check_walk "$(tt_tmp)/seen" "$(tt_tmp)/before" "$(tt_tmp)/gone"
    walk "/api/v1/tenants?q=WALK%20$PG_U&tier=business" tenants id 100 "$tok" >"$(tt_tmp)/b_before"
    walk "/api/v1/tenants?q=WALK%20$PG_U&tier=business" tenants id 1 "$tok" >"$(tt_tmp)/b_seen"
    : >"$(tt_tmp)/none"
    check_walk "$(tt_tmp)/b_seen" "$(tt_tmp)/b_before" "$(tt_tmp)/none"
    # The whole fleet (the test stack's), newest first, by 50.
    walk "/api/v1/tenants" tenants id 100 "$tok" >"$(tt_tmp)/all_before"
    walk "/api/v1/tenants" tenants id 7 "$tok" tenants_hook >"$(tt_tmp)/all_seen"
    check_walk "$(tt_tmp)/all_seen" "$(tt_tmp)/all_before" "$(tt_tmp)/gone"
}

@test "tenants: the search follows a rename (its copy is kept by the tenants trigger)" {
    local tok u tid
    tok="$(tt_admin_token)"
    u="$(tt_uniq)"
    tid="$(tt_create_tenant "PG Before $u" starter)"
    tt_api -t "$tok" GET "/api/v1/tenants?q=before%20$u"
    tt_check '.total == 1 and .tenants[0].id == $t' --arg t "$tid"
    tt_api -t "$tok" PATCH "/api/v1/tenants/$tid" "{\"name\":\"PG After $u\"}"
    tt_expect 200
    tt_api -t "$tok" GET "/api/v1/tenants?q=before%20$u"
    tt_check '.total == 0 and .tenants == []'
    tt_api -t "$tok" GET "/api/v1/tenants?q=AFTER%20$u"
    tt_check '.total == 1 and .tenants[0].id == $t' --arg t "$tid"
}

@test "tenants: status filter, a member's own list by cursor, and bad cursors" {
    local tok
    tok="$(tt_admin_token)"
    tt_api -t "$tok" GET "/api/v1/tenants?status=suspended&limit=100"
    tt_expect 200
    tt_check 'all(.tenants[]; .status == "suspended")'
    tt_api -t "$tok" GET "/api/v1/tenants?status=gone"
    tt_expect 400 invalid_request
    # A member sees their own tenants, one a page.
    tt_api -t "$PG_OWNER_TOKEN" GET "/api/v1/tenants?limit=1"
    tt_check '.total == 1 and .tenants[0].id == $t and .next_cursor == null' --arg t "$PG_ID"
    local c
    tt_api -t "$tok" GET "/api/v1/tenants?limit=1"
    c="$(tt_jq .next_cursor)"
    for bad in "x" "2.1.nope" "1.5.$PG_ID" "0.5.$PG_ID" "2.-5.$PG_ID" "2..$PG_ID" "2.99999999999999999999.$PG_ID" "$c%00"; do
        tt_api -t "$tok" GET "/api/v1/tenants?cursor=$bad"
        tt_expect 400 invalid_request
    done
    # page and cursor together are ambiguous.
    tt_api -t "$tok" GET "/api/v1/tenants?page=2&cursor=$c"
    tt_expect 400 invalid_request
    tt_api -t "$tok" GET "/api/v1/tenants?cursor=$c&limit=1"
    tt_expect 200
    tt_check '.page == 2'
}

# ---- API keys -------------------------------------------------------------------

keys_hook() {
    local victim
    tt_api -t "$PG_ADMIN_TTOKEN" POST "/api/v1/tenants/$PG_ID/api-keys" "{\"name\":\"late $1\",\"scopes\":[\"read\"]}"
    victim="$(sed -n "$((2 + $1 * 2))p" "$(tt_tmp)/before")"
    if [ -n "$victim" ]; then
        tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$PG_ID" "DELETE FROM api_keys WHERE id = '$victim'" >/dev/null
        echo "$victim" >>"$(tt_tmp)/gone"
    fi
}

@test "api keys: paging by cursor while keys are made and deleted repeats and loses nothing; total is the maintained count" {
    local i
    for i in $(seq 1 9); do
        tt_api -t "$PG_ADMIN_TTOKEN" POST "/api/v1/tenants/$PG_ID/api-keys" "{\"name\":\"walk $i\",\"scopes\":[\"read\"]}"
        tt_expect 201
    done
    : >"$(tt_tmp)/gone"
    walk "/api/v1/tenants/$PG_ID/api-keys" api_keys id 100 "$PG_ADMIN_TTOKEN" >"$(tt_tmp)/before"
    walk "/api/v1/tenants/$PG_ID/api-keys" api_keys id 2 "$PG_ADMIN_TTOKEN" keys_hook >"$(tt_tmp)/seen"
    check_walk "$(tt_tmp)/seen" "$(tt_tmp)/before" "$(tt_tmp)/gone"
    tt_api -t "$PG_ADMIN_TTOKEN" GET "/api/v1/tenants/$PG_ID/api-keys?limit=1"
    [ "$(tt_jq .total)" = "$(tt_sql_in_tenant "$TENANTRY_TEST_OWNER_DB_URL" "$PG_ID" \
        "SELECT count(*) FROM api_keys WHERE tenant_id = '$PG_ID'" | tail -n 1)" ]
}

# ---- invitations ------------------------------------------------------------------

invites_hook() {
    local victim
    tt_api -t "$PG_ADMIN_TTOKEN" POST "/api/v1/tenants/$PG_ID/users/invite" \
        "$(jq -cn --arg e "pg-late-inv$1-$(tt_uniq)@$TT_DOMAIN" '{email:$e, role:"viewer"}')"
    victim="$(sed -n "$((2 + $1 * 2))p" "$(tt_tmp)/before")"
    if [ -n "$victim" ]; then
        tt_api -t "$PG_ADMIN_TTOKEN" DELETE "/api/v1/tenants/$PG_ID/invitations/$victim"
        [ "$TT_STATUS" = 204 ] && echo "$victim" >>"$(tt_tmp)/gone"
    fi
}

@test "invitations: paging by cursor while invitations are sent and revoked repeats and loses nothing" {
    local i
    for i in $(seq 1 9); do
        tt_api -t "$PG_ADMIN_TTOKEN" POST "/api/v1/tenants/$PG_ID/users/invite" \
            "$(jq -cn --arg e "pg-inv$i-$(tt_uniq)@$TT_DOMAIN" '{email:$e, role:"member"}')"
        tt_expect 201
    done
    : >"$(tt_tmp)/gone"
    walk "/api/v1/tenants/$PG_ID/invitations" invitations id 100 "$PG_ADMIN_TTOKEN" >"$(tt_tmp)/before"
    [ "$(wc -l <"$(tt_tmp)/before")" -ge 9 ]
    walk "/api/v1/tenants/$PG_ID/invitations" invitations id 2 "$PG_ADMIN_TTOKEN" invites_hook >"$(tt_tmp)/seen"
    [ "$(wc -l <"$(tt_tmp)/gone")" -ge 2 ]
    check_walk "$(tt_tmp)/seen" "$(tt_tmp)/before" "$(tt_tmp)/gone"
    tt_api -t "$PG_ADMIN_TTOKEN" GET "/api/v1/tenants/$PG_ID/invitations?limit=0"
    tt_expect 400 invalid_request
}
