/* test_settings.c: unit tests for src/api/settings: the SPEC §5 schema, RFC 7396 merge, URL and CIDR checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <json-c/json_pointer.h>

#include "api/settings.h"

/*
 * The rules are data: each row of the case table is a current document, a
 * patch, who sends it, and either the exact set of detail fields the patch
 * must earn or, when it is accepted, one value the merged document must
 * hold. JSON in the tables is written with ' for " and $NAME$ for a long
 * generated value (see expand()).
 */

/* SPEC §5: the settings of a new tenant. */
#define DEFAULTS \
	"{'branding': {'primary_color': '#000000', 'logo_url': null}," \
	" 'notifications': {'email_enabled': true, 'webhook_url': null}," \
	" 'security': {'ip_whitelist': [], 'mfa_required': false, 'session_timeout_minutes': 60}," \
	" 'features': {'custom_models_enabled': false, 'api_access_enabled': true, 'sso_enabled': false}," \
	" 'integrations': {'slack_workspace': null, 'microsoft_teams': null}}"

/* A tenant that has changed something in every section. */
#define CUSTOM \
	"{'branding': {'primary_color': '#123456', 'logo_url': 'https://logo.example/l.png'}," \
	" 'notifications': {'email_enabled': false, 'webhook_url': 'https://hook.example/h'}," \
	" 'security': {'ip_whitelist': ['10.0.0.0/8'], 'mfa_required': true, 'session_timeout_minutes': 30}," \
	" 'features': {'custom_models_enabled': false, 'api_access_enabled': true, 'sso_enabled': true}," \
	" 'integrations': {'slack_workspace': 'acme', 'microsoft_teams': 'acme-teams'}}"

/* The defaults without features.sso_enabled: a document written before that key existed. */
#define NO_SSO_KEY \
	"{'branding': {'primary_color': '#000000', 'logo_url': null}," \
	" 'notifications': {'email_enabled': true, 'webhook_url': null}," \
	" 'security': {'ip_whitelist': [], 'mfa_required': false, 'session_timeout_minutes': 60}," \
	" 'features': {'custom_models_enabled': false, 'api_access_enabled': true}," \
	" 'integrations': {'slack_workspace': null, 'microsoft_teams': null}}"

/* The defaults plus an 11 000-byte value the schema does not know (stored before a limit, say). */
#define OVERSIZED \
	"{'branding': {'primary_color': '#000000', 'logo_url': null}," \
	" 'notifications': {'email_enabled': true, 'webhook_url': null}," \
	" 'security': {'ip_whitelist': [], 'mfa_required': false, 'session_timeout_minutes': 60}," \
	" 'features': {'custom_models_enabled': false, 'api_access_enabled': true, 'sso_enabled': false}," \
	" 'integrations': {'slack_workspace': null, 'microsoft_teams': null}," \
	" 'zz_legacy': '$X11000$'}"

/* ---- Building JSON text from the tables -------------------------------------------- */

static void
gen_repeat(FILE *f, const char *s, int n)
{
	for (int i = 0; i < n; i++)
		fputs(s, f);
}

/* n CIDR strings, comma-separated, each quoted. */
static void
gen_cidrs(FILE *f, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\"10.0.%d.%d/32\"", i ? "," : "", i / 256, i % 256);
}

/* Write the generated value $name$ stands for; false if there is no such name. */
static bool
gen(FILE *f, const char *name, size_t len)
{
#define IS(s) (len == strlen(s) && strncmp(name, s, len) == 0)
	if (IS("A100"))
		gen_repeat(f, "a", 100);
	else if (IS("A101"))
		gen_repeat(f, "a", 101);
	else if (IS("E100"))
		gen_repeat(f, "\xC3\xA9", 100);   /* 100 characters, 200 bytes */
	else if (IS("CIDRS100"))
		gen_cidrs(f, 100);
	else if (IS("CIDRS101"))
		gen_cidrs(f, 101);
	else if (IS("X11000"))
		gen_repeat(f, "x", 11000);
	else
		return false;
	return true;
#undef IS
}

/* The table's notation as JSON text: ' becomes ", $NAME$ its generated value. The caller frees. */
static char *
expand(const char *t)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	if (f == NULL) {
		print_error("out of memory\n");
		exit(2);
	}
	for (const char *p = t; *p; p++) {
		const char *end;

		if (*p == '\'') {
			fputc('"', f);
		} else if (*p == '$' && (end = strchr(p + 1, '$')) != NULL &&
		    gen(f, p + 1, (size_t)(end - p - 1))) {
			p = end;
		} else {
			fputc(*p, f);
		}
	}
	fclose(f);
	return out;
}

static struct json_object *
parse_t(const char *t)
{
	char *s = expand(t);
	struct json_object *o = json_tokener_parse(s);

	if (o == NULL && strcmp(s, "null") != 0) {
		/* A mistake in the table; exit, as fail() would longjmp out of a row's child. */
		print_error("table JSON does not parse: %s\n", t);
		exit(2);
	}
	free(s);
	return o;
}

/* ---- settings_apply: the case table --------------------------------------------------- */

#define BAD_MAX 4

struct scase {
	const char *current;        /* NULL: DEFAULTS */
	const char *patch;
	enum settings_actor superadmin;   /* who: SA, ADMIN or KEY */
	const char *bad[BAD_MAX];   /* detail fields, in any order; none: accepted */
	const char *path;           /* accepted: a JSON pointer into the merged document ... */
	const char *want;           /* ... and the value it must hold */
};

