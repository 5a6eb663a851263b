#!/usr/bin/env bats
# settings.bats -- GET/PUT /api/v1/tenants/current/settings: SPEC §5 validation,
# sensitive keys, restricted features.*, ETag/If-Match, concurrent writers,
# and the hourly update limit.

load lib_tenants

SETTINGS=/api/v1/tenants/current/settings

setup_file() {
    # Enterprise: exempt from the settings limit, so the validation cases can
    # make as many successful updates as they need.
    tt_fixture_tenant SE enterprise
}

# The settings version now (as the enterprise tenant's admin).
version_now() {
    tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
    [[ "$TT_STATUS" == 200 ]] || tt_fail "GET settings: $TT_STATUS $TT_BODY" || return 1
    tt_jq .version
}

# reject FIELD PATCH: the PUT is 422 invalid_settings naming FIELD, and changes nothing.
reject() {
    local field="$1" body="$2" before after
    before="$(version_now)"
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" "$body"
    tt_expect 422 invalid_settings
    tt_check 'any(.error.details[]; .field == $f and (.problem | type == "string") and (.problem | length > 0))' --arg f "$field"
    after="$(version_now)"
    [[ "$before" == "$after" ]] || tt_fail "version moved from $before to $after after a refused update: $body"
}

# accept PATCH JQ_CHECK: the PUT is 200 and the answer (and a fresh GET) satisfy JQ_CHECK.
accept() {
    local body="$1" check="$2"
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" "$body"
    tt_expect 200
    tt_check "$check"
    tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
    tt_expect 200
    tt_check "$check"
}

@test "GET settings: the defaults of SPEC §5 for a new tenant, with version and updated_at" {
    tt_new_user def-owner
    local tid
    tid="$(tt_create_tenant "TT defaults $(tt_uniq)" free "$TT_EMAIL")"
    local tok
    tok="$(tt_tenant_token "$(tt_login "$TT_EMAIL")" "$tid")"
    tt_api -t "$tok" GET "$SETTINGS"
    tt_expect 200
    tt_check '.settings == {"branding": {"primary_color": "#000000", "logo_url": null},
        "notifications": {"email_enabled": true, "webhook_url": null},
        "security": {"ip_whitelist": [], "mfa_required": false, "session_timeout_minutes": 60},
        "features": {"custom_models_enabled": false, "api_access_enabled": true, "sso_enabled": false},
        "integrations": {"slack_workspace": null, "microsoft_teams": null}}'
    tt_check '(.version | type == "number") and (.updated_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"))'
}

@test "name: 3 and 100 characters accepted, 2 and 101 refused, control characters refused" {
    reject name '{"name":"ab"}'
    reject name "{\"name\":\"$(printf 'n%.0s' {1..101})\"}"
    reject name '{"name":"bad\u0007name"}'
    reject name '{"name":"tab\tname"}'
    accept '{"name":"abc"}' 'true'
    tt_api -t "$SE_ADMIN_TTOKEN" GET /api/v1/tenants/current
    tt_check '.name == "abc"'
    local n100
    n100="$(printf 'N%.0s' {1..100})"
    accept "{\"name\":\"$n100\"}" 'true'
    tt_api -t "$SE_ADMIN_TTOKEN" GET /api/v1/tenants/current
    tt_check '.name == $n' --arg n "$n100"
    # Characters, not bytes: 100 two-byte characters are fine.
    local e100
    e100="$(printf 'é%.0s' {1..100})"
    accept "{\"name\":\"$e100\"}" 'true'
    tt_api -t "$SE_ADMIN_TTOKEN" GET /api/v1/tenants/current
    tt_check '.name == $n' --arg n "$e100"
    accept "{\"name\":\"TT settings $(tt_uniq)\"}" 'true'
}

@test "branding.primary_color must be #RRGGBB" {
    reject branding.primary_color '{"settings":{"branding":{"primary_color":"#12345"}}}'
    reject branding.primary_color '{"settings":{"branding":{"primary_color":"123456"}}}'
    reject branding.primary_color '{"settings":{"branding":{"primary_color":"#12345G"}}}'
    reject branding.primary_color '{"settings":{"branding":{"primary_color":"#1234567"}}}'
    reject branding.primary_color '{"settings":{"branding":{"primary_color":123456}}}'
    reject branding.primary_color '{"settings":{"branding":{"primary_color":"red"}}}'
    accept '{"settings":{"branding":{"primary_color":"#A1b2C3"}}}' '.settings.branding.primary_color == "#A1b2C3"'
}

