/* test_tmpl.c: unit tests for src/tmpl: the Mustache spec's core modules, escaping, bounds, loading. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tmpl/tmpl.h"

/* ========================================================================
 * Output capture
 * ===================================================================== */

/*
 * A growable, NUL-terminated capture of everything emitted. stop_after > 0
 * makes the writer refuse once that many bytes would be exceeded, to test
 * the emit failure path. The caller frees p.
 */
struct out {
	char  *p;
	size_t len, cap;
	size_t stop_after;
};

static int
out_emit(void *ud, const char *s, size_t n)
{
	struct out *o = ud;
	size_t cap;
	char *p;

	if (o->stop_after > 0 && o->len + n > o->stop_after)
		return 1;
	if (o->len + n + 1 > o->cap) {
		cap = o->cap ? o->cap : 256;
		while (cap < o->len + n + 1)
			cap *= 2;
		if ((p = realloc(o->p, cap)) == NULL)
			return 1;
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
	return 0;
}

/* Render name from set against ctx into a fresh capture; returns the status. */
static int
render(const struct tmpl_set *set, const char *name, struct json_object *ctx,
    struct out *o)
{
	memset(o, 0, sizeof(*o));
	if (out_emit(o, "", 0) != 0)
		return -100;
	return tmpl_render(set, name, ctx, out_emit, o);
}

/*
 * Compile src as template "t" in a new set and render it against the JSON
 * text data; returns the output (caller frees) and asserts success.
 */
static char *
render_one(const char *src, const char *data)
{
	struct tmpl_set *set;
	struct json_object *ctx;
	struct out o;
	char err[256];
	int rc;

	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "t", src, strlen(src), err,
	    sizeof(err)), 0);
	ctx = data != NULL ? json_tokener_parse(data) : NULL;
	rc = render(set, "t", ctx, &o);
	json_object_put(ctx);
	tmpl_set_free(set);
	assert_int_equal(rc, TMPL_OK);
	return o.p;
}

/* Compile src as "t"; assert it fails with want somewhere in the message. */
static void
assert_compile_error(const char *src, size_t len, const char *want)
{
	struct tmpl_set *set;
	struct out o;
	char err[512];
	int rc;

	assert_non_null(set = tmpl_set_new());
	rc = tmpl_set_add(set, "t", src, len, err, sizeof(err));
	if (rc == 0 || strstr(err, want) == NULL)
		print_error("source %.40s: got rc %d, \"%s\"; want \"%s\"\n",
		    src, rc, err, want);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, want));
	/* A failed compile leaves nothing behind. */
	assert_int_equal(render(set, "t", NULL, &o), TMPL_ENOTFOUND);
	free(o.p);
	tmpl_set_free(set);
}

/* ========================================================================
 * The Mustache spec (core modules, no lambdas)
 * ===================================================================== */

static unsigned spec_passed, spec_total;

/*
 * Find a spec file: $MUSTACHE_SPEC_DIR, then tests/conformance/mustache-spec
 * under the current directory, then under $srcdir (set by automake when the
 * build directory is not the source directory).
 */
static int
spec_path(const char *file, char *buf, size_t len)
{
	const char *env = getenv("MUSTACHE_SPEC_DIR");
	const char *srcdir = getenv("srcdir");

	if (env != NULL && *env != '\0') {
		snprintf(buf, len, "%s/%s", env, file);
		if (access(buf, R_OK) == 0)
			return 0;
	}
	snprintf(buf, len, "tests/conformance/mustache-spec/%s", file);
	if (access(buf, R_OK) == 0)
		return 0;
	if (srcdir != NULL && *srcdir != '\0') {
		snprintf(buf, len, "%s/tests/conformance/mustache-spec/%s",
		    srcdir, file);
		if (access(buf, R_OK) == 0)
			return 0;
	}
	return -1;
}

