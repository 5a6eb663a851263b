#!/usr/bin/env bats
# plans.bats -- every list, search and filter statement is served by an index (issue 19): on a CI-sized data set, EXPLAIN shows no sequential scan of a big table.
#
# The data set (bench/scale.sql, as the owner role: 10^4 tenants, one
# workspace of 2*10^3 members, 2*10^5 audit rows) is loaded in one
# transaction that is rolled back at the end, so the rest of the suite never
# sees it. The statements are the catalog's own (tests/plan/stmt_dump prints
# src/db/stmt.c), prepared and explained as the app role in the context a
# request would set. A statement of the list family (a name ending in
# _list, _search or _stats, the activity log, or any statement reading a
# page: "LIMIT $n") with no case in CASES below fails the first test.

load lib_tenants

# Relations a plan must never read whole.
# (users is not one: only app.member_search reads it by a pattern, checked
# on its own as member_search_body.)
BIG='["tenants","tenant_users","api_keys","invitations","audit_log","usage_events","tenant_search"]'

# case | statement | context (super: superadmin; member, admin: of the big
# workspace; operator: superadmin without a user) | EXECUTE arguments.
# psql variables: :'big' (the workspace), :'t_ts' :'t_id' (a tenant's
# cursor key), :'m_ts' :'m_id' (a member's), :'k_ts' :'k_id' (a key's),
# :'i_ts' :'i_id' (an invitation's), :'a_id' (an audit id), :'from' :'to'.
CASES="$(cat <<'EOF'
tenants_first|tenant_list|super|NULL, NULL, NULL, NULL, NULL, 20, 0, 1
tenants_deep_cursor|tenant_list|super|NULL, NULL, NULL, :'t_ts', :'t_id', 20, 0, 2
tenants_page_5|tenant_list|super|NULL, NULL, NULL, NULL, NULL, 20, 80, 5
tenants_tier|tenant_list|super|'starter', NULL, NULL, NULL, NULL, 20, 0, 1
tenants_tier_cursor|tenant_list|super|'starter', NULL, NULL, :'t_ts', :'t_id', 20, 0, 2
tenants_status|tenant_list|super|NULL, 'suspended', NULL, NULL, NULL, 20, 0, 1
tenants_search_none|tenant_list|super|NULL, NULL, 'zzzz', NULL, NULL, 20, 0, 1
tenants_search_some|tenant_list|super|NULL, NULL, 'tenant plan', NULL, NULL, 20, 0, 1
tenants_search_tier|tenant_list|super|'business', NULL, '777', NULL, NULL, 20, 0, 1
tenants_mine|tenant_list|member|NULL, NULL, NULL, NULL, NULL, 20, 0, 1
tenants_mine_search|tenant_list|member|NULL, NULL, 'scale', NULL, NULL, 20, 0, 1
members_first|member_list|member|50, 0, 1, NULL, NULL, NULL
members_cursor|member_list|member|50, 0, 2, NULL, :'m_ts', :'m_id'
members_page_3|member_list|member|50, 100, 3, NULL, NULL, NULL
members_search_email|member_list|member|50, 0, 1, 'm1234@', NULL, NULL
members_search_name|member_list|member|50, 0, 1, 'member 77', NULL, NULL
members_search_none|member_list|member|50, 0, 1, 'zzzz', NULL, NULL
keys_first|key_list|admin|50, 0, 1, NULL, NULL
keys_cursor|key_list|admin|50, 0, 2, :'k_ts', :'k_id'
invitations_first|invite_list|admin|50, NULL, NULL, 1, 0
invitations_cursor|invite_list|admin|50, :'i_ts', :'i_id', 2, 0
activity_first|activity|admin|NULL, NULL, NULL, NULL, NULL, NULL, 51, NULL
activity_cursor|activity|admin|NULL, NULL, NULL, NULL, NULL, :'a_id', 51, NULL
activity_action|activity|admin|NULL, NULL, 'member.joined', NULL, NULL, NULL, 51, NULL
activity_range|activity|admin|:'from', :'to', NULL, NULL, NULL, NULL, 51, NULL
activity_actor_none|activity|admin|NULL, NULL, NULL, 'nobody@x', NULL, NULL, 51, NULL
activity_actor_label|activity|admin|NULL, NULL, NULL, 'm77@scale.example', NULL, NULL, 51, NULL
activity_actor_id|activity|admin|NULL, NULL, NULL, :'member', NULL, NULL, 51, :'member'
activity_csv|activity|admin|NULL, NULL, NULL, NULL, NULL, NULL, 500, NULL
recent|web_recent|member|5
stats|tenant_stats|member|
current|tenant_current|member|
usage_facts|usage_facts|member|current_date, date_trunc('month', current_date)::date
usage_meters|usage_meters|member|current_date, date_trunc('month', current_date)::date
seats|invite_seats|admin|'nobody@plan.example'
owners|member_state|admin|:'m_id'
outbox|outbox_claim|operator|10
EOF
)"