#define SA    SETTINGS_SUPERADMIN
#define ADMIN SETTINGS_ADMIN
#define KEY   SETTINGS_API_KEY
#define OK(path, want) { NULL }, path, want
#define BAD(...)       { __VA_ARGS__ }, NULL, NULL

static const struct scase scases[] = {
	/* Nothing to change: the defaults, exactly. */
	{ NULL, "{}", ADMIN,                                              OK("", DEFAULTS) },
	{ CUSTOM, "{}", ADMIN,                                            OK("", CUSTOM) },

	/* branding.primary_color: #RRGGBB. */
	{ NULL, "{'branding':{'primary_color':'#abcdef'}}", ADMIN,       OK("/branding/primary_color", "'#abcdef'") },
	{ NULL, "{'branding':{'primary_color':'#ABCDEF'}}", ADMIN,       OK("/branding/primary_color", "'#ABCDEF'") },
	{ NULL, "{'branding':{'primary_color':'#09aF3c'}}", ADMIN,       OK("/branding/primary_color", "'#09aF3c'") },
	{ NULL, "{'branding':{'primary_color':'red'}}", ADMIN,           BAD("branding.primary_color") },
	{ NULL, "{'branding':{'primary_color':'#abc'}}", ADMIN,          BAD("branding.primary_color") },
	{ NULL, "{'branding':{'primary_color':'#abcdeg'}}", ADMIN,       BAD("branding.primary_color") },
	{ NULL, "{'branding':{'primary_color':'#abcdef0'}}", ADMIN,      BAD("branding.primary_color") },
	{ NULL, "{'branding':{'primary_color':'abcdef'}}", ADMIN,        BAD("branding.primary_color") },
	{ NULL, "{'branding':{'primary_color':''}}", ADMIN,              BAD("branding.primary_color") },
	{ NULL, "{'branding':{'primary_color':123}}", ADMIN,             BAD("branding.primary_color") },
	{ NULL, "{'branding':{'primary_color':{'r':1}}}", ADMIN,         BAD("branding.primary_color") },

	/* branding.logo_url: absolute https:// with a host; null allowed. */
	{ NULL, "{'branding':{'logo_url':'https://x.example/a'}}", ADMIN, OK("/branding/logo_url", "'https://x.example/a'") },
	{ NULL, "{'branding':{'logo_url':'https://x.example:8443'}}", ADMIN, OK("/branding/logo_url", "'https://x.example:8443'") },
	{ CUSTOM, "{'branding':{'logo_url':null}}", ADMIN,               OK("/branding/logo_url", "null") },
	{ NULL, "{'branding':{'logo_url':'http://x.example/a'}}", ADMIN, BAD("branding.logo_url") },
	{ NULL, "{'branding':{'logo_url':'https://'}}", ADMIN,           BAD("branding.logo_url") },
	{ NULL, "{'branding':{'logo_url':'ftp://x'}}", ADMIN,            BAD("branding.logo_url") },
	{ NULL, "{'branding':{'logo_url':'https://user:pw@x.example'}}", ADMIN, BAD("branding.logo_url") },
	{ NULL, "{'branding':{'logo_url':'https://x y.example'}}", ADMIN, BAD("branding.logo_url") },
	{ NULL, "{'branding':{'logo_url':'//x.example/a'}}", ADMIN,      BAD("branding.logo_url") },
	{ NULL, "{'branding':{'logo_url':5}}", ADMIN,                    BAD("branding.logo_url") },

	/* notifications.webhook_url: the same rule. */
	{ NULL, "{'notifications':{'webhook_url':'https://x.example/a'}}", ADMIN, OK("/notifications/webhook_url", "'https://x.example/a'") },
	{ NULL, "{'notifications':{'webhook_url':'https://x.example:8443'}}", ADMIN, OK("/notifications/webhook_url", "'https://x.example:8443'") },
	{ CUSTOM, "{'notifications':{'webhook_url':null}}", ADMIN,       OK("/notifications/webhook_url", "null") },
	{ NULL, "{'notifications':{'webhook_url':'http://x.example/a'}}", ADMIN, BAD("notifications.webhook_url") },
	{ NULL, "{'notifications':{'webhook_url':'https://'}}", ADMIN,   BAD("notifications.webhook_url") },
	{ NULL, "{'notifications':{'webhook_url':'ftp://x'}}", ADMIN,    BAD("notifications.webhook_url") },
	{ NULL, "{'notifications':{'webhook_url':'https://user:pw@x.example'}}", ADMIN, BAD("notifications.webhook_url") },
	{ NULL, "{'notifications':{'webhook_url':'https://x y.example'}}", ADMIN, BAD("notifications.webhook_url") },
	{ NULL, "{'notifications':{'webhook_url':5}}", ADMIN,            BAD("notifications.webhook_url") },

	/* security.ip_whitelist: a list of at most 100 IPv4/IPv6 CIDR blocks. */
	{ NULL, "{'security':{'ip_whitelist':['203.0.113.7']}}", ADMIN,   OK("/security/ip_whitelist/0", "'203.0.113.7'") },
	{ NULL, "{'security':{'ip_whitelist':['0.0.0.0/0']}}", ADMIN,     OK("/security/ip_whitelist/0", "'0.0.0.0/0'") },
	{ NULL, "{'security':{'ip_whitelist':['203.0.113.7/32']}}", ADMIN, OK("/security/ip_whitelist/0", "'203.0.113.7/32'") },
	{ NULL, "{'security':{'ip_whitelist':['::1/128']}}", ADMIN,       OK("/security/ip_whitelist/0", "'::1/128'") },
	{ NULL, "{'security':{'ip_whitelist':['10.0.0.0/8','2001:db8::/32']}}", ADMIN,
	                                                                  OK("/security/ip_whitelist/1", "'2001:db8::/32'") },
	{ CUSTOM, "{'security':{'ip_whitelist':[]}}", ADMIN,              OK("/security/ip_whitelist", "[]") },
	{ NULL, "{'security':{'ip_whitelist':[$CIDRS100$]}}", ADMIN,      OK("/security/ip_whitelist/99", "'10.0.0.99/32'") },
	{ NULL, "{'security':{'ip_whitelist':[$CIDRS101$]}}", ADMIN,      BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':['10.0.0.0/33']}}", ADMIN,   BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':['300.1.1.1']}}", ADMIN,     BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':['::1/129']}}", ADMIN,       BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':['']}}", ADMIN,              BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':['1.2.3.4/']}}", ADMIN,      BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':['10.0.0.0/8','nope']}}", ADMIN, BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':[7]}}", ADMIN,               BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':[null]}}", ADMIN,            BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':'10.0.0.0/8'}}", ADMIN,      BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'ip_whitelist':{'a':'10.0.0.0/8'}}}", ADMIN, BAD("security.ip_whitelist") },

	/* security.session_timeout_minutes: an integer, 5..1440. */
	{ NULL, "{'security':{'session_timeout_minutes':5}}", ADMIN,      OK("/security/session_timeout_minutes", "5") },
	{ NULL, "{'security':{'session_timeout_minutes':1440}}", ADMIN,   OK("/security/session_timeout_minutes", "1440") },
	{ NULL, "{'security':{'session_timeout_minutes':4}}", ADMIN,      BAD("security.session_timeout_minutes") },
	{ NULL, "{'security':{'session_timeout_minutes':1441}}", ADMIN,   BAD("security.session_timeout_minutes") },
	{ NULL, "{'security':{'session_timeout_minutes':-60}}", ADMIN,    BAD("security.session_timeout_minutes") },
	{ NULL, "{'security':{'session_timeout_minutes':'60'}}", ADMIN,   BAD("security.session_timeout_minutes") },
	{ NULL, "{'security':{'session_timeout_minutes':60.0}}", ADMIN,   BAD("security.session_timeout_minutes") },
	{ NULL, "{'security':{'session_timeout_minutes':true}}", ADMIN,   BAD("security.session_timeout_minutes") },
	{ NULL, "{'security':{'session_timeout_minutes':9223372036854775808}}", ADMIN,
	                                                                  BAD("security.session_timeout_minutes") },

	/* Booleans: true or false, nothing coerced. */
	{ NULL, "{'security':{'mfa_required':true}}", ADMIN,              OK("/security/mfa_required", "true") },
	{ NULL, "{'security':{'mfa_required':'true'}}", ADMIN,            BAD("security.mfa_required") },
	{ NULL, "{'security':{'mfa_required':1}}", ADMIN,                 BAD("security.mfa_required") },
	{ NULL, "{'notifications':{'email_enabled':false}}", ADMIN,       OK("/notifications/email_enabled", "false") },
	{ NULL, "{'notifications':{'email_enabled':'true'}}", ADMIN,      BAD("notifications.email_enabled") },
	{ NULL, "{'notifications':{'email_enabled':0}}", ADMIN,           BAD("notifications.email_enabled") },

	/* integrations.*: a string of 1..100 characters without control characters, or null. */
	{ NULL, "{'integrations':{'slack_workspace':'a'}}", ADMIN,        OK("/integrations/slack_workspace", "'a'") },
	{ NULL, "{'integrations':{'slack_workspace':'$A100$'}}", ADMIN,   OK("/integrations/slack_workspace", "'$A100$'") },
	{ CUSTOM, "{'integrations':{'slack_workspace':null}}", ADMIN,     OK("/integrations/slack_workspace", "null") },
	{ NULL, "{'integrations':{'slack_workspace':''}}", ADMIN,         BAD("integrations.slack_workspace") },
	{ NULL, "{'integrations':{'slack_workspace':'$A101$'}}", ADMIN,   BAD("integrations.slack_workspace") },
	{ NULL, "{'integrations':{'slack_workspace':'a\\u0001b'}}", ADMIN, BAD("integrations.slack_workspace") },
	{ NULL, "{'integrations':{'slack_workspace':'a\\nb'}}", ADMIN,    BAD("integrations.slack_workspace") },
	{ NULL, "{'integrations':{'slack_workspace':'a\\u007fb'}}", ADMIN, BAD("integrations.slack_workspace") },
	{ NULL, "{'integrations':{'slack_workspace':5}}", ADMIN,          BAD("integrations.slack_workspace") },
	/* Characters, not bytes; C1 controls are control characters (as for the tenant name). */
	{ NULL, "{'integrations':{'slack_workspace':'$E100$'}}", ADMIN,   OK("/integrations/slack_workspace", "'$E100$'") },
	{ NULL, "{'integrations':{'slack_workspace':'a\\u0085b'}}", ADMIN, BAD("integrations.slack_workspace") },
	{ NULL, "{'integrations':{'microsoft_teams':'acme'}}", ADMIN,     OK("/integrations/microsoft_teams", "'acme'") },
	{ NULL, "{'integrations':{'microsoft_teams':''}}", ADMIN,         BAD("integrations.microsoft_teams") },

	/* The shape: unknown sections and keys; sections that are not objects. */
	{ NULL, "{'bogus':{}}", ADMIN,                                    BAD("bogus") },
	{ NULL, "{'bogus':null}", ADMIN,                                  BAD("bogus") },
	{ NULL, "{'Branding':{'primary_color':'#abcdef'}}", ADMIN,        BAD("Branding") },
	{ NULL, "{'branding':{'font':'serif'}}", ADMIN,                   BAD("branding.font") },
	{ NULL, "{'branding':{'font':null}}", ADMIN,                      BAD("branding.font") },
	{ NULL, "{'security':{'sso_enabled':true}}", ADMIN,               BAD("security.sso_enabled") },
	{ NULL, "{'branding':5}", ADMIN,                                  BAD("branding") },
	{ NULL, "{'security':['10.0.0.0/8']}", ADMIN,                     BAD("security") },
	{ NULL, "{'integrations':'acme'}", ADMIN,                         BAD("integrations") },
	{ NULL, "{'features':true}", ADMIN,                               BAD("features") },
	/* One detail per offence. */
	{ NULL, "{'branding':{'primary_color':'red','font':1},'bogus':2,"
	        "'security':{'session_timeout_minutes':0}}", ADMIN,
	        BAD("branding.primary_color", "branding.font", "bogus", "security.session_timeout_minutes") },

	/* features.*: only a superadmin changes them; re-sending the same value is no change. */
	{ NULL, "{'features':{'sso_enabled':true}}", ADMIN,               BAD("features.sso_enabled") },
	{ NULL, "{'features':{'custom_models_enabled':true}}", ADMIN,     BAD("features.custom_models_enabled") },
	{ NULL, "{'features':{'api_access_enabled':false}}", ADMIN,       BAD("features.api_access_enabled") },
	{ NULL, "{'features':{'api_access_enabled':true}}", ADMIN,        OK("/features/api_access_enabled", "true") },
	{ NULL, "{'features':{'custom_models_enabled':false,'api_access_enabled':true,'sso_enabled':false}}",
	        ADMIN,                                                    OK("/features", "{'custom_models_enabled':false,"
	                                                                     "'api_access_enabled':true,'sso_enabled':false}") },
	{ NULL, "{'features':null}", ADMIN,                               OK("/features/api_access_enabled", "true") },
	{ NULL, "{'features':{'sso_enabled':true}}", SA,                  OK("/features/sso_enabled", "true") },
	{ NULL, "{'features':{'custom_models_enabled':true,'api_access_enabled':false}}", SA,
	                                                                  OK("/features/api_access_enabled", "false") },
	{ NULL, "{'features':{'sso_enabled':'true'}}", SA,                BAD("features.sso_enabled") },
	{ NULL, "{'features':{'sso_enabled':'true'}}", ADMIN,             BAD("features.sso_enabled") },
	{ NULL, "{'features':{'beta':true}}", SA,                         BAD("features.beta") },
	/* Resetting a changed feature to its default is a change too. */
	{ CUSTOM, "{'features':{'sso_enabled':null}}", ADMIN,             BAD("features.sso_enabled") },
	{ CUSTOM, "{'features':null}", ADMIN,                             BAD("features.sso_enabled") },
	{ CUSTOM, "{'features':{'sso_enabled':null}}", SA,                OK("/features/sso_enabled", "false") },
	/* An API key (write scope) changes neither features nor the sensitive keys it cannot read. */
	{ NULL, "{'branding':{'primary_color':'#123456'}}", KEY,         OK("/branding/primary_color", "'#123456'") },
	{ NULL, "{'notifications':{'email_enabled':false}}", KEY,        OK("/notifications/email_enabled", "false") },
	{ NULL, "{'notifications':{'webhook_url':'https://evil.example/x'}}", KEY,
	                                                                  BAD("notifications.webhook_url") },
	{ NULL, "{'security':{'ip_whitelist':['10.0.0.0/8']}}", KEY,     BAD("security.ip_whitelist") },
	{ NULL, "{'security':{'session_timeout_minutes':60}}", KEY,      OK("/security/session_timeout_minutes", "60") },
	{ NULL, "{'integrations':{'slack_workspace':'acme'}}", KEY,      BAD("integrations.slack_workspace") },
	{ NULL, "{'features':{'sso_enabled':true}}", KEY,                BAD("features.sso_enabled") },
	{ NULL, "{'security':null}", KEY,                                OK("/security/mfa_required", "false") },
	{ CUSTOM, "{'integrations':null}", KEY,                          BAD("integrations.slack_workspace",
	                                                                      "integrations.microsoft_teams") },
	{ CUSTOM, "{'branding':{'logo_url':null}}", KEY,                 OK("/notifications/webhook_url", "'https://hook.example/h'") },
	/* A tenant with a feature turned on may still change everything else. */
	{ CUSTOM, "{'branding':{'primary_color':'#654321'}}", ADMIN,      OK("/features/sso_enabled", "true") },
	/* Every offence is reported, features included, and each feature by name. */
	{ NULL, "{'features':{'sso_enabled':true,'custom_models_enabled':true}}", ADMIN,
	        BAD("features.sso_enabled", "features.custom_models_enabled") },
	{ NULL, "{'branding':{'primary_color':'red'},'features':{'sso_enabled':true}}", ADMIN,
	        BAD("branding.primary_color", "features.sso_enabled") },
	/* A key the stored document lacks gets its default; that is no change by the caller. */
	{ NO_SSO_KEY, "{'branding':{'primary_color':'#abcdef'}}", ADMIN,  OK("/features/sso_enabled", "false") },
	{ NO_SSO_KEY, "{}", ADMIN,                                        OK("", DEFAULTS) },

	/* null removes a key, which comes back as its default; a whole section too. */
	{ CUSTOM, "{'branding':{'primary_color':null}}", ADMIN,           OK("/branding/primary_color", "'#000000'") },
	{ CUSTOM, "{'branding':null}", ADMIN,                             OK("/branding", "{'primary_color':'#000000','logo_url':null}") },
	{ CUSTOM, "{'security':null}", ADMIN,                             OK("/security", "{'ip_whitelist':[],'mfa_required':false,"
	                                                                     "'session_timeout_minutes':60}") },
	{ CUSTOM, "{'security':{'session_timeout_minutes':null}}", ADMIN, OK("/security/session_timeout_minutes", "60") },
	{ CUSTOM, "{'notifications':{'email_enabled':null}}", ADMIN,      OK("/notifications/email_enabled", "true") },
	{ CUSTOM, "{'integrations':null}", ADMIN,                         OK("/integrations/microsoft_teams", "null") },

	/* The merge recurses: keys the patch does not name are kept. */
	{ CUSTOM, "{'branding':{'logo_url':null}}", ADMIN,                OK("/branding/primary_color", "'#123456'") },
	{ CUSTOM, "{'security':{'mfa_required':false}}", ADMIN,           OK("/security/ip_whitelist", "['10.0.0.0/8']") },
	{ CUSTOM, "{'security':{'mfa_required':false}}", ADMIN,           OK("/security/session_timeout_minutes", "30") },
	{ CUSTOM, "{'branding':{'primary_color':'#abcdef'}}", ADMIN,      OK("/integrations/slack_workspace", "'acme'") },
	/* Arrays are replaced, not merged. */
	{ CUSTOM, "{'security':{'ip_whitelist':['192.0.2.0/24']}}", ADMIN, OK("/security/ip_whitelist", "['192.0.2.0/24']") },

	/* The whole document at most 10 KiB (the exact boundary: size_boundary below). */
	{ OVERSIZED, "{}", ADMIN,                                         BAD("settings") },
	{ OVERSIZED, "{'branding':{'primary_color':'#abcdef'}}", SA,      BAD("settings") },
};