/* Print s on one line with \n, \r, \t visible, at most 160 bytes of it. */
static void
print_repr(const char *label, const char *s)
{
	char buf[800];
	size_t i, k = 0;

	for (i = 0; s[i] != '\0' && i < 160 && k + 8 < sizeof(buf); i++) {
		switch (s[i]) {
		case '\n': buf[k++] = '\\'; buf[k++] = 'n'; break;
		case '\r': buf[k++] = '\\'; buf[k++] = 'r'; break;
		case '\t': buf[k++] = '\\'; buf[k++] = 't'; break;
		default:   buf[k++] = s[i];
		}
	}
	buf[k] = '\0';
	printf("#       %s \"%s\"%s\n", label, buf, s[i] ? "..." : "");
}

/*
 * Run one spec test object: the template is "template", each of its
 * partials a template of the same set. Returns 1 if the output matched.
 */
static int
spec_run_test(struct json_object *test)
{
	struct json_object *tpl, *expected, *data, *partials, *name;
	struct tmpl_set *set;
	struct out o = { 0 };
	char err[512] = "";
	int ok = 0, rc;

	if (!json_object_object_get_ex(test, "name", &name) ||
	    !json_object_object_get_ex(test, "template", &tpl) ||
	    !json_object_object_get_ex(test, "expected", &expected))
		return 0;
	if (!json_object_object_get_ex(test, "data", &data))
		data = NULL;
	if ((set = tmpl_set_new()) == NULL)
		return 0;
	if (json_object_object_get_ex(test, "partials", &partials)) {
		json_object_object_foreach(partials, key, val) {
			if (tmpl_set_add(set, key, json_object_get_string(val),
			    (size_t)json_object_get_string_len(val), err,
			    sizeof(err)) != 0)
				goto done;
		}
	}
	if (tmpl_set_add(set, "template", json_object_get_string(tpl),
	    (size_t)json_object_get_string_len(tpl), err, sizeof(err)) != 0)
		goto done;
	rc = render(set, "template", data, &o);
	if (rc != TMPL_OK) {
		snprintf(err, sizeof(err), "render: %s", tmpl_strerror(rc));
		goto done;
	}
	ok = o.len == (size_t)json_object_get_string_len(expected) &&
	    memcmp(o.p, json_object_get_string(expected), o.len) == 0;
done:
	if (!ok) {
		printf("#   FAIL: %s\n", json_object_get_string(name));
		if (err[0] != '\0')
			printf("#       error: %s\n", err);
		print_repr("template:", json_object_get_string(tpl));
		print_repr("expected:", json_object_get_string(expected));
		print_repr("got:     ", o.p != NULL ? o.p : "");
	}
	free(o.p);
	tmpl_set_free(set);
	return ok;
}

/* Run every test of one spec file; fail unless all of them pass. */
static void
spec_run_file(const char *file)
{
	struct json_object *root, *tests;
	char path[4096];
	size_t i, n;
	unsigned passed = 0;

	if (spec_path(file, path, sizeof(path)) != 0) {
		printf("# mustache-spec %s: not found (set MUSTACHE_SPEC_DIR)\n",
		    file);
		fail();
	}
	root = json_object_from_file(path);
	if (root == NULL || !json_object_object_get_ex(root, "tests", &tests) ||
	    !json_object_is_type(tests, json_type_array)) {
		json_object_put(root);
		printf("# mustache-spec %s: cannot read %s\n", file, path);
		fail();
	}
	n = json_object_array_length(tests);
	for (i = 0; i < n; i++)
		passed += (unsigned)spec_run_test(
		    json_object_array_get_idx(tests, i));
	json_object_put(root);
	printf("# mustache-spec %s: %u/%zu passed\n", file, passed, n);
	spec_passed += passed;
	spec_total += (unsigned)n;
	assert_true(n > 0);
	assert_int_equal(passed, n);
}