# Cases whose index is the point of an index of 007_counts_paging.sql.
EXPECT="tenants_first:tenants_created_idx tenants_deep_cursor:tenants_created_idx
tenants_tier_cursor:tenants_tier_created_idx tenants_status:tenants_status_created_idx
members_first:tenant_users_joined_idx members_cursor:tenant_users_joined_idx
keys_cursor:api_keys_tenant_created_idx invitations_cursor:invitations_pending_idx
activity_actor_none:audit_log_actor_label_idx activity_actor_label:audit_log_actor_label_idx
activity_actor_id:audit_log_actor_id_idx owners:tenant_users_owners_idx
tenant_search_name:tenant_search_name_trgm tenant_search_name:tenant_search_slug_trgm
stats:tenant_counts_pkey current:tenant_counts_pkey usage_facts:tenant_counts_pkey
member_search_body:users_email_trgm member_search_body:users_name_trgm"

# And indexes a case must not walk: a search starts from its matches, not
# from the fleet in date order.
SHUN="tenants_search_none:tenants_created_idx tenants_search_some:tenants_created_idx"

# The family's statement names, from the catalog itself.
family() {
    "$TENANTRY_REPO/tests/plan/stmt_dump" |
        awk -F'\t' '$1 ~ /(_list|_search|_stats)$/ || $1 == "activity" || $3 ~ /LIMIT \$[0-9]/ { print $1 }'
}

setup_file() {
    TENANTRY_REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
    export TENANTRY_REPO
    [ -x "$TENANTRY_REPO/tests/plan/stmt_dump" ] || tt_fail "build tests/plan/stmt_dump first (make)"
}

@test "plans: every statement of the list family has a plan case" {
    local names s missing=""
    names="$(family)"
    [ -n "$names" ]
    # The family is what it should be today (so the rule itself is checked).
    for s in tenant_list member_list key_list invite_list activity web_recent tenant_stats; do
        grep -qx "$s" <<<"$names" || tt_fail "the family rule lost $s"
    done
    for s in $names; do
        cut -d'|' -f2 <<<"$CASES" | grep -qx "$s" || missing+=" $s"
    done
    [ -z "$missing" ] || tt_fail "statements of the list family without a plan case in plans.bats:$missing"
    # And every case names a statement that exists.
    for s in $(cut -d'|' -f2 <<<"$CASES" | sort -u); do
        "$TENANTRY_REPO/tests/plan/stmt_dump" "$s" | grep -q . || tt_fail "plan case for unknown statement $s"
    done
}

