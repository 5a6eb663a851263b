/* settings.h: tenant settings validation and RFC 7396 merge (pure, unit-tested). */
#ifndef TENANTRY_SETTINGS_H
#define TENANTRY_SETTINGS_H

#include <stdbool.h>

#include <json-c/json.h>

#define SETTINGS_MAX_BYTES (10 * 1024)

/* RFC 7396: merge patch into target in place. */
void settings_merge(struct json_object *target, struct json_object *patch);

/* Who changes the settings: what they may change beyond the schema's rules. */
enum settings_actor {
	SETTINGS_ADMIN = 0,    /* owner or admin: everything but features.* */
	SETTINGS_SUPERADMIN,   /* everything */
	SETTINGS_API_KEY,      /* write scope: neither features.* nor the sensitive keys */
};

/*
 * Merge patch into a copy of current and validate the result against the
 * schema of SPEC §5: unknown sections or keys, wrong types, bad colours,
 * URLs, CIDRs, timeouts, a document over 10 KiB, and a change the actor may
 * not make (features.* below superadmin; security.*, webhook_url and
 * integrations.* by an API key). Missing keys get their defaults. Appends
 * one {"field","problem"} per offence to details. Returns the merged
 * document (the caller frees it), or NULL when out of memory.
 */
struct json_object *settings_apply(struct json_object *current, struct json_object *patch,
    enum settings_actor who, struct json_object *details);

bool settings_url_ok(const char *s);
bool settings_cidr_ok(const char *s);

#endif