static void spec_comments(void **state)      { (void)state; spec_run_file("comments.json"); }
static void spec_delimiters(void **state)    { (void)state; spec_run_file("delimiters.json"); }
static void spec_interpolation(void **state) { (void)state; spec_run_file("interpolation.json"); }
static void spec_inverted(void **state)      { (void)state; spec_run_file("inverted.json"); }
static void spec_partials(void **state)      { (void)state; spec_run_file("partials.json"); }
static void spec_sections(void **state)      { (void)state; spec_run_file("sections.json"); }

/* ========================================================================
 * Escaping and raw output
 * ===================================================================== */

static void
escape_html_direct(void **state)
{
	static const char in[] = "a<b>c&d\"e'f \xc3\xa9\0z";
	struct out o = { 0 };

	(void)state;
	assert_int_equal(tmpl_escape_html(in, sizeof(in) - 1, out_emit, &o), 0);
	assert_int_equal(o.len, strlen("a&lt;b&gt;c&amp;d&quot;e&#39;f \xc3\xa9") + 2);
	assert_string_equal(o.p, "a&lt;b&gt;c&amp;d&quot;e&#39;f \xc3\xa9");
	assert_memory_equal(o.p + o.len - 2, "\0z", 2);
	free(o.p);

	memset(&o, 0, sizeof(o));
	assert_int_equal(tmpl_escape_html("<>&\"'", 5, out_emit, &o), 0);
	assert_string_equal(o.p, "&lt;&gt;&amp;&quot;&#39;");
	free(o.p);

	memset(&o, 0, sizeof(o));
	assert_int_equal(tmpl_escape_html("", 0, out_emit, &o), 0);
	assert_int_equal(o.len, 0);
	free(o.p);

	/* A writer that stops is reported. */
	memset(&o, 0, sizeof(o));
	o.stop_after = 3;
	assert_int_equal(tmpl_escape_html("ab<cd", 5, out_emit, &o), -1);
	free(o.p);
}

static void
escape_in_text_and_attributes(void **state)
{
	char *s;

	(void)state;
	s = render_one("<p>{{v}}</p><a title=\"{{v}}\" alt='{{v}}'>{{w.x}}</a>",
	    "{\"v\": \"<b>\\\"Tom\\\" & 'Jerry'</b>\","
	    " \"w\": {\"x\": \"\\\" onmouseover=\\\"alert(1)\"}}");
	assert_string_equal(s,
	    "<p>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>"
	    "<a title=\"&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;\""
	    " alt='&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;'>"
	    "&quot; onmouseover=&quot;alert(1)</a>");
	free(s);

	/* Implicit iterator, section values and partial output are escaped too. */
	s = render_one("{{#l}}[{{.}}]{{/l}}{{#o}}{{k}}{{/o}}",
	    "{\"l\": [\"<i>\", \"'\"], \"o\": {\"k\": \"&\"}}");
	assert_string_equal(s, "[&lt;i&gt;][&#39;]&amp;");
	free(s);
}

static void
raw_output_markers(void **state)
{
	char *s;

	(void)state;
	s = render_one("{{{v}}}|{{&v}}|{{& v }}|{{v}}",
	    "{\"v\": \"<b>&'\\\"\"}");
	assert_string_equal(s, "<b>&'\"|<b>&'\"|<b>&'\"|&lt;b&gt;&amp;&#39;&quot;");
	free(s);

	/* With other delimiters the markers are the same. */
	s = render_one("{{=<% %>=}}<%{v}%>|<%&v%>|<%v%>|{{v}}",
	    "{\"v\": \"<>\"}");
	assert_string_equal(s, "<>|<>|&lt;&gt;|{{v}}");
	free(s);
}

/* ========================================================================
 * Values and truthiness
 * ===================================================================== */