# The whole script: load, analyse, prepare, explain, roll back.
plan_script() {
    local tag="$1" s ctx name args
    cat <<EOF
\\set ON_ERROR_STOP 1
BEGIN;
SET LOCAL ROLE tenantry_owner;
\\i $TENANTRY_REPO/bench/scale.sql
SELECT id AS big FROM tenants WHERE slug = '$tag-1' \\gset
SELECT set_config('tenantry.tenant_id', :'big', true);
SELECT user_id AS member FROM tenant_users WHERE tenant_id = :'big' AND role = 'member' ORDER BY user_id LIMIT 1 \\gset
SELECT user_id AS admin FROM tenant_users WHERE tenant_id = :'big' AND role = 'admin' ORDER BY user_id LIMIT 1 \\gset
SELECT (extract(epoch FROM created_at) * 1000000)::bigint AS t_ts, id AS t_id FROM tenants WHERE slug = '$tag-5000' \\gset
SELECT (extract(epoch FROM joined_at) * 1000000)::bigint AS m_ts, user_id AS m_id FROM tenant_users
 WHERE tenant_id = :'big' ORDER BY joined_at, user_id OFFSET 1000 LIMIT 1 \\gset
SELECT (extract(epoch FROM created_at) * 1000000)::bigint AS k_ts, id AS k_id FROM api_keys
 WHERE tenant_id = :'big' ORDER BY created_at DESC, id OFFSET 20 LIMIT 1 \\gset
SELECT (extract(epoch FROM created_at) * 1000000)::bigint AS i_ts, id AS i_id FROM invitations
 WHERE tenant_id = :'big' ORDER BY created_at DESC, id OFFSET 50 LIMIT 1 \\gset
SELECT id AS a_id FROM audit_log WHERE tenant_id = :'big' ORDER BY id DESC OFFSET 100000 LIMIT 1 \\gset
SELECT app.ts(now() - interval '3 days') AS from, app.ts(now() - interval '2 days') AS to \\gset
RESET ROLE;
-- A plan's nodes, less the subtrees the planner cut at planning time (under
-- a Result whose one-time filter is false: a branch for other parameters).
CREATE FUNCTION pg_temp.plan(c text, q text) RETURNS text LANGUAGE plpgsql AS \$f\$
DECLARE j jsonb;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
	RETURN (WITH RECURSIVE n(node) AS (
	          SELECT j -> 0 -> 'Plan'
	          UNION ALL
	          SELECT k FROM n, jsonb_array_elements(coalesce(n.node -> 'Plans', '[]')) k
	           WHERE coalesce(n.node ->> 'One-Time Filter', '') <> 'false')
	        SELECT c || '|' || coalesce(string_agg(DISTINCT node ->> 'Relation Name', ',')
	                 FILTER (WHERE node ->> 'Node Type' = 'Seq Scan'), '')
	          || '|' || coalesce(string_agg(DISTINCT node ->> 'Index Name', ','), '')
	          FROM n);
END \$f\$;
-- app.tenant_search runs as the owner, with the settings it declares: its query, so.
SELECT 'tenant_search_config|' || array_to_string(proconfig, ',') FROM pg_proc WHERE oid = 'app.tenant_search(text)'::regprocedure;
SET LOCAL ROLE tenantry_owner;
SET LOCAL enable_seqscan = off;
SELECT pg_temp.plan('tenant_search_name', \$q\$SELECT s.tenant_id FROM tenant_search s WHERE s.name_lc LIKE '%zzzz%'
  UNION SELECT s.tenant_id FROM tenant_search s WHERE s.slug LIKE '%zzzz%'\$q\$);
SELECT 'member_search_config|' || array_to_string(proconfig, ',') FROM pg_proc WHERE oid = 'app.member_search(text)'::regprocedure;
SELECT pg_temp.plan('member_search_body', \$q\$SELECT m.id FROM (SELECT u.id FROM users u WHERE u.email LIKE '%m1234@%'
  UNION SELECT u.id FROM users u WHERE lower(u.name) LIKE '%m1234@%') m
  WHERE EXISTS (SELECT 1 FROM tenant_users tu WHERE tu.tenant_id = '\$q\$ || :'big' || \$q\$' AND tu.user_id = m.id)\$q\$);
SELECT pg_temp.plan('tenant_search_broad', \$q\$SELECT s.tenant_id FROM tenant_search s WHERE s.name_lc LIKE '%tenant plan 12%'
  UNION SELECT s.tenant_id FROM tenant_search s WHERE s.slug LIKE '%tenant plan 12%'\$q\$);