/* Compare details with want (a set of field names); check each entry's shape. */
static bool
details_match(struct json_object *details, const char *const *want, size_t row)
{
	size_t nwant = 0, n = json_object_array_length(details);
	bool ok = true;

	while (nwant < BAD_MAX && want[nwant] != NULL)
		nwant++;
	for (size_t j = 0; j < n; j++) {
		struct json_object *d = json_object_array_get_idx(details, j), *fld, *prob;

		if (!json_object_is_type(d, json_type_object) || json_object_object_length(d) != 2 ||
		    !json_object_object_get_ex(d, "field", &fld) ||
		    !json_object_object_get_ex(d, "problem", &prob) ||
		    !json_object_is_type(fld, json_type_string) ||
		    !json_object_is_type(prob, json_type_string) ||
		    json_object_get_string_len(fld) == 0 || json_object_get_string_len(prob) == 0) {
			print_error("row %zu: detail %zu malformed: %s\n", row, j,
			    json_object_to_json_string(d));
			return false;
		}
	}
	if (n != nwant) {
		print_error("row %zu: %zu details, want %zu\n", row, n, nwant);
		ok = false;
	}
	for (size_t k = 0; k < nwant; k++) {
		bool seen = false;

		for (size_t j = 0; j < n; j++)
			if (strcmp(json_object_get_string(json_object_object_get(
			    json_object_array_get_idx(details, j), "field")), want[k]) == 0)
				seen = true;
		if (!seen) {
			print_error("row %zu: no detail names \"%s\"\n", row, want[k]);
			ok = false;
		}
	}
	return ok;
}