static void
value_formatting(void **state)
{
	struct tmpl_set *set;
	struct json_object *ctx;
	struct out o;
	static const char src[] =
	    "{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}} {{h}} {{i}} {{j}} "
	    "[{{k}}] [{{l}}] [{{m}}]";

	(void)state;
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "t", src, strlen(src), NULL, 0), 0);
	/* Doubles built in code, not parsed: json-c would print 1.2099999999999999. */
	ctx = json_object_new_object();
	json_object_object_add(ctx, "a", json_object_new_double(1.21));
	json_object_object_add(ctx, "b", json_object_new_double(0.1 + 0.2));
	json_object_object_add(ctx, "c", json_object_new_double(3.0));
	json_object_object_add(ctx, "d", json_object_new_double(-2.5));
	json_object_object_add(ctx, "e", json_object_new_double(1e21));
	json_object_object_add(ctx, "f", json_object_new_int64(INT64_MIN));
	json_object_object_add(ctx, "g", json_object_new_int64(INT64_MAX));
	json_object_object_add(ctx, "h", json_object_new_uint64(UINT64_MAX));
	json_object_object_add(ctx, "i", json_object_new_boolean(1));
	json_object_object_add(ctx, "j", json_object_new_boolean(0));
	json_object_object_add(ctx, "k", json_object_new_object());
	json_object_object_add(ctx, "l", json_object_new_array());
	json_object_object_add(ctx, "m", NULL);
	assert_int_equal(render(set, "t", ctx, &o), TMPL_OK);
	assert_string_equal(o.p, "1.21 0.30000000000000004 3 -2.5 1e+21 "
	    "-9223372036854775808 9223372036854775807 18446744073709551615 "
	    "true false [] [] []");
	free(o.p);
	json_object_put(ctx);
	tmpl_set_free(set);
}

static void
truthiness(void **state)
{
	char *s;

	(void)state;
	/* Falsey: missing, null, false, []. Truthy: "", 0, {}. */
	s = render_one("{{#miss}}1{{/miss}}{{#n}}2{{/n}}{{#f}}3{{/f}}{{#e}}4{{/e}}"
	    "{{#s}}5{{/s}}{{#z}}6{{/z}}{{#o}}7{{/o}}"
	    "{{^miss}}a{{/miss}}{{^s}}b{{/s}}",
	    "{\"n\": null, \"f\": false, \"e\": [], \"s\": \"\", \"z\": 0,"
	    " \"o\": {}}");
	assert_string_equal(s, "567a");
	free(s);

	/* A null context renders, with every lookup missing. */
	s = render_one("[{{x}}{{.}}{{#x}}y{{/x}}{{^x}}n{{/x}}]", NULL);
	assert_string_equal(s, "[n]");
	free(s);
}

/* ========================================================================
 * Compile errors and bounds
 * ===================================================================== */