RESET ROLE;
RESET enable_seqscan;
SET LOCAL ROLE tenantry_app;
EOF
    for s in $(cut -d'|' -f2 <<<"$CASES" | sort -u); do
        "$TENANTRY_REPO/tests/plan/stmt_dump" "$s" | awk -F'\t' '{ printf "PREPARE %s AS %s;\n", $1, $3 }'
    done
    while IFS='|' read -r name s ctx args; do
        case "$ctx" in
        super)    echo "SELECT set_config('tenantry.user_id', '', true), set_config('tenantry.superadmin', 'on', true), set_config('tenantry.tenant_id', :'big', true);" ;;
        member)   echo "SELECT set_config('tenantry.user_id', :'member', true), set_config('tenantry.superadmin', '', true), set_config('tenantry.tenant_id', :'big', true);" ;;
        admin)    echo "SELECT set_config('tenantry.user_id', :'admin', true), set_config('tenantry.superadmin', '', true), set_config('tenantry.tenant_id', :'big', true);" ;;
        operator) echo "SELECT set_config('tenantry.user_id', '', true), set_config('tenantry.superadmin', 'on', true), set_config('tenantry.tenant_id', '', true);" ;;
        esac
        if [ -n "$args" ]; then
            # The arguments as one SQL string, each psql variable spliced in as a literal.
            args="$(sed -e "s/'/''/g" -e "s/:''\([a-z_]*\)''/' || quote_literal(:'\1') || '/g" <<<"$args")"
            echo "SELECT pg_temp.plan('$name', 'EXECUTE $s($args)');"
        else
            echo "SELECT pg_temp.plan('$name', 'EXECUTE $s');"
        fi
    done <<<"$CASES"
    echo "ROLLBACK;"
}

@test "plans: on 10^4 tenants, 2*10^3 members and 2*10^5 audit rows no list, search or filter reads a big table whole" {
    local tag out line name seq idx bad=""
    tag="plan$(tt_uniq)"
    plan_script "$tag" > "$(tt_tmp)/plans.sql"
    out="$(tt_psql "$(tt_super_url)" -v tag="$tag" -v tenants=10000 -v members=2000 -v audit=200000 \
        -f "$(tt_tmp)/plans.sql" 2>&1 | grep -E '^[a-z_0-9]+\|' )" || { cat "$(tt_tmp)/plans.sql" >&2; tt_fail "the plan script failed"; }
    # One line per case, each with the indexes it used (shown with bats --verbose-run / on failure).
    printf '%s\n' "$out" > "$(tt_tmp)/plans.txt"
    echo "# case|seq scans|indexes" >&3
    sed 's/^/# /' <<<"$out" >&3
    grep -q '^tenant_search_config|.*enable_seqscan=off' <<<"$out" ||
        tt_fail "app.tenant_search no longer turns sequential scans off" "$out"
    grep -q '^member_search_config|.*enable_seqscan=off' <<<"$out" ||
        tt_fail "app.member_search no longer turns sequential scans off" "$out"
    for name in tenant_search_name tenant_search_broad member_search_body $(cut -d'|' -f1 <<<"$CASES"); do
        line="$(grep "^$name|" <<<"$out")" || { bad+=" $name(no plan)"; continue; }
        seq="$(cut -d'|' -f2 <<<"$line")"
        idx="$(cut -d'|' -f3 <<<"$line")"
        if [ -n "$seq" ] && jq -e --arg s "$seq" --argjson big "$BIG" \
            '($s | split(",")) as $r | any($r[]; . as $x | $big | index($x))' <<<null >/dev/null; then
            bad+=" $name(seq scan of $seq)"
        fi
        # A case that reads a big table uses an index for it.
        [ -n "$idx" ] || [ "$name" = outbox ] || bad+=" $name(no index)"
    done
    local e
    for e in $EXPECT; do
        grep -q "^${e%%:*}|[^|]*|\(.*,\)\?${e#*:}\(,.*\)\?$" <<<"$out" || bad+=" ${e%%:*}(not through ${e#*:})"
    done
    for e in $SHUN; do
        ! grep -q "^${e%%:*}|[^|]*|\(.*,\)\?${e#*:}\(,.*\)\?$" <<<"$out" || bad+=" ${e%%:*}(walks ${e#*:})"
    done
    [ -z "$bad" ] || tt_fail "plans that read a big table whole or miss their index:$bad" "$out"
}