/* An accepted document holds every key of DEFAULTS, and (from DEFAULTS) nothing else. */
static bool
complete(struct json_object *merged, bool exact, size_t row)
{
	struct json_object *defs = parse_t(DEFAULTS), *sec, *v;
	bool ok = true;

	json_object_object_foreach(defs, s, sv) {
		if (!json_object_object_get_ex(merged, s, &sec) || !json_object_is_type(sec, json_type_object)) {
			print_error("row %zu: section %s missing\n", row, s);
			ok = false;
			continue;
		}
		json_object_object_foreach(sv, k, kv) {
			(void)kv;
			if (!json_object_object_get_ex(sec, k, &v)) {
				print_error("row %zu: %s.%s missing\n", row, s, k);
				ok = false;
			}
		}
		if (exact && json_object_object_length(sec) != json_object_object_length(sv)) {
			print_error("row %zu: section %s has extra keys\n", row, s);
			ok = false;
		}
	}
	if (exact && json_object_object_length(merged) != json_object_object_length(defs)) {
		print_error("row %zu: extra sections\n", row);
		ok = false;
	}
	json_object_put(defs);
	return ok;
}

/* An accepted document, patched with nothing, is accepted and unchanged. */
static bool
stable(struct json_object *merged, enum settings_actor superadmin, size_t row)
{
	struct json_object *empty = json_object_new_object(), *details = json_object_new_array(), *again;
	bool ok;

	again = settings_apply(merged, empty, superadmin, details);
	ok = again != NULL && json_object_array_length(details) == 0 && json_object_equal(again, merged);
	if (!ok)
		print_error("row %zu: re-applying {} to the result: %s %s\n", row,
		    json_object_to_json_string(details), json_object_to_json_string(again));
	json_object_put(again);
	json_object_put(details);
	json_object_put(empty);
	return ok;
}