@test "branding.logo_url must be an absolute https:// URL with a host" {
    reject branding.logo_url '{"settings":{"branding":{"logo_url":"http://cdn.example.com/logo.png"}}}'
    reject branding.logo_url '{"settings":{"branding":{"logo_url":"https://"}}}'
    reject branding.logo_url '{"settings":{"branding":{"logo_url":"/static/logo.png"}}}'
    reject branding.logo_url '{"settings":{"branding":{"logo_url":"javascript:alert(1)"}}}'
    reject branding.logo_url '{"settings":{"branding":{"logo_url":"https:///logo.png"}}}'
    reject branding.logo_url '{"settings":{"branding":{"logo_url":42}}}'
    accept '{"settings":{"branding":{"logo_url":"https://cdn.example.com/logo.png"}}}' \
        '.settings.branding.logo_url == "https://cdn.example.com/logo.png"'
}

@test "notifications.webhook_url must be an absolute https:// URL with a host; email_enabled a boolean" {
    reject notifications.webhook_url '{"settings":{"notifications":{"webhook_url":"http://hooks.example.com/x"}}}'
    reject notifications.webhook_url '{"settings":{"notifications":{"webhook_url":"hooks.example.com/x"}}}'
    reject notifications.webhook_url '{"settings":{"notifications":{"webhook_url":"https://"}}}'
    reject notifications.webhook_url '{"settings":{"notifications":{"webhook_url":"https://[not-an-ip]/hook"}}}'
    reject notifications.webhook_url '{"settings":{"notifications":{"webhook_url":"https://hooks.example.com:99999/x"}}}'
    accept '{"settings":{"notifications":{"webhook_url":"https://[2001:db8::1]:8443/hook"}}}' \
        '.settings.notifications.webhook_url == "https://[2001:db8::1]:8443/hook"'
    reject notifications.email_enabled '{"settings":{"notifications":{"email_enabled":"yes"}}}'
    reject notifications.email_enabled '{"settings":{"notifications":{"email_enabled":1}}}'
    accept '{"settings":{"notifications":{"webhook_url":"https://hooks.example.com/tenantry?x=1","email_enabled":false}}}' \
        '.settings.notifications == {"webhook_url":"https://hooks.example.com/tenantry?x=1","email_enabled":false}'
}

@test "security.ip_whitelist entries must be IPv4 or IPv6 CIDR blocks" {
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":["10.0.0.0/33"]}}}'
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":["not-an-ip"]}}}'
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":["2001:db8::/129"]}}}'
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":["10.0.0.0/8","300.1.2.3/32"]}}}'
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":["10.0.0.0/abc"]}}}'
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":[42]}}}'
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":["10.0.0.0/"]}}}'
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":["10.0.0.0/-1"]}}}'
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":[" 10.0.0.0/8"]}}}'
    reject security.ip_whitelist '{"settings":{"security":{"ip_whitelist":"10.0.0.0/8"}}}'
    # 127.0.0.1/32 in every list saved here: the allow-list is enforced, and
    # the suite's client would lock itself out of the rest of this file.
    accept '{"settings":{"security":{"ip_whitelist":["203.0.113.0/24","10.0.0.0/8","2001:db8::/48","127.0.0.1/32"]}}}' \
        '.settings.security.ip_whitelist == ["203.0.113.0/24","10.0.0.0/8","2001:db8::/48","127.0.0.1/32"]'
}

@test "security.session_timeout_minutes must be an integer from 5 to 1440; mfa_required a boolean" {
    reject security.session_timeout_minutes '{"settings":{"security":{"session_timeout_minutes":4}}}'
    reject security.session_timeout_minutes '{"settings":{"security":{"session_timeout_minutes":1441}}}'
    reject security.session_timeout_minutes '{"settings":{"security":{"session_timeout_minutes":"60"}}}'
    reject security.session_timeout_minutes '{"settings":{"security":{"session_timeout_minutes":60.5}}}'
    reject security.mfa_required '{"settings":{"security":{"mfa_required":"true"}}}'
    accept '{"settings":{"security":{"session_timeout_minutes":5}}}' '.settings.security.session_timeout_minutes == 5'
    accept '{"settings":{"security":{"session_timeout_minutes":1440,"mfa_required":true}}}' \
        '.settings.security.session_timeout_minutes == 1440 and .settings.security.mfa_required == true'
}

