/* test_web.c: unit tests for the dashboard: the shipped templates compile and render, next= and Origin rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "auth/session.h"
#include "core/buf.h"
#include "http/worker.h"
#include "tmpl/tmpl.h"
#include "web/chart.h"
#include "web/web.h"

/* templates/ in the build tree, else under $srcdir (VPATH builds). */
static const char *
template_dir(void)
{
	static char path[4096];
	const char *srcdir = getenv("srcdir");

	if (srcdir != NULL && *srcdir != '\0') {
		snprintf(path, sizeof(path), "%s/templates", srcdir);
		return path;
	}
	return "templates";
}

static int
emit(void *ud, const char *s, size_t n)
{
	return buf_append(ud, s, n) ? 0 : 1;
}

/* Render name with the JSON context text; the caller frees the result. */
static char *
render(struct tmpl_set *set, const char *name, const char *json)
{
	struct json_object *ctx = json_tokener_parse(json);
	struct buf b;

	assert_non_null(ctx);
	buf_init(&b);
	assert_int_equal(tmpl_render(set, name, ctx, emit, &b), TMPL_OK);
	json_object_put(ctx);
	assert_false(b.oom);
	return b.p ? b.p : strdup("");
}

static struct tmpl_set *
load(void)
{
	struct tmpl_set *set = tmpl_set_new();
	char err[256];

	assert_non_null(set);
	if (tmpl_set_load_dir(set, template_dir(), err, sizeof(err)) != 0 ||
	    tmpl_set_check(set, err, sizeof(err)) != 0)
		fail_msg("templates: %s", err);
	return set;
}

/* Every page the handlers name exists, compiles, and every partial it uses exists. */
static void
templates_compile(void **state)
{
	static const char *const pages[] = { "error", "login", "dashboard", "overview", "settings",
	    "billing", "keys", "key_revoke", "members", "member_remove", "activity", "admin_tenants",
	    "invite" };
	struct tmpl_set *set = load();

	(void)state;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char *s = render(set, pages[i], "{\"title\":\"t\"}");

		/* Every page is a whole document with the stylesheet and no inline script or style. */
		if (strstr(s, "<!doctype html>") != s || strstr(s, "/static/app.css") == NULL)
			fail_msg("%s: not a whole page", pages[i]);
		if (strstr(s, "<script>") != NULL || strstr(s, "style=") != NULL || strstr(s, "<style") != NULL)
			fail_msg("%s: inline script or style", pages[i]);
		free(s);
	}
	tmpl_set_free(set);
}

