#!/usr/bin/env bats
# activity.bats -- the audit log: one row per mutation (right action, actor,
# target, before/after, request id), none for a refused one; the activity
# route's filters, cursor pagination, CSV export and refused filters.

load lib_tenants

setup_file() {
    tt_fixture_tenant AC business
}

activity() { printf '/api/v1/tenants/%s/activity' "${1:-$AC_ID}"; }

# Rows of the whole audit log (RLS bypassed: superuser) written by a request.
rows_of_request() {
    tt_sql_super "SELECT count(*) FROM audit_log WHERE request_id = '$1'"
}

# mutation_event TENANT ACTION: after a mutation (TT_* holds its response),
# checks that exactly one audit row carries its request id, that it is the
# newest event of ACTION in TENANT, and leaves that event in TT_BODY.
mutation_event() {
    local tenant="$1" action="$2" rid
    rid="$(tt_header X-Request-Id)"
    [ -n "$rid" ]
    [ "$(rows_of_request "$rid")" = 1 ] || tt_fail "request $rid wrote $(rows_of_request "$rid") audit rows"
    tt_api -t "$(tt_admin_token)" GET "$(activity "$tenant")?action=$action&limit=1"
    tt_expect 200
    tt_check '.events[0].request_id == $r and .events[0].action == $a' --arg r "$rid" --arg a "$action"
    TT_BODY="$(tt_jq -c '.events[0]')"
}

# count TENANT [QUERY]: events in TENANT matching QUERY, all pages.
count() {
    tt_audit_count "$(tt_admin_token)" "$1" "${2:-}"
}

@test "the event shape: id, occurred_at, actor {type,id,label}, action, target {type,id}, before, after, request_id, client_addr" {
    tt_api -t "$AC_ADMIN_TTOKEN" GET "$(activity)?limit=100"
    tt_expect 200
    tt_check '(.events | length) >= 1 and (.next_cursor == null or (.next_cursor | type == "string"))'
    tt_check 'all(.events[]; (keys == ["action","actor","after","before","client_addr","id","occurred_at","request_id","target"])
        and (.occurred_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))
        and (.actor | keys == ["id","label","type"]) and (.target | keys == ["id","type"]))'
}

@test "tenant.created: one row, actor the superadmin, after {name, slug, tier, owner_email}" {
    tt_new_user ac-creator
    local u
    u="$(tt_uniq)"
    tt_api -t "$(tt_admin_token)" POST /api/v1/tenants "$(jq -cn --arg n "TT Audit $u" --arg e "$TT_EMAIL" '{name:$n, tier:"starter", owner_email:$e}')"
    tt_expect 201
    local tid
    tid="$(tt_jq .id)"
    mutation_event "$tid" tenant.created
    tt_check '.actor.type == "user" and .actor.label == $admin and (.actor.id | type == "string")
        and .target == {type: "tenant", id: $t} and .before == null
        and .after.name == $n and .after.slug == $s and .after.tier == "starter" and .after.owner_email == $e
        and (.client_addr | type == "string")' \
        --arg admin "$TENANTRY_TEST_ADMIN_EMAIL" --arg t "$tid" --arg n "TT Audit $u" --arg s "tt-audit-$u" --arg e "$TT_EMAIL"
    [ "$(count "$tid" tenant.created)" = 1 ]
}

@test "tenant.updated: one row with the name before and after" {
    tt_api -t "$AC_ADMIN_TTOKEN" GET "/api/v1/tenants/$AC_ID"
    local old new n0
    old="$(tt_jq .name)"
    new="TT Audit Rename $(tt_uniq)"
    n0="$(count "$AC_ID" tenant.updated)"
    tt_api -t "$AC_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$AC_ID" "{\"name\":\"$new\"}"
    tt_expect 200
    mutation_event "$AC_ID" tenant.updated
    tt_check '.actor == {type: "user", id: $a, label: $ae} and .target == {type: "tenant", id: $t}
        and .before.name == $old and .after.name == $new and .before.tier == "business" and .after.tier == "business"' \
        --arg a "$AC_ADMIN_UID" --arg ae "$AC_ADMIN_EMAIL" --arg t "$AC_ID" --arg old "$old" --arg new "$new"
    [ "$(count "$AC_ID" tenant.updated)" = $((n0 + 1)) ]
}