static void
compile_errors_have_lines(void **state)
{
	static const struct {
		const char *src;
		const char *want;
	} cases[] = {
		{ "a\nb\n{{#s}}\nc\n",          "t:3: unclosed section 's'" },
		{ "{{#a}}\n{{#b}}\n{{/a}}\n",    "t:3: closing 'a' but 'b' (line 2) is open" },
		{ "x\n\n{{/a}}",                 "t:3: closing 'a' with no section open" },
		{ "line1\n{{name",               "t:2: unclosed tag" },
		{ "{{{name}}",                   "t:1: unclosed tag: no '}}}'" },
		{ "{{}}",                        "t:1: empty tag name" },
		{ "\n{{#}}{{/}}",                "t:2: empty tag name" },
		{ "{{a b}}",                     "t:1: space or control character" },
		{ "{{a..b}}",                    "t:1: empty segment in name 'a..b'" },
		{ "{{.a}}",                      "t:1: empty segment" },
		{ "{{>}}",                       "t:1: empty tag name" },
		{ "x\n{{=<% =}}",                "t:2: set-delimiter tag needs two delimiters" },
		{ "{{=<% %> x=}}",               "t:1: set-delimiter tag needs two delimiters" },
		{ "{{=a= b=}}",                  "t:1: a delimiter may not contain '='" },
		{ "{{=<% %>=}}\n<%x",            "t:2: unclosed tag: no '%>'" },
		{ "{{<parent}}{{/parent}}",      "t:1: template inheritance" },
		{ "{{$block}}{{/block}}",        "t:1: template inheritance" },
	};
	char name[TMPL_MAX_NAME + 8], src[4 * TMPL_MAX_NESTING * 8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_compile_error(cases[i].src, strlen(cases[i].src),
		    cases[i].want);

	/* Tag names: TMPL_MAX_NAME bytes compile, one more does not. */
	memset(name, 'n', sizeof(name));
	memcpy(name, "{{", 2);
	memcpy(name + 2 + TMPL_MAX_NAME, "}}", 3);
	free(render_one(name, NULL));
	memcpy(name + 2 + TMPL_MAX_NAME, "n}}", 4);
	assert_compile_error(name, strlen(name), "t:1: tag name longer than 256 bytes");

	/* Nesting: TMPL_MAX_NESTING sections compile, one more does not. */
	src[0] = '\0';
	for (i = 0; i < TMPL_MAX_NESTING; i++)
		strcat(src, "{{#a}}");
	for (i = 0; i < TMPL_MAX_NESTING; i++)
		strcat(src, "{{/a}}");
	free(render_one(src, NULL));
	src[0] = '\0';
	for (i = 0; i <= TMPL_MAX_NESTING; i++)
		strcat(src, "{{#a}}\n");
	assert_compile_error(src, strlen(src), "t:33: sections nested deeper than 32");
}

static void
oversized_template_refused(void **state)
{
	struct tmpl_set *set;
	struct out o;
	char err[256], *big;

	(void)state;
	assert_non_null(big = malloc(TMPL_MAX_SOURCE + 1));
	memset(big, 'a', TMPL_MAX_SOURCE + 1);
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "big", big, TMPL_MAX_SOURCE + 1, err,
	    sizeof(err)), -1);
	assert_string_equal(err,
	    "big:1: template is 1048577 bytes, more than the 1048576 allowed");
	/* Exactly at the bound is fine. */
	assert_int_equal(tmpl_set_add(set, "big", big, TMPL_MAX_SOURCE, err,
	    sizeof(err)), 0);
	assert_int_equal(render(set, "big", NULL, &o), TMPL_OK);
	assert_int_equal(o.len, TMPL_MAX_SOURCE);
	free(o.p);
	free(big);
	tmpl_set_free(set);
}

static void
set_names(void **state)
{
	struct tmpl_set *set;
	char err[256], name[TMPL_MAX_NAME + 2];

	(void)state;
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "a", "x", 1, err, sizeof(err)), 0);
	assert_int_equal(tmpl_set_add(set, "a", "y", 1, err, sizeof(err)), -1);
	assert_string_equal(err, "a:1: template already defined");
	assert_int_equal(tmpl_set_add(set, "", "y", 1, err, sizeof(err)), -1);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(tmpl_set_add(set, name, "y", 1, err, sizeof(err)), -1);
	/* A NULL err buffer is allowed. */
	assert_int_equal(tmpl_set_add(set, "b", "{{#x}}", 6, NULL, 0), -1);
	/* Many templates: the name table grows. */
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "many/%d", i);
		assert_int_equal(tmpl_set_add(set, name, name, strlen(name),
		    err, sizeof(err)), 0);
	}
	assert_int_equal(tmpl_set_check(set, err, sizeof(err)), 0);
	tmpl_set_free(set);
	tmpl_set_free(NULL);
}

/* ========================================================================
 * Partials: strict check, recursion, indentation
 * ===================================================================== */