/* Run one row; true if it passes. */
static bool
run_row(size_t i)
{
	const struct scase *c = &scases[i];
	const char *cur_t = c->current ? c->current : DEFAULTS;
	struct json_object *current = parse_t(cur_t), *pristine = parse_t(cur_t);
	struct json_object *patch = parse_t(c->patch), *details = json_object_new_array(), *merged;
	bool ok = true;

	merged = settings_apply(current, patch, c->superadmin, details);
	if (merged == NULL) {
		print_error("row %zu: settings_apply returned NULL\n", i);
		ok = false;
	} else if (c->bad[0] != NULL) {
		ok = details_match(details, c->bad, i);
	} else if (json_object_array_length(details) != 0) {
		print_error("row %zu: want accepted, got %s\n", i, json_object_to_json_string(details));
		ok = false;
	} else {
		struct json_object *got = NULL, *want = parse_t(c->want);

		if (json_pointer_get(merged, c->path, &got) != 0) {
			print_error("row %zu: %s is missing in %s\n", i, c->path,
			    json_object_to_json_string(merged));
			ok = false;
		} else if (!json_object_equal(got, want)) {
			print_error("row %zu: %s is %s, want %s\n", i, c->path,
			    json_object_to_json_string(got), json_object_to_json_string(want));
			ok = false;
		}
		json_object_put(want);
		ok = complete(merged, c->current == NULL, i) && ok;
		ok = stable(merged, c->superadmin, i) && ok;
	}
	if (!json_object_equal(current, pristine)) {
		print_error("row %zu: settings_apply changed current\n", i);
		ok = false;
	}
	if (!ok)
		print_error("row %zu: patch %s by %s\n", i, c->patch, c->superadmin == SA ? "superadmin" : c->superadmin == KEY ? "API key" : "admin");
	json_object_put(merged);
	json_object_put(details);
	json_object_put(patch);
	json_object_put(pristine);
	json_object_put(current);
	return ok;
}