@test "tenant.updated by a superadmin: tier and limits before and after" {
    local tid
    tid="$(tt_create_tenant "TT Audit Tier $(tt_uniq)" free)"
    tt_api -t "$(tt_admin_token)" PATCH "/api/v1/tenants/$tid" '{"tier":"starter","limits":{"teams":3}}'
    tt_expect 200
    mutation_event "$tid" tenant.updated
    tt_check '.before.tier == "free" and .after.tier == "starter" and .before.limits.teams == 2 and .after.limits.teams == 3
        and .before.status == "active" and .after.status == "active"'
}

@test "settings.updated: one row with the whole before and after; refused updates (422, 412) leave none" {
    local n0
    tt_api -t "$AC_ADMIN_TTOKEN" GET /api/v1/tenants/current/settings
    local v old
    v="$(tt_jq .version)"
    old="$(tt_jq .settings.branding.primary_color)"
    n0="$(count "$AC_ID" settings.updated)"
    tt_api -t "$AC_ADMIN_TTOKEN" PUT /api/v1/tenants/current/settings '{"settings":{"branding":{"primary_color":"#ABCDEF"}}}'
    tt_expect 200
    mutation_event "$AC_ID" settings.updated
    tt_check '.actor.id == $a and .target == {type: "tenant", id: $t}
        and .before.settings.branding.primary_color == $old and .after.settings.branding.primary_color == "#ABCDEF"
        and (.before.settings | has("security")) and (.after.settings | has("features"))
        and (.before.name | type == "string") and .before.name == .after.name' \
        --arg a "$AC_ADMIN_UID" --arg t "$AC_ID" --arg old "$old"
    [ "$(count "$AC_ID" settings.updated)" = $((n0 + 1)) ]

    local all0 rid
    all0="$(count "$AC_ID")"
    tt_api -t "$AC_ADMIN_TTOKEN" PUT /api/v1/tenants/current/settings '{"settings":{"branding":{"primary_color":"blue"}}}'
    tt_expect 422
    rid="$(tt_header X-Request-Id)"
    [ "$(rows_of_request "$rid")" = 0 ]
    tt_api -t "$AC_ADMIN_TTOKEN" -H "If-Match: \"$v\"" PUT /api/v1/tenants/current/settings '{"settings":{}}'
    tt_expect 412
    rid="$(tt_header X-Request-Id)"
    [ "$(rows_of_request "$rid")" = 0 ]
    tt_api -t "$AC_MEMBER_TTOKEN" PUT /api/v1/tenants/current/settings '{"settings":{}}'
    tt_expect 403
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    [ "$(count "$AC_ID")" = "$all0" ]
    [ "$(count "$AC_ID" settings.updated)" = $((n0 + 1)) ]
}

@test "a refused tenant creation (409 duplicate slug, 400 unknown tier) leaves no audit row anywhere" {
    local u
    u="$(tt_uniq)"
    tt_api -t "$(tt_admin_token)" POST /api/v1/tenants "{\"name\":\"TT Dup Audit $u\"}"
    tt_expect 201
    local tid
    tid="$(tt_jq .id)"
    tt_api -t "$(tt_admin_token)" POST /api/v1/tenants "{\"name\":\"TT Dup Audit $u\"}"
    tt_expect 409
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    tt_api -t "$(tt_admin_token)" POST /api/v1/tenants "{\"name\":\"TT Tier Audit $u\",\"tier\":\"platinum\"}"
    tt_expect 400
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    [ "$(count "$tid" tenant.created)" = 1 ]
    # Only the first creation is in the log, whatever else runs at the same time.
    [ "$(tt_sql_super "SELECT count(*) FROM audit_log WHERE after->>'name' IN ('TT Dup Audit $u', 'TT Tier Audit $u')")" = 1 ]
}

