/* fuzz_tmpl.c: libFuzzer target for src/tmpl: compile any input, render what compiles. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "tmpl/tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The context every input renders against: one of each JSON kind, nested
 * objects for dotted names, lists for sections, and a "kids" tree so that a
 * self-including template recurses through data as well as through the
 * depth cap. Built once and kept for the life of the process.
 */
static const char fuzz_ctx_json[] =
    "{\"name\": \"<b>Tom & 'Jerry'\\\"</b>\", \"n\": 42, \"d\": 1.21,"
    " \"t\": true, \"f\": false, \"nil\": null, \"e\": [], \"s\": \"\","
    " \"list\": [1, 2.5, \"x\", null, true, [\"a\", \"b\"], {\"name\": \"in\"}],"
    " \"a\": {\"b\": {\"c\": \"deep\"}},"
    " \"kids\": [{\"name\": \"k1\", \"kids\": [{\"name\": \"k2\", \"kids\": []}]}]}";

static struct json_object *fuzz_ctx;
static volatile unsigned fuzz_checksum;

/* Output sink: reads every byte (so ASan sees bad spans), stops past 1 MiB. */
static int
fuzz_sink(void *ud, const char *s, size_t n)
{
	size_t *total = ud;
	unsigned sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (unsigned char)s[i];
	fuzz_checksum += sum;
	*total += n;
	return *total > (1u << 20);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char wrap[] = "[{{#kids}}{{>self}}{{/kids}}|{{>self}}]\n";
	struct tmpl_set *set;
	char err[512];
	size_t total = 0;

	if (fuzz_ctx == NULL && (fuzz_ctx = json_tokener_parse(fuzz_ctx_json)) == NULL)
		return 0;
	tmpl_escape_html((const char *)data, size, fuzz_sink, &total);
	if ((set = tmpl_set_new()) == NULL)
		return 0;
	tmpl_set_step_limit(set, 50000);
	if (tmpl_set_add(set, "self", (const char *)data, size, err,
	    sizeof(err)) == 0 &&
	    tmpl_set_add(set, "wrap", wrap, sizeof(wrap) - 1, err,
	    sizeof(err)) == 0) {
		tmpl_set_check(set, err, sizeof(err));
		total = 0;
		tmpl_render(set, "self", fuzz_ctx, fuzz_sink, &total);
		total = 0;
		tmpl_render(set, "wrap", fuzz_ctx, fuzz_sink, &total);
		total = 0;
		tmpl_render(set, "self", NULL, fuzz_sink, &total);
	}
	tmpl_set_free(set);
	return 0;
}