/*
 * Each row runs in a child process, so a row that crashes settings_apply
 * (an assertion in json-c, say) fails that row alone and the rest still run.
 */
static void
apply_table(void **state)
{
	size_t n = sizeof(scases) / sizeof(scases[0]);
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		pid_t pid;
		int st;

		fflush(stdout);
		fflush(stderr);
		if ((pid = fork()) < 0)
			fail_msg("fork failed");
		if (pid == 0)
			exit(run_row(i) ? 0 : 1);
		if (waitpid(pid, &st, 0) != pid)
			fail_msg("waitpid failed");
		if (WIFSIGNALED(st)) {
			print_error("row %zu: patch %s by %s: crashed with signal %d\n", i, scases[i].patch,
			    scases[i].superadmin == SA ? "superadmin" : scases[i].superadmin == KEY ? "API key" : "admin", WTERMSIG(st));
			fails++;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fails++;
		}
	}
	print_message("settings_apply: %zu rows, %d failed\n", n, fails);
	assert_int_equal(fails, 0);
}

/* ---- The 10 KiB limit, to the byte ------------------------------------------------------ */

/* current = DEFAULTS plus a padding value sized so the document is exactly len bytes. */
static struct json_object *
padded(size_t len)
{
	struct json_object *doc = parse_t(DEFAULTS);
	size_t base, n;
	char *pad;

	json_object_object_add(doc, "zz_pad", json_object_new_string(""));
	json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &base);
	assert_true(len >= base);
	n = len - base;
	assert_non_null(pad = malloc(n + 1));
	memset(pad, 'x', n);
	pad[n] = '\0';
	json_object_object_add(doc, "zz_pad", json_object_new_string(pad));
	free(pad);
	json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &n);
	assert_int_equal(n, len);
	return doc;
}