@test "member.invited, member.joined, member.role_changed, member.removed, invitation.revoked: one row each, right before/after, no token" {
    local email="ac-inv-$(tt_uniq)@$TT_DOMAIN"
    tt_api -t "$AC_ADMIN_TTOKEN" POST "/api/v1/tenants/$AC_ID/users/invite" "{\"email\":\"$email\",\"role\":\"member\"}"
    tt_expect 201
    local token inv
    token="$(tt_jq .token)"
    inv="$(tt_jq .invitation.id)"
    mutation_event "$AC_ID" member.invited
    tt_check '.actor.id == $a and .target == {type: "invitation", id: $i} and .before == null
        and .after == {email: $e, role: "member"}' --arg a "$AC_ADMIN_UID" --arg i "$inv" --arg e "$email"
    [[ "$TT_BODY" != *"$token"* ]]
    [ "$(tt_sql_super "SELECT count(*) FROM audit_log WHERE position('$token' in coalesce(before::text, '') || coalesce(after::text, '')) > 0")" = 0 ]

    tt_api POST /api/v1/invitations/accept "$(jq -cn --arg t "$token" '{token:$t, name:"Audit Joiner", password:"joiner-password-1"}')"
    tt_expect 200
    local uid
    uid="$(tt_jq .user_id)"
    mutation_event "$AC_ID" member.joined
    tt_check '.actor == {type: "user", id: $u, label: $e} and .target == {type: "user", id: $u}
        and .after.role == "member" and .after.invitation_id == $i' --arg u "$uid" --arg e "$email" --arg i "$inv"
    [[ "$TT_BODY" != *joiner-password-1* ]]

    tt_api -t "$AC_OWNER_TTOKEN" PATCH "/api/v1/tenants/$AC_ID/users/$uid/role" '{"role":"viewer"}'
    tt_expect 200
    mutation_event "$AC_ID" member.role_changed
    tt_check '.actor.id == $o and .target == {type: "user", id: $u} and .before == {role: "member"} and .after == {role: "viewer"}' \
        --arg o "$AC_OWNER_UID" --arg u "$uid"

    tt_api -t "$AC_ADMIN_TTOKEN" DELETE "/api/v1/tenants/$AC_ID/users/$uid"
    tt_expect 204
    mutation_event "$AC_ID" member.removed
    tt_check '.actor.id == $a and .target == {type: "user", id: $u} and .before.role == "viewer" and .before.email == $e and .after == null' \
        --arg a "$AC_ADMIN_UID" --arg u "$uid" --arg e "$email"

    local email2="ac-rev-$(tt_uniq)@$TT_DOMAIN"
    tt_api -t "$AC_ADMIN_TTOKEN" POST "/api/v1/tenants/$AC_ID/users/invite" "{\"email\":\"$email2\",\"role\":\"viewer\"}"
    tt_expect 201
    inv="$(tt_jq .invitation.id)"
    tt_api -t "$AC_ADMIN_TTOKEN" DELETE "/api/v1/tenants/$AC_ID/invitations/$inv"
    tt_expect 204
    mutation_event "$AC_ID" invitation.revoked
    tt_check '.target == {type: "invitation", id: $i} and .before == {email: $e, role: "viewer"} and .after == null' \
        --arg i "$inv" --arg e "$email2"
}

@test "refused member changes (403, 404, 409, 410) leave no audit row" {
    local all0 rid
    all0="$(count "$AC_ID")"
    tt_api -t "$AC_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$AC_ID/users/$AC_OWNER_UID/role" '{"role":"member"}'
    tt_expect 403
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    tt_api -t "$AC_OWNER_TTOKEN" DELETE "/api/v1/tenants/$AC_ID/users/$AC_OWNER_UID"
    tt_expect 409
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    tt_api -t "$AC_ADMIN_TTOKEN" DELETE "/api/v1/tenants/$AC_ID/users/$(cat /proc/sys/kernel/random/uuid)"
    tt_expect 404
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    tt_api -t "$AC_ADMIN_TTOKEN" POST "/api/v1/tenants/$AC_ID/users/invite" "{\"email\":\"$AC_MEMBER_EMAIL\",\"role\":\"viewer\"}"
    tt_expect 409
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    tt_api -t "$AC_ADMIN_TTOKEN" POST "/api/v1/tenants/$AC_ID/users/invite" '{"email":"x@tt.example","role":"emperor"}'
    tt_expect 400
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    tt_api -t "$AC_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$AC_ID" '{"name":"x"}'
    tt_expect 400
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    tt_api -t "$AC_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$AC_ID" '{"tier":"enterprise"}'
    tt_expect 403
    [ "$(rows_of_request "$(tt_header X-Request-Id)")" = 0 ]
    [ "$(count "$AC_ID")" = "$all0" ]
}

