/* test_matrix_coverage.c: every route of the route table has rows in the authorisation matrices (the TSVs in tests/api). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/routes.h"
#include "core/arena.h"
#include "http/request.h"
#include "http/router.h"

/*
 * The matrices whose first two columns are a method and a path: the API's
 * (principal x tenant side), the API keys' (scope) and the dashboard
 * pages' (session x workspace side).
 */
static const char *const matrices[] = {
	"tests/api/matrix.tsv",
	"tests/api/keys_matrix.tsv",
	"tests/api/pages_matrix.tsv",
};

/*
 * A path template of a matrix with a value the router accepts for each
 * placeholder (the driver puts real ones there): a UUID, or a slug, or a
 * token, by the placeholder's name; the query string goes.
 */
static void
concrete(const char *tmpl, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = tmpl; *p != '\0' && *p != '?' && o + 1 < cap; p++) {
		const char *end, *v;

		if (*p != '{' || (end = strchr(p, '}')) == NULL) {
			out[o++] = *p;
			continue;
		}
		if (strncmp(p, "{slug}", 6) == 0)
			v = "matrix-workspace";
		else if (strncmp(p, "{token}", 7) == 0 || strncmp(p, "{inv_token}", 11) == 0)
			v = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
		else
			v = "0b7c1b0e-5a6f-4c3e-9d2a-1f2e3d4c5b6a";
		o += (size_t)snprintf(out + o, cap - o, "%s", v);
		if (o >= cap)
			o = cap - 1;
		p = end;
	}
	out[o] = '\0';
}

static void
test_every_route_has_rows(void **state)
{
	const char *srcdir = getenv("srcdir");
	bool *covered = calloc(nroutes, sizeof(bool));
	char line[4096], file[1024], path[2048];
	int missing = 0;

	(void)state;
	assert_non_null(covered);
	for (size_t m = 0; m < sizeof(matrices) / sizeof(matrices[0]); m++) {
		FILE *f;
		int rows = 0;

		snprintf(file, sizeof(file), "%s/%s", srcdir != NULL ? srcdir : ".", matrices[m]);
		if ((f = fopen(file, "r")) == NULL)
			fail_msg("cannot read %s", file);
		while (fgets(line, sizeof(line), f) != NULL) {
			char *method = line, *tab, *tmpl, *tab2;
			const struct route *rt = NULL;
			const char *params[ROUTE_PARAMS_MAX];
			unsigned allow = 0;
			struct arena *a;

			if (line[0] == '#' || line[0] == '\n' || (tab = strchr(line, '\t')) == NULL)
				continue;
			*tab = '\0';
			tmpl = tab + 1;
			if ((tab2 = strpbrk(tmpl, "\t\n")) != NULL)
				*tab2 = '\0';
			concrete(tmpl, path, sizeof(path));
			assert_non_null(a = arena_new(4096));
			if (http_route_find(routes, nroutes, http_method_parse(method), path, a, &rt, params,
			    &allow) != ROUTE_FOUND)
				fail_msg("%s: %s %s matches no route", matrices[m], method, tmpl);
			covered[rt - routes] = true;
			arena_free(a);
			rows++;
		}
		fclose(f);
		if (rows == 0)
			fail_msg("%s has no rows", matrices[m]);
	}
	for (size_t i = 0; i < nroutes; i++) {
		if (!covered[i]) {
			print_message("no matrix row: %s %s\n", http_method_name(routes[i].method), routes[i].pattern);
			missing++;
		}
	}
	free(covered);
	if (missing > 0)
		fail_msg("%d of %zu routes have no row in the authorisation matrices", missing, nroutes);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route_has_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