static void
size_boundary(void **state)
{
	static const struct { size_t len; bool ok; } sizes[] = {
		{ SETTINGS_MAX_BYTES - 1, true },
		{ SETTINGS_MAX_BYTES,     true },
		{ SETTINGS_MAX_BYTES + 1, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct json_object *cur = padded(sizes[i].len), *patch = json_object_new_object();
		struct json_object *details = json_object_new_array(), *merged;

		merged = settings_apply(cur, patch, false, details);
		assert_non_null(merged);
		if (sizes[i].ok) {
			assert_int_equal(json_object_array_length(details), 0);
		} else {
			assert_int_equal(json_object_array_length(details), 1);
			assert_string_equal(json_object_get_string(json_object_object_get(
			    json_object_array_get_idx(details, 0), "field")), "settings");
		}
		json_object_put(merged);
		json_object_put(details);
		json_object_put(patch);
		json_object_put(cur);
	}
}

/* ---- settings_merge: RFC 7396 Appendix A (the cases whose target and patch are objects) ---- */

static const struct {
	const char *target, *patch, *result;
} merge_cases[] = {
	{ "{'a':'b'}",              "{'a':'c'}",                 "{'a':'c'}" },
	{ "{'a':'b'}",              "{'b':'c'}",                 "{'a':'b','b':'c'}" },
	{ "{'a':'b'}",              "{'a':null}",                "{}" },
	{ "{'a':'b','b':'c'}",      "{'a':null}",                "{'b':'c'}" },
	{ "{'a':['b']}",            "{'a':'c'}",                 "{'a':'c'}" },
	{ "{'a':'c'}",              "{'a':['b']}",               "{'a':['b']}" },
	{ "{'a':{'b':'c'}}",        "{'a':{'b':'d','c':null}}",  "{'a':{'b':'d'}}" },
	{ "{'a':[{'b':'c'}]}",      "{'a':[1]}",                 "{'a':[1]}" },
	{ "{'e':null}",             "{'a':1}",                   "{'e':null,'a':1}" },
	{ "{}",                     "{'a':{'bb':{'ccc':null}}}", "{'a':{'bb':{}}}" },
	/* And a few more: deep recursion, a scalar replaced by an object, arrays kept whole. */
	{ "{'a':{'b':{'c':1,'d':2}}}", "{'a':{'b':{'c':null,'e':3}}}", "{'a':{'b':{'d':2,'e':3}}}" },
	{ "{'a':1}",                "{'a':{'b':null,'c':2}}",    "{'a':{'c':2}}" },
	{ "{'a':[1,2]}",            "{'a':[{'x':null}]}",        "{'a':[{'x':null}]}" },
	{ "{'a':1}",                "{}",                        "{'a':1}" },
	{ "{'a':1}",                "{'missing':null}",          "{'a':1}" },
};

static void
merge_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(merge_cases) / sizeof(merge_cases[0]); i++) {
		struct json_object *t = parse_t(merge_cases[i].target), *p = parse_t(merge_cases[i].patch);
		struct json_object *want = parse_t(merge_cases[i].result), *p0 = parse_t(merge_cases[i].patch);

		settings_merge(t, p);
		if (!json_object_equal(t, want)) {
			print_error("merge row %zu: got %s, want %s\n", i, json_object_to_json_string(t),
			    json_object_to_json_string(want));
			fails++;
		}
		if (!json_object_equal(p, p0)) {
			print_error("merge row %zu: the patch changed\n", i);
			fails++;
		}
		json_object_put(t);
		json_object_put(p);
		json_object_put(p0);
		json_object_put(want);
	}
	assert_int_equal(fails, 0);
}

/* ---- settings_url_ok and settings_cidr_ok ------------------------------------------------- */

static const struct {
	const char *s;
	bool ok;
} url_cases[] = {
	{ "https://x.example/a",            true },
	{ "https://x.example",              true },
	{ "https://x.example/",             true },
	{ "https://x",                      true },
	{ "https://x.example/a?b=c#d",      true },
	{ "https://x.example?b=c",          true },
	{ "https://x.example#d",            true },
	{ "https://sub-1.x.example/a/b",    true },
	{ "http://x.example/a",             false },
	{ "ftp://x",                        false },
	{ "//x.example/a",                  false },
	{ "x.example",                      false },
	{ "https:/x.example",               false },
	{ "https:",                         false },
	{ "",                               false },
	{ "https://",                       false },
	{ "https:///a",                     false },
	{ "https://?a",                     false },
	{ "https://#a",                     false },
	/* Ports: 1..65535, digits only. */
	{ "https://x.example:8443",         true },
	{ "https://x.example:8443/a",       true },
	{ "https://x.example:1",            true },
	{ "https://x.example:65535",        true },
	{ "https://x.example:0",            false },
	{ "https://x.example:65536",        false },
	{ "https://x.example:123456",       false },
	{ "https://x.example:",             false },
	{ "https://x.example:/a",           false },
	{ "https://x.example:-1",           false },
	{ "https://x.example:+443",         false },
	{ "https://x.example:44a",          false },
	{ "https://:443",                   false },
	/* No credentials, no characters a host cannot hold. */
	{ "https://user:pw@x.example",      false },
	{ "https://user@x.example",         false },
	{ "https://@x.example",             false },
	{ "https://x.example/a@b",          true },
	{ "https://x y.example",            false },
	{ "https://x.example/a b",          false },
	{ "https://x.example/a\tb",         false },
	{ "https://x.example/a\x7f",        false },
	{ "https://x.example/a\"b",         false },
	{ "https://x.example/a<b>",         false },
	{ "https://x.example\\a",           false },
	{ "https://x_y.example",            false },
	{ "https://.x.example",             false },
	{ "https://-x.example",             false },
	/* IPv6 literals: an address in brackets, then an optional port. */
	{ "https://[::1]",                  true },
	{ "https://[2001:db8::1]:8443/a",   true },
	{ "https://[::1",                   false },
	{ "https://[]",                     false },
	{ "https://[not-an-address]",       false },
	{ "https://[::1]:99999",            false },
	{ "https://[::1]junk",              false },
};