@test "unknown sections and unknown keys are refused" {
    reject billing '{"settings":{"billing":{"plan":"free"}}}'
    reject branding.font '{"settings":{"branding":{"font":"Comic Sans"}}}'
    reject security.password_policy '{"settings":{"security":{"password_policy":"strict"}}}'
    accept '{"settings":{"integrations":{"slack_workspace":"acme-eng"}}}' '.settings.integrations.slack_workspace == "acme-eng"'
}

@test "a section that is not an object is 422 naming the section (and the service keeps answering)" {
    reject branding '{"settings":{"branding":"#123456"}}'
    reject security '{"settings":{"security":["10.0.0.0/8"]}}'
    reject notifications '{"settings":{"notifications":true}}'
    reject integrations '{"settings":{"integrations":42}}'
    tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
    tt_expect 200
}

@test "the whole settings document is at most 10 KiB" {
    # 400 valid CIDR blocks: every entry is fine, the document is not.
    local list
    list="$(jq -cn '[range(0; 400) | "2001:db8:\(. + 4096 | tostring):ffff:ffff:ffff:ffff:0/112"]')"
    local body="{\"settings\":{\"security\":{\"ip_whitelist\":$list}}}"
    [ "${#body}" -gt 10240 ]
    local before
    before="$(version_now)"
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" "$body"
    tt_expect 422 invalid_settings
    tt_check '(.error.details | length) >= 1'
    [ "$(version_now)" = "$before" ]
}

@test "every bad field is reported at once, one details entry per field, and nothing changes" {
    local before
    before="$(version_now)"
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" \
        '{"name":"x","settings":{"branding":{"primary_color":"blue","logo_url":"ftp://x"},"security":{"session_timeout_minutes":0},"nope":{}}}'
    tt_expect 422 invalid_settings
    tt_check '[.error.details[].field] | sort == ["branding.logo_url","branding.primary_color","name","nope","security.session_timeout_minutes"]'
    [ "$(version_now)" = "$before" ]
}

@test "RFC 7396 merge: other keys are kept, null resets a key to its default" {
    accept '{"settings":{"branding":{"primary_color":"#00FF00","logo_url":"https://cdn.example.com/a.png"}}}' \
        '.settings.branding == {"primary_color":"#00FF00","logo_url":"https://cdn.example.com/a.png"}'
    accept '{"settings":{"branding":{"logo_url":null}}}' \
        '.settings.branding == {"primary_color":"#00FF00","logo_url":null}'
    accept '{"settings":{"branding":{"primary_color":null}}}' '.settings.branding.primary_color == "#000000"'
    accept '{"settings":{}}' '.settings.branding.primary_color == "#000000" and (.settings.features.api_access_enabled == true)'
}

@test "a member's or viewer's update is 403 and changes nothing; owner and superadmin may update" {
    local before
    before="$(version_now)"
    tt_api -t "$SE_MEMBER_TTOKEN" PUT "$SETTINGS" '{"settings":{"branding":{"primary_color":"#111111"}}}'
    tt_expect 403 permission_denied
    tt_api -t "$SE_VIEWER_TTOKEN" PUT "$SETTINGS" '{"name":"Viewer was here"}'
    tt_expect 403 permission_denied
    [ "$(version_now)" = "$before" ]
    tt_api -t "$SE_OWNER_TTOKEN" PUT "$SETTINGS" '{"settings":{"branding":{"primary_color":"#222222"}}}'
    tt_expect 200
    tt_api -t "$(tt_admin_token)" -H "X-Tenant-ID: $SE_ID" PUT "$SETTINGS" '{"settings":{"branding":{"primary_color":"#333333"}}}'
    tt_expect 200
    tt_check '.settings.branding.primary_color == "#333333"'
}

