/* fuzz_settings.c: libFuzzer target for the settings merge and validation (settings_merge, settings_apply), checked against a reference RFC 7396 merge and the schema of SPEC §5. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/settings.h"
#include "http/validate.h"
#include "net/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A settings PUT sends a patch that is merged into the stored document and
 * validated; what is accepted is stored and served back to every member.
 * Input: byte 0 picks the actor (admin, superadmin, API key); the rest is
 * "FIRST\0PATCH" or just "PATCH", each read by the edge's strict parser
 * (http_json_parse). FIRST, applied by a superadmin to the defaults,
 * makes the stored document (only if accepted: a refused patch is never
 * stored). Then, for PATCH:
 *   - settings_merge gives what the reference RFC 7396 merge below gives;
 *   - an accepted document serialises to strict JSON that parses back to
 *     itself, is at most 10 KiB, holds exactly the sections and keys of
 *     the schema below (written from SPEC §5 and app.default_settings())
 *     with values of their kinds, changes nothing the actor may not
 *     change, is a fixed point (an empty patch accepts it unchanged) and
 *     is accepted again as a whole patch over the defaults: what
 *     validation refuses is never accepted through a merge;
 *   - a refusal lists at least one {"field","problem"} of strings.
 */

enum rkind { R_BOOL, R_COLOR, R_URL, R_CIDRS, R_MINUTES, R_TEXT };

static const struct {
	const char *sec, *key;
	enum rkind  kind;
	bool        nullable, features, sensitive;
	const char *def;
} schema[] = {
	{ "branding", "primary_color", R_COLOR, false, false, false, "\"#000000\"" },
	{ "branding", "logo_url", R_URL, true, false, false, "null" },
	{ "notifications", "email_enabled", R_BOOL, false, false, false, "true" },
	{ "notifications", "webhook_url", R_URL, true, false, true, "null" },
	{ "security", "ip_whitelist", R_CIDRS, false, false, true, "[]" },
	{ "security", "mfa_required", R_BOOL, false, false, true, "false" },
	{ "security", "session_timeout_minutes", R_MINUTES, false, false, true, "60" },
	{ "features", "custom_models_enabled", R_BOOL, false, true, false, "false" },
	{ "features", "api_access_enabled", R_BOOL, false, true, false, "true" },
	{ "features", "sso_enabled", R_BOOL, false, true, false, "false" },
	{ "integrations", "slack_workspace", R_TEXT, true, false, true, "null" },
	{ "integrations", "microsoft_teams", R_TEXT, true, false, true, "null" },
};
#define NSCHEMA (sizeof(schema) / sizeof(schema[0]))

static _Noreturn void
fail(const char *why, struct json_object *patch)
{
	fprintf(stderr, "fuzz_settings: %s; patch: %s\n", why,
	    patch ? json_object_to_json_string_ext(patch, JSON_C_TO_STRING_PLAIN) : "-");
	abort();
}

/* RFC 7396 §2, as its pseudo-code reads: a new document, the inputs untouched. */
static struct json_object *
ref_merge(struct json_object *target, struct json_object *patch)
{
	struct json_object *out = NULL;

	if (!json_object_is_type(patch, json_type_object)) {
		json_object_deep_copy(patch, &out, NULL);
		return out;
	}
	if (json_object_is_type(target, json_type_object))
		json_object_deep_copy(target, &out, NULL);
	else
		out = json_object_new_object();
	json_object_object_foreach(patch, k, v) {
		struct json_object *t = NULL;

		if (v == NULL) {
			json_object_object_del(out, k);
			continue;
		}
		json_object_object_get_ex(out, k, &t);
		json_object_object_add(out, k, ref_merge(t, v));
	}
	return out;
}

/* UTF-8 characters of s, and whether it has a C0, DEL or C1 control character. */
static size_t
ref_chars(const char *s, bool *control)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)s;

	*control = false;
	for (; *p; p++) {
		if ((*p & 0xC0) != 0x80)
			n++;
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
			*control = true;
	}
	return n;
}

static bool
ref_value_ok(enum rkind kind, bool nullable, struct json_object *v)
{
	const char *s;
	bool control;
	size_t n;

	if (v == NULL)
		return nullable;
	switch (kind) {
	case R_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case R_COLOR:
		if (!json_object_is_type(v, json_type_string) || strlen(s = json_object_get_string(v)) != 7 || s[0] != '#')
			return false;
		return strspn(s + 1, "0123456789abcdefABCDEF") == 6;
	case R_URL: {
		static struct webhook_url wu;

		/* What the notifier can deliver to (its own fuzzer checks the parser). */
		return json_object_is_type(v, json_type_string) &&
		    net_webhook_url_parse(json_object_get_string(v), &wu);
	}
	case R_CIDRS:
		if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > 100)
			return false;
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *e = json_object_array_get_idx(v, i);

			if (!json_object_is_type(e, json_type_string) || !settings_cidr_ok(json_object_get_string(e)))
				return false;
		}
		return true;
	case R_MINUTES:
		return json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 5 &&
		    json_object_get_int64(v) <= 1440;
	case R_TEXT:
		if (!json_object_is_type(v, json_type_string))
			return false;
		n = ref_chars(json_object_get_string(v), &control);
		return n >= 1 && n <= 100 && !control;
	}
	return false;
}

/* The value of schema[i] in doc, or its default (a new reference either way). */
static struct json_object *
ref_value(struct json_object *doc, size_t i)
{
	struct json_object *so, *v;

	if (json_object_object_get_ex(doc, schema[i].sec, &so) && json_object_is_type(so, json_type_object) &&
	    json_object_object_get_ex(so, schema[i].key, &v))
		return json_object_get(v);
	return json_tokener_parse(schema[i].def);
}