static void
url_table(void **state)
{
	int fails = 0;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++)
		if (settings_url_ok(url_cases[i].s) != url_cases[i].ok) {
			print_error("url row %zu \"%s\": want %s\n", i, url_cases[i].s,
			    url_cases[i].ok ? "ok" : "refused");
			fails++;
		}
	/* 2048 characters in all, then 2049. */
	assert_non_null(s = malloc(2050));
	strcpy(s, "https://x.example/");
	memset(s + 18, 'a', 2048 - 18);
	s[2048] = '\0';
	if (!settings_url_ok(s)) {
		print_error("url of 2048 characters refused\n");
		fails++;
	}
	s[2048] = 'a';
	s[2049] = '\0';
	if (settings_url_ok(s)) {
		print_error("url of 2049 characters accepted\n");
		fails++;
	}
	free(s);
	assert_int_equal(fails, 0);
}

static const struct {
	const char *s;
	bool ok;
} cidr_cases[] = {
	/* IPv4: an address, with or without a prefix of 0..32. */
	{ "203.0.113.7",                    true },
	{ "203.0.113.0/24",                 true },
	{ "0.0.0.0/0",                      true },
	{ "255.255.255.255/32",             true },
	{ "10.0.0.0/33",                    false },
	{ "10.0.0.0/-1",                    false },
	{ "10.0.0.0/-0",                    false },
	{ "10.0.0.0/+8",                    false },
	{ "10.0.0.0/8 ",                    false },
	{ "10.0.0.0/ 8",                    false },
	{ "10.0.0.0/8/8",                   false },
	{ "10.0.0.0/x",                     false },
	{ "1.2.3.4/",                       false },
	{ "/8",                             false },
	{ "/",                              false },
	{ "",                               false },
	{ "300.1.1.1",                      false },
	{ "256.0.0.0/8",                    false },
	{ "1.2.3",                          false },
	{ "1.2.3.4.5",                      false },
	{ " 1.2.3.4",                       false },
	{ "1.2.3.4 ",                       false },
	{ "a.b.c.d",                        false },
	/* IPv6: prefix 0..128. */
	{ "::1",                            true },
	{ "::1/128",                        true },
	{ "::/0",                           true },
	{ "2001:db8::/32",                  true },
	{ "::ffff:192.0.2.1/128",           true },
	{ "0000:0000:0000:0000:0000:ffff:255.255.255.255/128", true },
	{ "::1/129",                        false },
	{ "2001:db8:::/32",                 false },
	{ "2001:db8::g/32",                 false },
	{ "fe80::1%eth0",                   false },
	{ "[::1]",                          false },
	{ "1:2:3:4:5:6:7:8:9",              false },
	{ "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:1", false },
};

static void
cidr_table(void **state)
{
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++)
		if (settings_cidr_ok(cidr_cases[i].s) != cidr_cases[i].ok) {
			print_error("cidr row %zu \"%s\": want %s\n", i, cidr_cases[i].s,
			    cidr_cases[i].ok ? "ok" : "refused");
			fails++;
		}
	assert_int_equal(fails, 0);
}

/*
 * A string holding U+0000 is refused wherever the schema takes a string,
 * although its text up to the NUL is valid (the edge's parser refuses it
 * first; fuzz_cidr found the schema alone accepting it).
 */
static void
nul_in_strings(void **state)
{
	static const struct {
		const char *sec, *key, *text;
		size_t      len;
		bool        in_list;
	} cases[] = {
		{ "security", "ip_whitelist", "203.0.113.0/24\0junk", 20, true },
		{ "branding", "logo_url", "https://x.example/\0", 19, false },
		{ "branding", "primary_color", "#000000\0", 8, false },
		{ "integrations", "slack_workspace", "acme\0", 5, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *patch = json_object_new_object(), *sec = json_object_new_object();
		struct json_object *cur = json_object_new_object(), *details = json_object_new_array(), *m, *f;
		struct json_object *v = json_object_new_string_len(cases[i].text, (int)cases[i].len);
		char field[64];

		if (cases[i].in_list) {
			struct json_object *list = json_object_new_array();

			json_object_array_add(list, v);
			v = list;
		}
		json_object_object_add(sec, cases[i].key, v);
		json_object_object_add(patch, cases[i].sec, sec);
		assert_non_null(m = settings_apply(cur, patch, SETTINGS_SUPERADMIN, details));
		assert_int_equal(json_object_array_length(details), 1);
		assert_true(json_object_object_get_ex(json_object_array_get_idx(details, 0), "field", &f));
		snprintf(field, sizeof(field), "%s.%s", cases[i].sec, cases[i].key);
		assert_string_equal(json_object_get_string(f), field);
		/* The same text without its NUL is fine. */
		json_object_put(m);
		json_object_put(details);
		json_object_put(patch);
		patch = json_object_new_object();
		sec = json_object_new_object();
		v = json_object_new_string(cases[i].text);
		if (cases[i].in_list) {
			struct json_object *list = json_object_new_array();

			json_object_array_add(list, v);
			v = list;
		}
		json_object_object_add(sec, cases[i].key, v);
		json_object_object_add(patch, cases[i].sec, sec);
		details = json_object_new_array();
		assert_non_null(m = settings_apply(cur, patch, SETTINGS_SUPERADMIN, details));
		assert_int_equal(json_object_array_length(details), 0);
		json_object_put(m);
		json_object_put(details);
		json_object_put(patch);
		json_object_put(cur);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(apply_table),
		cmocka_unit_test(size_boundary),
		cmocka_unit_test(merge_table),
		cmocka_unit_test(url_table),
		cmocka_unit_test(cidr_table),
		cmocka_unit_test(nul_in_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