/* Data reaches pages escaped; only the chart, built by web_chart_svg, is raw. */
static void
pages_escape_data(void **state)
{
	struct tmpl_set *set = load();
	char *s;

	(void)state;
	s = render(set, "overview",
	    "{\"title\":\"<b>x</b>\",\"csrf\":\"t\",\"user\":{\"name\":\"<i>n</i>\",\"email\":\"e\"},"
	    "\"nav\":[{\"slug\":\"a\",\"name\":\"A & \\\"B\\\"\",\"role\":\"owner\"}],"
	    "\"ws\":{\"slug\":\"a\",\"name\":\"<script>alert(1)</script>\",\"tier\":\"free\",\"role\":\"owner\","
	    "\"can_billing\":true},\"quotas\":[{\"name\":\"tokens\",\"used\":\"1\",\"limit\":\"2\",\"pct\":\"50.00\","
	    "\"bar\":50,\"level\":\"ok\"}],\"recent\":[{\"occurred_at\":\"x\",\"actor\":\"'o'\",\"action\":\"a.b\"}]}");
	assert_null(strstr(s, "<script>alert"));
	assert_non_null(strstr(s, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(s, "A &amp; &quot;B&quot;"));
	assert_non_null(strstr(s, "&lt;i&gt;n&lt;/i&gt;"));
	assert_non_null(strstr(s, "&#39;o&#39;"));
	assert_non_null(strstr(s, "&lt;b&gt;x&lt;/b&gt; · tenantry"));
	/* The gauge is drawn with the width the handler computed. */
	assert_non_null(strstr(s, "class=\"gauge-fill ok\" width=\"50\""));
	free(s);

	/* The billing page's totals and charts are a fragment of their own (cached), taken raw. */
	s = render(set, "billing_meters",
	    "{\"month\":\"2026-11\",\"meters\":[{\"name\":\"<m>\","
	    "\"svg\":\"<svg class=\\\"chart\\\"></svg>\",\"used\":\"1\",\"unlimited\":true}]}");
	assert_non_null(strstr(s, "<svg class=\"chart\"></svg>"));
	assert_non_null(strstr(s, "&lt;m&gt;"));
	assert_null(strstr(s, "<m>"));
	free(s);
	s = render(set, "billing",
	    "{\"title\":\"b\",\"month\":\"2026-11\",\"ws\":{\"slug\":\"a\",\"tier\":\"<t>\"}}");
	assert_non_null(strstr(s, "&lt;t&gt; plan"));
	/* The page's top ends at the plan line: web_billing adds the fragment and the foot. */
	assert_non_null(strstr(s, "copy the URL to share it.</p>\n"));
	assert_null(strstr(s, "</main>"));
	free(s);
	tmpl_set_free(set);
}

/* A viewer's settings form is disabled and has no Save button; an admin's is live. */
static void
settings_controls_follow_role(void **state)
{
	struct tmpl_set *set = load();
	char *viewer, *admin;

	(void)state;
	viewer = render(set, "settings", "{\"ws\":{\"slug\":\"a\",\"can_edit\":false},"
	    "\"form\":{\"name\":\"A\",\"has_security\":false},\"errors\":{}}");
	admin = render(set, "settings", "{\"ws\":{\"slug\":\"a\",\"can_edit\":true},"
	    "\"form\":{\"name\":\"A\",\"has_security\":true},\"errors\":{\"branding_primary_color\":\"must be #RRGGBB\"}}");
	assert_non_null(strstr(viewer, "<fieldset disabled>"));
	assert_null(strstr(viewer, "Save settings"));
	assert_null(strstr(viewer, "Session timeout"));
	assert_null(strstr(admin, "<fieldset disabled>"));
	assert_non_null(strstr(admin, "Save settings"));
	/* The error sits in its field, tied to the input. */
	assert_non_null(strstr(admin,
	    "aria-describedby=\"branding_primary_color-hint branding_primary_color-err\" aria-invalid=\"true\""));
	assert_non_null(strstr(viewer, "aria-describedby=\"branding_primary_color-hint\">"));
	assert_non_null(strstr(admin, "id=\"branding_primary_color-err\">must be #RRGGBB</p>"));
	free(viewer);
	free(admin);
	tmpl_set_free(set);
}

/* ?next= takes same-site paths only. */
static void
next_is_same_site(void **state)
{
	static const struct { const char *in; bool ok; } t[] = {
		{ "/dashboard", true }, { "/w/acme/billing?month=2026-10", true }, { "/", true },
		{ "//evil.example", false }, { "/\\evil.example", false }, { "https://evil.example", false },
		{ "javascript:alert(1)", false }, { "evil", false }, { "", false },
		{ "/login", false }, { "/logout", false }, { "/a\r\nSet-Cookie: x=1", false },
		{ "/a\\b", false }, { "/a\x7f", false },
	};

	(void)state;
	assert_null(web_next_ok(NULL));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if ((web_next_ok(t[i].in) != NULL) != t[i].ok)
			fail_msg("next=%s: expected %s", t[i].in, t[i].ok ? "accepted" : "refused");
}

/* An Origin names this site only as TENANTRY_PUBLIC_URL's origin or the Host the request went to. */
static void
origin_rules(void **state)
{
	static struct worker w;
	static const struct { const char *origin; bool ok; } t[] = {
		{ "https://app.example.com", true }, { "HTTPS://APP.EXAMPLE.COM", true },
		{ "https://127.0.0.1:8443", true },            /* the Host header */
		{ "https://app.example.com:444", false }, { "http://app.example.com", false },
		{ "https://evil.example", false }, { "null", false }, { "https://app.example.com.evil", false },
		{ "https://127.0.0.1:8444", false }, { "", false },
	};
	struct req r = { .w = &w, .host = "127.0.0.1:8443" };

	(void)state;
	w.cfg.public_url = "https://app.example.com/";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (auth_origin_ok(&r, t[i].origin) != t[i].ok)
			fail_msg("Origin %s: expected %s", t[i].origin, t[i].ok ? "accepted" : "refused");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(templates_compile),
		cmocka_unit_test(pages_escape_data),
		cmocka_unit_test(settings_controls_follow_role),
		cmocka_unit_test(next_is_same_site),
		cmocka_unit_test(origin_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
