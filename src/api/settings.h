/* settings.h: tenant settings validation and RFC 7396 merge (pure, unit-tested). */
#ifndef TENANTRY_SETTINGS_H
#define TENANTRY_SETTINGS_H

#include <stdbool.h>

#include <json-c/json.h>

#define SETTINGS_MAX_BYTES (10 * 1024)

/* RFC 7396: merge patch into target in place. */
void settings_merge(struct json_object *target, struct json_object *patch);

/*
 * Merge patch into a copy of current and validate the result against the
 * schema of SPEC §5: unknown sections or keys, wrong types, bad colours,
 * URLs, CIDRs, timeouts, a document over 10 KiB, and (unless superadmin) a
 * change to features.*. Missing keys get their defaults. Appends one
 * {"field","problem"} per offence to details. Returns the merged document
 * (the caller frees it), or NULL when out of memory.
 */
struct json_object *settings_apply(struct json_object *current, struct json_object *patch,
    bool superadmin, struct json_object *details);

bool settings_url_ok(const char *s);
bool settings_cidr_ok(const char *s);

#endif