# A tenant with a known history for the filter cases: batch 1, a boundary
# second, batch 2. Sets FT_ID, FT_BOUNDARY and the actors' ids.
filter_tenant() {
    tt_fixture_tenant FT starter
    local i
    for i in 1 2; do
        tt_api -t "$FT_ADMIN_TTOKEN" PUT /api/v1/tenants/current/settings "{\"settings\":{\"integrations\":{\"slack_workspace\":\"b1-$i\"}}}"
        tt_expect 200
    done
    tt_api -t "$FT_OWNER_TTOKEN" PATCH "/api/v1/tenants/$FT_ID" "{\"name\":\"TT Filter b1 $(tt_uniq)\"}"
    tt_expect 200
    sleep 1.2
    FT_BOUNDARY="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    sleep 1.2
    tt_api -t "$FT_OWNER_TTOKEN" PUT /api/v1/tenants/current/settings '{"settings":{"integrations":{"slack_workspace":"b2"}}}'
    tt_expect 200
    tt_api -t "$FT_ADMIN_TTOKEN" POST "/api/v1/tenants/$FT_ID/users/invite" "{\"email\":\"ft-$(tt_uniq)@tt.example\",\"role\":\"viewer\"}"
    tt_expect 201
    tt_api -t "$FT_ADMIN_TTOKEN" PATCH "/api/v1/tenants/$FT_ID" "{\"name\":\"TT Filter b2 $(tt_uniq)\"}"
    tt_expect 200
}

@test "filters: from and to (to exclusive), action, actor (id or label), actor_type, and combined" {
    filter_tenant
    local tok="$FT_ADMIN_TTOKEN" all
    tt_api -t "$tok" GET "$(activity "$FT_ID")?limit=100"
    tt_expect 200
    all="$TT_BODY"
    # from / to
    tt_api -t "$tok" GET "$(activity "$FT_ID")?limit=100&from=$FT_BOUNDARY"
    tt_expect 200
    tt_check '(.events | length) == 3 and all(.events[]; .occurred_at >= $b)' --arg b "$FT_BOUNDARY"
    tt_api -t "$tok" GET "$(activity "$FT_ID")?limit=100&to=$FT_BOUNDARY"
    tt_expect 200
    tt_check 'all(.events[]; .occurred_at < $b) and (.events | length) == ($all | fromjson | .events | length) - 3' \
        --arg b "$FT_BOUNDARY" --arg all "$all"
    tt_api -t "$tok" GET "$(activity "$FT_ID")?limit=100&from=2000-01-01&to=2000-01-02"
    tt_check '.events == [] and .next_cursor == null'
    # action
    tt_api -t "$tok" GET "$(activity "$FT_ID")?action=settings.updated"
    tt_check '(.events | length) == 3 and all(.events[]; .action == "settings.updated")'
    tt_api -t "$tok" GET "$(activity "$FT_ID")?action=tenant.updated&from=$FT_BOUNDARY"
    tt_check '(.events | length) == 1 and (.events[0].after.name | startswith("TT Filter b2"))'
    tt_api -t "$tok" GET "$(activity "$FT_ID")?action=no.such_action"
    tt_check '.events == []'
    # actor: by id (any case) and by label
    tt_api -t "$tok" GET "$(activity "$FT_ID")?actor=$FT_OWNER_UID"
    tt_check '(.events | length) == 2 and all(.events[]; .actor.id == $o)' --arg o "$FT_OWNER_UID"
    tt_api -t "$tok" GET "$(activity "$FT_ID")?actor=${FT_OWNER_UID^^}"
    tt_check '(.events | length) == 2'
    tt_api -t "$tok" GET "$(activity "$FT_ID")?actor=$FT_ADMIN_EMAIL"
    tt_check '(.events | length) == 4 and all(.events[]; .actor.label == $e)' --arg e "$FT_ADMIN_EMAIL"
    # actor_type
    tt_api -t "$tok" GET "$(activity "$FT_ID")?actor_type=user&limit=100"
    tt_check 'all(.events[]; .actor.type == "user") and (.events | length) >= 6'
    tt_api -t "$tok" GET "$(activity "$FT_ID")?actor_type=api_key"
    tt_check '.events == []'
    # combined
    tt_api -t "$tok" GET "$(activity "$FT_ID")?actor=$FT_ADMIN_EMAIL&action=settings.updated&to=$FT_BOUNDARY&actor_type=user"
    tt_check '(.events | length) == 2 and all(.events[]; .action == "settings.updated" and .actor.label == $e)' --arg e "$FT_ADMIN_EMAIL"
}