@test "sensitive keys (security.*, notifications.webhook_url, integrations.*) are hidden below admin" {
    accept '{"settings":{"notifications":{"webhook_url":"https://hooks.example.com/secret-path"},"integrations":{"microsoft_teams":"team-x"},"security":{"ip_whitelist":["198.51.100.0/24","127.0.0.1/32"]}}}' 'true'
    local who
    for who in MEMBER VIEWER; do
        local v="SE_${who}_TTOKEN"
        tt_api -t "${!v}" GET "$SETTINGS"
        tt_expect 200
        tt_check '(.settings | has("security") | not) and (.settings | has("integrations") | not)
            and (.settings.notifications | has("webhook_url") | not)
            and (.settings.notifications | has("email_enabled"))
            and (.settings | has("branding")) and (.settings | has("features"))'
        [[ "$TT_BODY" != *secret-path* && "$TT_BODY" != *198.51.100.0* && "$TT_BODY" != *team-x* ]]
    done
    for who in ADMIN OWNER; do
        local v="SE_${who}_TTOKEN"
        tt_api -t "${!v}" GET "$SETTINGS"
        tt_expect 200
        tt_check '.settings.notifications.webhook_url == "https://hooks.example.com/secret-path"
            and .settings.integrations.microsoft_teams == "team-x"
            and .settings.security.ip_whitelist == ["198.51.100.0/24","127.0.0.1/32"]'
    done
    tt_api -t "$(tt_admin_token)" -H "X-Tenant-ID: $SE_ID" GET "$SETTINGS"
    tt_expect 200
    tt_check '.settings.security.ip_whitelist == ["198.51.100.0/24","127.0.0.1/32"]'
}