static void
check_unknown_partial(void **state)
{
	static const char page[] = "<html>\n{{>partials/hedaer}}\n</html>\n";
	struct tmpl_set *set;
	struct out o;
	char err[256];

	(void)state;
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "page", page, strlen(page), err,
	    sizeof(err)), 0);
	assert_int_equal(tmpl_set_add(set, "partials/header", "<h1>", 4, err,
	    sizeof(err)), 0);
	assert_int_equal(tmpl_set_check(set, err, sizeof(err)), -1);
	assert_string_equal(err, "page:2: unknown partial 'partials/hedaer'");
	/* Rendering is lenient, as Mustache requires: the partial is empty. */
	assert_int_equal(render(set, "page", NULL, &o), TMPL_OK);
	assert_string_equal(o.p, "<html>\n</html>\n");
	free(o.p);
	assert_int_equal(tmpl_set_add(set, "partials/hedaer", "", 0, err,
	    sizeof(err)), 0);
	assert_int_equal(tmpl_set_check(set, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	tmpl_set_free(set);
}

static void
recursion_is_capped(void **state)
{
	struct tmpl_set *set;
	struct json_object *ctx;
	struct out o;
	char want[TMPL_MAX_PARTIAL_DEPTH + 2];
	static const char node[] = "{{v}}{{#kids}}({{>node}}){{/kids}}";
	static const char mul[] = "{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}"
	    "{{#l}}{{#s}}x{{/s}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}";

	(void)state;
	assert_non_null(set = tmpl_set_new());

	/* Unconditional self-inclusion stops at the depth cap, with an error. */
	assert_int_equal(tmpl_set_add(set, "r", "x{{>r}}", 7, NULL, 0), 0);
	assert_int_equal(render(set, "r", NULL, &o), TMPL_ELIMIT);
	memset(want, 'x', TMPL_MAX_PARTIAL_DEPTH + 1);
	want[TMPL_MAX_PARTIAL_DEPTH + 1] = '\0';
	assert_string_equal(o.p, want);
	free(o.p);

	/*
	 * Data-driven recursion within the cap works. Leaves need their own
	 * empty "kids": a missing key is looked up in the parent's frame,
	 * which would recurse until the cap.
	 */
	assert_int_equal(tmpl_set_add(set, "node", node, strlen(node), NULL, 0), 0);
	ctx = json_tokener_parse("{\"v\":1,\"kids\":[{\"v\":2,\"kids\":"
	    "[{\"v\":3,\"kids\":[]}]},{\"v\":4,\"kids\":[]}]}");
	assert_int_equal(render(set, "node", ctx, &o), TMPL_OK);
	assert_string_equal(o.p, "1(2(3))(4)");
	free(o.p);
	json_object_put(ctx);

	/* Doubling self-inclusion fails at the depth cap at once, too. */
	assert_int_equal(tmpl_set_add(set, "b", "{{>b}}{{>b}}", 12, NULL, 0), 0);
	assert_int_equal(render(set, "b", NULL, &o), TMPL_ELIMIT);
	free(o.p);

	/*
	 * Nested sections over lists multiply (10^8 visits here): the step
	 * limit stops them. Under the limit the same template renders.
	 */
	assert_int_equal(tmpl_set_add(set, "m", mul, strlen(mul), NULL, 0), 0);
	ctx = json_tokener_parse("{\"l\": [0,1,2,3,4,5,6,7,8,9], \"s\": [0]}");
	tmpl_set_step_limit(set, 100000);
	assert_int_equal(render(set, "m", ctx, &o), TMPL_ELIMIT);
	free(o.p);
	json_object_put(ctx);
	ctx = json_tokener_parse("{\"l\": [0], \"s\": [0,1]}");
	assert_int_equal(render(set, "m", ctx, &o), TMPL_OK);
	assert_string_equal(o.p, "xx");
	free(o.p);
	json_object_put(ctx);
	tmpl_set_step_limit(set, 0);
	tmpl_set_free(set);
}

static void
nested_standalone_indentation(void **state)
{
	struct tmpl_set *set;
	struct json_object *ctx;
	struct out o;
	static const char outer[] = "<ul>\n  {{>inner}}\n</ul>\n";
	static const char inner[] =
	    "{{#items}}\n<li>\n  {{>leaf}}\n</li>\n{{/items}}\n";
	static const char leaf[] = "{{name}}\n{{! comment }}\nend {{>inline}}\n";

	(void)state;
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "outer", outer, strlen(outer), NULL, 0), 0);
	assert_int_equal(tmpl_set_add(set, "inner", inner, strlen(inner), NULL, 0), 0);
	assert_int_equal(tmpl_set_add(set, "leaf", leaf, strlen(leaf), NULL, 0), 0);
	assert_int_equal(tmpl_set_add(set, "inline", "a\nb", 3, NULL, 0), 0);
	ctx = json_tokener_parse("{\"items\":[{\"name\":\"x\"},{\"name\":\"y\"}]}");
	assert_int_equal(render(set, "outer", ctx, &o), TMPL_OK);
	assert_string_equal(o.p,
	    "<ul>\n"
	    "  <li>\n    x\n    end a\nb\n  </li>\n"
	    "  <li>\n    y\n    end a\nb\n  </li>\n"
	    "</ul>\n");
	free(o.p);
	json_object_put(ctx);
	tmpl_set_free(set);
}