@test "actor_type=system: operator actions (tenantryctl create-tenant, add-member) are audited as system" {
    tt_new_user ac-ctl
    local email="$TT_EMAIL" slug="ctl-$(tt_uniq)" tid out
    tid="$(eval "$TENANTRY_TEST_CTL create-tenant --name \"TT ctl $slug\" --slug $slug --tier starter")"
    [[ "$tid" =~ ^[0-9a-f-]{36}$ ]]
    tt_api -t "$(tt_admin_token)" GET "$(activity "$tid")?actor_type=system"
    tt_expect 200
    tt_check '(.events | length) == 1 and .events[0].action == "tenant.created" and .events[0].actor.type == "system"'
    out="$(eval "$TENANTRY_TEST_CTL add-member --tenant $slug --email $email --role admin")"
    echo "$out"
    tt_api -t "$(tt_admin_token)" GET "$(activity "$tid")?actor_type=system"
    tt_check '(.events | length) == 2 and all(.events[]; .actor.type == "system")'
    tt_api -t "$(tt_admin_token)" GET "$(activity "$tid")?actor_type=user"
    tt_check '.events == []'
}

@test "cursor pagination walks every event once, newest first, and ends with next_cursor null" {
    filter_tenant
    local tok="$FT_ADMIN_TTOKEN" cursor="" ids="" pages=0 total
    tt_api -t "$tok" GET "$(activity "$FT_ID")?limit=100"
    total="$(tt_jq '.events | length')"
    local all_ids
    all_ids="$(tt_jq '[.events[].id] | join(",")')"
    [ "$total" -ge 7 ]
    while :; do
        tt_api -t "$tok" GET "$(activity "$FT_ID")?limit=3${cursor:+&cursor=$cursor}"
        tt_expect 200
        pages=$((pages + 1))
        tt_check '(.events | length) <= 3'
        local page
        page="$(tt_jq '[.events[].id] | join(",")')"
        ids="${ids:+$ids,}$page"
        cursor="$(tt_jq '.next_cursor // empty')"
        [ -n "$cursor" ] || break
        tt_check '(.events | length) == 3'
        [ "$pages" -lt 50 ]
    done
    [ "$ids" = "$all_ids" ]
    # no duplicates, strictly newest first
    printf '%s' "$ids" | tr ',' '\n' | sort -n | uniq -d | wc -l | grep -qx 0
    [ "$(printf '%s' "$ids" | tr ',' '\n' | grep -c .)" -eq "$total" ]
    [ "$(printf '%s' "$ids" | tr ',' '\n')" = "$(printf '%s' "$ids" | tr ',' '\n' | sort -rn)" ]
    [ "$pages" -eq $(((total + 2) / 3)) ]
    # A filter is kept across pages.
    tt_api -t "$tok" GET "$(activity "$FT_ID")?action=settings.updated&limit=2"
    tt_check '(.events | length) == 2 and (.next_cursor | type == "string")'
    tt_api -t "$tok" GET "$(activity "$FT_ID")?action=settings.updated&limit=2&cursor=$(tt_jq .next_cursor)"
    tt_check '(.events | length) == 1 and .next_cursor == null and .events[0].action == "settings.updated"'
}