@test "features.* is restricted: refused for an admin or owner (422 naming the key), accepted for a superadmin" {
    tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
    local cur before
    cur="$(tt_jq .settings.features.sso_enabled)"
    before="$(tt_jq .version)"
    local flip=true
    [[ "$cur" == true ]] && flip=false
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" "{\"settings\":{\"features\":{\"sso_enabled\":$flip}}}"
    tt_expect 422 invalid_settings
    tt_check 'any(.error.details[]; .field == "features.sso_enabled")'
    tt_api -t "$SE_OWNER_TTOKEN" PUT "$SETTINGS" "{\"settings\":{\"features\":{\"sso_enabled\":$flip}}}"
    tt_expect 422 invalid_settings
    [ "$(version_now)" = "$before" ]
    # Sending the current value unchanged is fine.
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" "{\"settings\":{\"features\":{\"sso_enabled\":$cur}}}"
    tt_expect 200
    tt_api -t "$(tt_admin_token)" -H "X-Tenant-ID: $SE_ID" PUT "$SETTINGS" \
        "{\"settings\":{\"features\":{\"sso_enabled\":$flip,\"custom_models_enabled\":true}}}"
    tt_expect 200
    tt_check ".settings.features.sso_enabled == $flip and .settings.features.custom_models_enabled == true"
    tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
    tt_check ".settings.features.sso_enabled == $flip"
    # Resetting features to the defaults is a change of features too.
    local v
    v="$(version_now)"
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" '{"settings":{"features":null}}'
    tt_expect 422 invalid_settings
    tt_check 'any(.error.details[]; .field | startswith("features."))'
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" '{"settings":{"features":{"custom_models_enabled":null}}}'
    tt_expect 422 invalid_settings
    tt_check 'any(.error.details[]; .field == "features.custom_models_enabled")'
    [ "$(version_now)" = "$v" ]
}

@test "ETag: GET answers ETag \"<version>\"; a PUT answers the new one" {
    tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
    tt_expect 200
    local v
    v="$(tt_jq .version)"
    [ "$(tt_header ETag)" = "\"$v\"" ]
    tt_api -t "$SE_ADMIN_TTOKEN" -H "If-Match: \"$v\"" PUT "$SETTINGS" '{"settings":{"branding":{"primary_color":"#445566"}}}'
    tt_expect 200
    local v2
    v2="$(tt_jq .version)"
    [ "$v2" -gt "$v" ]
    [ "$(tt_header ETag)" = "\"$v2\"" ]
    tt_api -t "$SE_VIEWER_TTOKEN" GET "$SETTINGS"
    [ "$(tt_header ETag)" = "\"$v2\"" ]
}

@test "If-Match with a stale version is 412 concurrent_update and changes nothing" {
    tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
    local v color
    v="$(tt_jq .version)"
    color="$(tt_jq .settings.branding.primary_color)"
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" '{"settings":{"integrations":{"slack_workspace":"moved-on"}}}'
    tt_expect 200
    local v2
    v2="$(tt_jq .version)"
    tt_api -t "$SE_ADMIN_TTOKEN" -H "If-Match: \"$v\"" PUT "$SETTINGS" \
        '{"name":"Stale writer","settings":{"branding":{"primary_color":"#DEAD00"}}}'
    tt_expect 412 concurrent_update
    tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
    tt_check '.version == ($v | tonumber) and .settings.branding.primary_color == $c' --arg v "$v2" --arg c "$color"
    tt_api -t "$SE_ADMIN_TTOKEN" GET /api/v1/tenants/current
    tt_check '.name != "Stale writer"'
}

@test "a malformed If-Match is 400" {
    tt_api -t "$SE_ADMIN_TTOKEN" -H 'If-Match: not-a-version' PUT "$SETTINGS" '{"settings":{}}'
    tt_expect 400
}

# put_bg N TOKEN IF_MATCH BODY: a PUT in the background; status in $dir/N.status.
put_bg() {
    local n="$1" tok="$2" im="$3" body="$4"
    local -a h=(-H "Authorization: Bearer $tok" -H 'Content-Type: application/json')
    [[ -z "$im" ]] || h+=(-H "If-Match: $im")
    tt_curl -X PUT "${h[@]}" --data-binary "$body" -o "$dir/$n.body" -w '%{http_code}' \
        "$TT_URL$SETTINGS" >"$dir/$n.status" &
}

@test "two concurrent PUTs with the same If-Match: exactly one 200, one 412, and the winner's change is kept" {
    local dir round
    dir="$(tt_tmp)/cc"
    mkdir -p "$dir"
    for round in 1 2 3; do
        tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
        local v
        v="$(tt_jq .version)"
        put_bg a "$SE_ADMIN_TTOKEN" "\"$v\"" '{"settings":{"branding":{"primary_color":"#AA0000"}}}'
        put_bg b "$SE_OWNER_TTOKEN" "\"$v\"" '{"settings":{"branding":{"primary_color":"#00BB00"}}}'
        wait
        local sa sb
        sa="$(cat "$dir/a.status")" sb="$(cat "$dir/b.status")"
        echo "round $round: a=$sa b=$sb"
        [[ "$sa $sb" == "200 412" || "$sa $sb" == "412 200" ]]
        local win="#AA0000" lose="b"
        [[ "$sa" == 200 ]] || { win="#00BB00"; lose="a"; }
        jq -e '.error.code == "concurrent_update"' "$dir/$lose.body"
        tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
        tt_check '.settings.branding.primary_color == $w and .version == (($v | tonumber) + 1)' --arg w "$win" --arg v "$v"
    done
}

@test "concurrent PUTs without If-Match touching different keys: all 200, no update lost" {
    local dir round i
    dir="$(tt_tmp)/nolost"
    mkdir -p "$dir"
    local -a bodies=(
        '{"settings":{"branding":{"primary_color":"#0000R1"}}}'
        '{"settings":{"branding":{"logo_url":"https://cdn.example.com/R1.png"}}}'
        '{"settings":{"notifications":{"webhook_url":"https://hooks.example.com/R1"}}}'
        '{"settings":{"integrations":{"slack_workspace":"ws-R1"}}}'
        '{"settings":{"integrations":{"microsoft_teams":"teams-R1"}}}'
        '{"settings":{"security":{"ip_whitelist":["192.0.2.0/R1","127.0.0.1/32"]}}}'
    )
    for round in 1 2 3; do
        local r=$((10 + round)) v0
        v0="$(version_now)"
        for i in "${!bodies[@]}"; do
            local b="${bodies[$i]//R1/$r}"
            put_bg "$i" "$SE_ADMIN_TTOKEN" "" "$b"
        done
        wait
        for i in "${!bodies[@]}"; do
            [ "$(cat "$dir/$i.status")" = 200 ] || { cat "$dir/$i.body"; false; }
        done
        tt_api -t "$SE_ADMIN_TTOKEN" GET "$SETTINGS"
        tt_check '.settings.branding.primary_color == "#0000\($r)"
            and .settings.branding.logo_url == "https://cdn.example.com/\($r).png"
            and .settings.notifications.webhook_url == "https://hooks.example.com/\($r)"
            and .settings.integrations.slack_workspace == "ws-\($r)"
            and .settings.integrations.microsoft_teams == "teams-\($r)"
            and .settings.security.ip_whitelist == ["192.0.2.0/\($r)","127.0.0.1/32"]' --arg r "$r"
        tt_check '.version == $v0 + $n' --argjson v0 "$v0" --argjson n "${#bodies[@]}"
    done
}

@test "the 11th update within the hour is 429 with Retry-After and RateLimit-*; refused updates do not count; enterprise is never limited" {
    # The hourly window may be a clock-aligned one: do not straddle an hour boundary.
    local left=$((3600 - $(date +%s) % 3600))
    if [ "$left" -lt 90 ]; then sleep $((left + 2)); fi
    tt_new_user rl-owner
    local owner="$TT_EMAIL" tid tok
    tid="$(tt_create_tenant "TT ratelimit $(tt_uniq)" starter "$owner")"
    tok="$(tt_tenant_token "$(tt_login "$owner")" "$tid")"

    # Refused updates first: they must not use up the allowance.
    tt_api -t "$tok" PUT "$SETTINGS" '{"settings":{"branding":{"primary_color":"nope"}}}'
    tt_expect 422
    tt_api -t "$tok" -H 'If-Match: "999999"' PUT "$SETTINGS" '{"settings":{}}'
    tt_expect 412

    local i remaining prev=11
    for i in $(seq 1 10); do
        tt_api -t "$tok" PUT "$SETTINGS" "{\"settings\":{\"integrations\":{\"slack_workspace\":\"ws-$i\"}}}"
        tt_expect 200
        [ "$(tt_header RateLimit-Limit)" = 10 ]
        remaining="$(tt_header RateLimit-Remaining)"
        [[ "$remaining" =~ ^[0-9]+$ ]]
        [ "$remaining" -lt "$prev" ]
        prev="$remaining"
        [[ "$(tt_header RateLimit-Reset)" =~ ^[0-9]+$ ]]
    done
    [ "$remaining" -eq 0 ]
    local v
    v="$(tt_jq .version)"

    tt_api -t "$tok" PUT "$SETTINGS" '{"settings":{"integrations":{"slack_workspace":"ws-11"}}}'
    tt_expect 429 rate_limited
    local ra
    ra="$(tt_header Retry-After)"
    [[ "$ra" =~ ^[0-9]+$ ]]
    [ "$ra" -ge 1 ]
    [ "$ra" -le 3600 ]
    [ "$(tt_header RateLimit-Limit)" = 10 ]
    [ "$(tt_header RateLimit-Remaining)" = 0 ]
    [[ "$(tt_header RateLimit-Reset)" =~ ^[0-9]+$ ]]
    [ "$(tt_header RateLimit-Reset)" -le 3600 ]
    tt_api -t "$tok" GET "$SETTINGS"
    tt_check '.version == ($v | tonumber) and .settings.integrations.slack_workspace == "ws-10"' --arg v "$v"
    # The 12th too: the limit holds.
    tt_api -t "$tok" PUT "$SETTINGS" '{"name":"Still limited"}'
    tt_expect 429 rate_limited

    # Upgraded to enterprise (superadmin): exempt from every class, at once.
    tt_api -t "$(tt_admin_token)" PATCH "/api/v1/tenants/$tid" '{"tier":"enterprise"}'
    tt_expect 200
    for i in $(seq 1 12); do
        tt_api -t "$tok" PUT "$SETTINGS" "{\"settings\":{\"integrations\":{\"slack_workspace\":\"ent-$i\"}}}"
        tt_expect 200
    done
    tt_api -t "$tok" GET "$SETTINGS"
    tt_check '.settings.integrations.slack_workspace == "ent-12"'
}

@test "an enterprise tenant is never limited: 15 updates in a row" {
    local i
    for i in $(seq 1 15); do
        tt_api -t "$SE_OWNER_TTOKEN" PUT "$SETTINGS" "{\"settings\":{\"integrations\":{\"microsoft_teams\":\"e-$i\"}}}"
        tt_expect 200
    done
}

@test "settings routes need a tenant context: 400 tenant_context_required with an identity token alone" {
    tt_api -t "$SE_ADMIN_TOKEN" GET "$SETTINGS"
    tt_expect 400 tenant_context_required
    tt_api -t "$SE_ADMIN_TOKEN" PUT "$SETTINGS" '{"settings":{}}'
    tt_expect 400 tenant_context_required
    # The same identity token with X-Tenant-ID works.
    tt_api -t "$SE_ADMIN_TOKEN" -H "X-Tenant-ID: $SE_ID" GET "$SETTINGS"
    tt_expect 200
}

@test "PUT settings: a body that is not JSON is 415, a non-object settings is 400" {
    tt_curl -X PUT -H "Authorization: Bearer $SE_ADMIN_TTOKEN" -H 'Content-Type: text/plain' \
        --data-binary 'name=x' -o /dev/null -w '%{http_code}' "$TT_URL$SETTINGS" >"$(tt_tmp)/s"
    [ "$(cat "$(tt_tmp)/s")" = 415 ]
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" '{"settings":"branding"}'
    tt_expect 400
    tt_api -t "$SE_ADMIN_TTOKEN" PUT "$SETTINGS" '{"settings":{},"colour":"x"}'
    tt_expect 400
}