static void
indentation_of_inline_tags_at_line_start(void **state)
{
	struct tmpl_set *set;
	struct json_object *ctx;
	struct out o;
	static const char top[] = "  {{>edge}}\n";
	static const char edge[] = "{{#a}}x\n{{/a}}y\n{{>inline}} z\n";

	(void)state;
	/*
	 * Inside a standalone partial every source line is indented, even
	 * one that starts with a tag that is not alone on it: the indent of
	 * "{{/a}}y" belongs to the section body, the indent of "{{>inline}} z"
	 * goes before the inline partial, which is not indented itself.
	 */
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "top", top, strlen(top), NULL, 0), 0);
	assert_int_equal(tmpl_set_add(set, "edge", edge, strlen(edge), NULL, 0), 0);
	assert_int_equal(tmpl_set_add(set, "inline", "a\nb", 3, NULL, 0), 0);
	ctx = json_tokener_parse("{\"a\": true}");
	assert_int_equal(render(set, "top", ctx, &o), TMPL_OK);
	assert_string_equal(o.p, "  x\n  y\n  a\nb z\n");
	free(o.p);
	json_object_put(ctx);
	assert_int_equal(render(set, "top", NULL, &o), TMPL_OK);
	assert_string_equal(o.p, "  y\n  a\nb z\n");
	free(o.p);
	/* At top level the same template is not indented at all. */
	assert_int_equal(render(set, "edge", NULL, &o), TMPL_OK);
	assert_string_equal(o.p, "y\na\nb z\n");
	free(o.p);
	tmpl_set_free(set);
}

/* ========================================================================
 * Rendering failures
 * ===================================================================== */

static void
render_failures(void **state)
{
	struct tmpl_set *set;
	struct out o;

	(void)state;
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_add(set, "t", "hello {{x}}", 11, NULL, 0), 0);
	assert_int_equal(render(set, "nope", NULL, &o), TMPL_ENOTFOUND);
	free(o.p);
	memset(&o, 0, sizeof(o));
	o.stop_after = 3;
	assert_int_equal(tmpl_render(set, "t", NULL, out_emit, &o), TMPL_EEMIT);
	free(o.p);
	assert_string_equal(tmpl_strerror(TMPL_OK), "ok");
	assert_non_null(tmpl_strerror(TMPL_ELIMIT));
	assert_non_null(tmpl_strerror(12345));
	tmpl_set_free(set);
}

/* ========================================================================
 * Loading a directory
 * ===================================================================== */