@test "format=csv: text/csv, a header line, one row per event, JSON fields quoted" {
    filter_tenant
    local tok="$FT_ADMIN_TTOKEN" d n
    d="$(tt_tmp)"
    tt_api -t "$tok" GET "$(activity "$FT_ID")?limit=100"
    n="$(tt_jq '.events | length')"
    local ids
    ids="$(tt_jq -r '.events[].id')"
    tt_api -t "$tok" GET "$(activity "$FT_ID")?format=csv"
    tt_expect 200
    [[ "$(tt_header Content-Type)" == text/csv* ]]
    printf '%s\n' "$TT_BODY" | tr -d '\r' >"$d/activity.csv"
    [ "$(head -1 "$d/activity.csv")" = "id,occurred_at,actor_type,actor_id,actor_label,action,target_type,target_id,before,after,request_id,client_addr" ]
    # One line per event (no field holds a line break), in the same order as the JSON.
    [ "$(tail -n +2 "$d/activity.csv" | grep -c .)" -eq "$n" ]
    [ "$(tail -n +2 "$d/activity.csv" | cut -d, -f1)" = "$ids" ]
    # JSON before/after: quoted, inner quotes doubled.
    grep -q ',"{""name"": ""TT Filter b2' "$d/activity.csv"
    grep -q '""settings"": {""branding"": {' "$d/activity.csv"
    # The filters apply to the export too.
    tt_api -t "$tok" GET "$(activity "$FT_ID")?format=csv&action=settings.updated"
    tt_expect 200
    [ "$(printf '%s\n' "$TT_BODY" | tr -d '\r' | tail -n +2 | grep -c .)" -eq 3 ]
    [ "$(printf '%s\n' "$TT_BODY" | tr -d '\r' | tail -n +2 | grep -vc ',settings.updated,tenant,')" -eq 0 ]
    # and the same rules: a member may not export.
    tt_api -t "$FT_MEMBER_TTOKEN" GET "$(activity "$FT_ID")?format=csv"
    tt_expect 403
}

@test "a malformed filter is 400 (never a database error)" {
    local q
    local -a bad=()
    for q in from=yesterday to=2026-1-1 "from=2026-01-01T00:00" action=Bad-Action action=x%20y \
        actor_type=robot cursor=abc cursor=0 cursor=-5 limit=0 limit=101 limit=ten format=xml \
        from=2026-13-45 to=2026-02-30T25:61:61Z from=0000-00-00 "from=2026-01-01T00:00:00%2B25:00"; do
        tt_api -t "$AC_ADMIN_TTOKEN" GET "$(activity)?$q"
        echo "$q -> $TT_STATUS $(tt_jq -c '.error.code // empty' 2>/dev/null)"
        [[ "$TT_STATUS" == 400 && "$(tt_jq .error.code)" == invalid_request ]] || bad+=("$q -> $TT_STATUS")
    done
    echo "refused as they should not be: ${bad[*]:-none}"
    [ "${#bad[@]}" -eq 0 ]
}

@test "the activity log is for admins: members and viewers 403, another tenant 403" {
    tt_api -t "$AC_MEMBER_TTOKEN" GET "$(activity)"
    tt_expect 403
    tt_api -t "$AC_VIEWER_TTOKEN" GET "$(activity)"
    tt_expect 403
    local other
    other="$(tt_create_tenant "TT Other Log $(tt_uniq)" free)"
    tt_api -t "$AC_ADMIN_TTOKEN" GET "$(activity "$other")"
    tt_expect 403
    tt_api -t "$AC_ADMIN_TOKEN" GET "$(activity "$other")"
    tt_expect 403
    tt_api -t "$AC_OWNER_TOKEN" -H "X-Tenant-ID: $other" GET "$(activity "$other")"
    tt_expect 403
}
