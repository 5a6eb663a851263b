#!/usr/bin/env bats
# zz_secrets_in_logs.bats -- runs last (bats takes the files in name order):
# after the whole API suite has signed in, minted and forged tokens, made and
# rotated API keys, sent invitations and opened dashboard sessions, no log of
# the stack holds a secret (SPEC §7): the workers' log, nginx's access and
# error logs, PostgreSQL's log. Secrets are recognised by their shapes, so
# every one the suite made is covered without each file listing its own.

load helpers

# The stack's logs, every one that exists.
logs() {
    local f
    for f in "$TENANTRY_TEST_WORKER_LOG" "$TENANTRY_TEST_STATE_DIR/log/nginx-access.log" \
        "$TENANTRY_TEST_STATE_DIR/log/nginx-error.log" "$TENANTRY_TEST_STATE_DIR/log/postgresql.log"; do
        [[ -f "$f" ]] && printf '%s\n' "$f"
    done
}

# no_match LABEL ERE: no line of any log matches.
no_match() {
    local f hits=""
    while read -r f; do
        if grep -qE -- "$2" "$f"; then
            hits+="$f: $(grep -E -- "$2" "$f" | head -2 | cut -c1-300)"$'\n'
        fi
    done < <(logs)
    [[ -z "$hits" ]] || fail "the logs hold $1:" "$hits"
}

@test "the suite left logs to read" {
    [[ "$(logs | wc -l)" -ge 3 ]] || fail "logs found: $(logs | tr '\n' ' ')"
    [[ -s "$TENANTRY_TEST_WORKER_LOG" && -s "$TENANTRY_TEST_STATE_DIR/log/nginx-access.log" ]]
}

@test "no log holds a JWT (issued or forged), an API key, an invitation token or a session cookie" {
    # A JWT: base64url of a JSON header, a dot, base64url of a JSON payload.
    no_match "a JWT" 'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}'
    # An API key: tnt_ and 38 characters of the key alphabet.
    no_match "an API key" 'tnt_[A-Za-z0-9]{30,}'
    # An invitation link's token.
    no_match "an invitation token" '/invite/[A-Za-z0-9_-]{16,}'
    # The session cookie's value.
    no_match "a session cookie" '__Host-tenantry=[A-Za-z0-9_%-]{16,}'
    no_match "a bearer credential" 'Bearer [A-Za-z0-9_.-]{16,}'
}

@test "no log holds a password the suite used" {
    no_match "the demo password" "$DEMO_PASSWORD"
    no_match "the admin password" "$TENANTRY_TEST_ADMIN_PASSWORD"
    no_match "a password field" '"password" *: *"[^"]'
    no_match "a password form field" 'password=[^&" ]{4,}'
}