static void
write_file(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
remove_path(const char *dir, const char *rel, int is_dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(is_dir ? rmdir(path) : unlink(path), 0);
}

static void
load_dir_nested(void **state)
{
	struct tmpl_set *set;
	struct json_object *ctx;
	struct out o;
	char dir[] = "/tmp/test_tmpl.XXXXXX", sub[600], err[512], *big;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/partials", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/partials/deep", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "page.mustache",
	    "<h1>{{>partials/header}}</h1>\n"
	    "{{#items}}\n"
	    "  {{>partials/deep/item}}\n"
	    "{{/items}}\n");
	write_file(dir, "partials/header.mustache", "{{title}}");
	write_file(dir, "partials/deep/item.mustache", "<li>{{.}}</li>\n");
	write_file(dir, "notes.txt", "{{#not a template");
	write_file(dir, ".hidden.mustache", "{{#broken");

	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_load_dir(set, dir, err, sizeof(err)), 0);
	assert_int_equal(tmpl_set_check(set, err, sizeof(err)), 0);
	ctx = json_tokener_parse("{\"title\":\"T&C\",\"items\":[\"a\",\"<b>\"]}");
	assert_int_equal(render(set, "page", ctx, &o), TMPL_OK);
	assert_string_equal(o.p,
	    "<h1>T&amp;C</h1>\n  <li>a</li>\n  <li>&lt;b&gt;</li>\n");
	free(o.p);
	json_object_put(ctx);
	tmpl_set_free(set);

	/* A syntax error names the template and line. */
	write_file(dir, "partials/bad.mustache", "ok\n{{/nope}}\n");
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_load_dir(set, dir, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "partials/bad:2: closing 'nope' with no section open");
	tmpl_set_free(set);
	remove_path(dir, "partials/bad.mustache", 0);

	/* An oversized file is refused before it is read. */
	big = malloc(TMPL_MAX_SOURCE + 2);
	assert_non_null(big);
	memset(big, 'x', TMPL_MAX_SOURCE + 1);
	big[TMPL_MAX_SOURCE + 1] = '\0';
	write_file(dir, "big.mustache", big);
	free(big);
	assert_non_null(set = tmpl_set_new());
	assert_int_equal(tmpl_set_load_dir(set, dir, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "big:1: template is 1048577 bytes, more than the 1048576 allowed");
	tmpl_set_free(set);
	remove_path(dir, "big.mustache", 0);

	/* A missing directory is an error, not an empty set. */
	assert_non_null(set = tmpl_set_new());
	snprintf(sub, sizeof(sub), "%s/absent", dir);
	assert_int_equal(tmpl_set_load_dir(set, sub, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "absent"));
	tmpl_set_free(set);

	remove_path(dir, "partials/deep/item.mustache", 0);
	remove_path(dir, "partials/deep", 1);
	remove_path(dir, "partials/header.mustache", 0);
	remove_path(dir, "partials", 1);
	remove_path(dir, "page.mustache", 0);
	remove_path(dir, "notes.txt", 0);
	remove_path(dir, ".hidden.mustache", 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ========================================================================
 * Runner
 * ===================================================================== */

static int
spec_tally(void **state)
{
	(void)state;
	printf("# mustache-spec total: %u/%u passed\n", spec_passed, spec_total);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_comments),
		cmocka_unit_test(spec_delimiters),
		cmocka_unit_test(spec_interpolation),
		cmocka_unit_test(spec_inverted),
		cmocka_unit_test(spec_partials),
		cmocka_unit_test(spec_sections),
		cmocka_unit_test(escape_html_direct),
		cmocka_unit_test(escape_in_text_and_attributes),
		cmocka_unit_test(raw_output_markers),
		cmocka_unit_test(value_formatting),
		cmocka_unit_test(truthiness),
		cmocka_unit_test(compile_errors_have_lines),
		cmocka_unit_test(oversized_template_refused),
		cmocka_unit_test(set_names),
		cmocka_unit_test(check_unknown_partial),
		cmocka_unit_test(recursion_is_capped),
		cmocka_unit_test(nested_standalone_indentation),
		cmocka_unit_test(indentation_of_inline_tags_at_line_start),
		cmocka_unit_test(render_failures),
		cmocka_unit_test(load_dir_nested),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, spec_tally);
}