/* Exactly the schema's sections and keys, each value of its kind. */
static bool
ref_shape_ok(struct json_object *doc, const char **why)
{
	size_t keys = 0, sections = 0;

	json_object_object_foreach(doc, sec, so) {
		bool known = false;

		sections++;
		if (!json_object_is_type(so, json_type_object)) {
			*why = "a section is not an object";
			return false;
		}
		json_object_object_foreach(so, key, v) {
			size_t i;

			for (i = 0; i < NSCHEMA; i++)
				if (strcmp(schema[i].sec, sec) == 0 && strcmp(schema[i].key, key) == 0)
					break;
			if (i == NSCHEMA) {
				*why = "an accepted document has a key the schema does not know";
				return false;
			}
			if (!ref_value_ok(schema[i].kind, schema[i].nullable, v)) {
				*why = "an accepted document has a value of the wrong kind";
				return false;
			}
			known = true;
			keys++;
		}
		if (!known) {
			*why = "an accepted document has an empty or unknown section";
			return false;
		}
	}
	if (keys != NSCHEMA || sections != 5) {
		*why = "an accepted document lacks a key of the schema";
		return false;
	}
	return true;
}

/* Apply patch as who and check every invariant; returns the accepted document or NULL. */
static struct json_object *
check(struct json_object *current, struct json_object *patch, enum settings_actor who)
{
	struct json_object *details = json_object_new_array(), *merged, *plain = NULL, *want, *again;
	const char *text, *why;
	size_t len;

	/* The merge alone, against the reference. */
	json_object_deep_copy(current, &plain, NULL);
	settings_merge(plain, patch);
	want = ref_merge(current, patch);
	if (!json_object_equal(plain, want))
		fail("settings_merge differs from the RFC 7396 merge", patch);
	json_object_put(plain);
	json_object_put(want);

	if ((merged = settings_apply(current, patch, who, details)) == NULL)
		fail("settings_apply returned NULL", patch);
	if (json_object_array_length(details) > 0) {
		for (size_t i = 0; i < json_object_array_length(details); i++) {
			struct json_object *d = json_object_array_get_idx(details, i), *f, *p;

			if (!json_object_object_get_ex(d, "field", &f) || !json_object_is_type(f, json_type_string) ||
			    !json_object_object_get_ex(d, "problem", &p) || !json_object_is_type(p, json_type_string))
				fail("a refusal's detail is not {field, problem}", patch);
		}
		json_object_put(details);
		json_object_put(merged);
		return NULL;
	}
	json_object_put(details);

	text = json_object_to_json_string_length(merged, JSON_C_TO_STRING_PLAIN, &len);
	if (len > SETTINGS_MAX_BYTES)
		fail("an accepted document is over 10 KiB", patch);
	if ((again = http_json_parse(text, len)) == NULL)
		fail("an accepted document does not serialise to strict JSON", patch);
	if (!json_object_equal(again, merged))
		fail("an accepted document does not parse back to itself", patch);
	json_object_put(again);
	if (!ref_shape_ok(merged, &why))
		fail(why, patch);

	for (size_t i = 0; i < NSCHEMA; i++) {
		struct json_object *before, *after;
		bool barred = (schema[i].features && who != SETTINGS_SUPERADMIN) ||
		    (schema[i].sensitive && who == SETTINGS_API_KEY);

		if (!barred)
			continue;
		before = ref_value(current, i);
		after = ref_value(merged, i);
		if (!json_object_equal(before, after))
			fail("an accepted patch changed a key the actor may not change", patch);
		json_object_put(before);
		json_object_put(after);
	}

	/* A fixed point, and valid from scratch. */
	{
		struct json_object *empty = json_object_new_object(), *d = json_object_new_array(), *fx;

		fx = settings_apply(merged, empty, SETTINGS_SUPERADMIN, d);
		if (fx == NULL || json_object_array_length(d) != 0 || !json_object_equal(fx, merged))
			fail("an accepted document is not accepted unchanged by an empty patch", patch);
		json_object_put(fx);
		json_object_put(d);
		d = json_object_new_array();
		fx = settings_apply(empty, merged, SETTINGS_SUPERADMIN, d);
		if (fx == NULL || json_object_array_length(d) != 0 || !json_object_equal(fx, merged))
			fail("an accepted document is refused, or changed, as a whole patch over the defaults", patch);
		json_object_put(fx);
		json_object_put(d);
		json_object_put(empty);
	}
	return merged;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum settings_actor actors[] = { SETTINGS_ADMIN, SETTINGS_SUPERADMIN, SETTINGS_API_KEY };
	const char *text = (const char *)data + 1, *nul;
	size_t tlen;
	struct json_object *current = NULL, *first, *patch, *done;
	enum settings_actor who;

	if (size < 2)
		return 0;
	who = actors[data[0] % 3];
	tlen = size - 1;
	if ((nul = memchr(text, '\0', tlen)) != NULL) {
		struct json_object *defaults = json_object_new_object();

		if ((first = http_json_parse(text, (size_t)(nul - text))) != NULL &&
		    json_object_is_type(first, json_type_object))
			current = check(defaults, first, SETTINGS_SUPERADMIN);
		json_object_put(first);
		json_object_put(defaults);
		tlen -= (size_t)(nul + 1 - text);
		text = nul + 1;
	}
	if (current == NULL)
		current = json_object_new_object();
	if ((patch = http_json_parse(text, tlen)) != NULL && json_object_is_type(patch, json_type_object)) {
		done = check(current, patch, who);
		json_object_put(done);
	}
	json_object_put(patch);
	json_object_put(current);
	return 0;
}
