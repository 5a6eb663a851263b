/* test_stmt.c: unit tests for src/db/stmt: every statement has a unique name, SQL, and the parameter count its SQL uses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "db/stmt.h"

/* The highest $N in sql (outside string literals, where "$" does not occur here). */
static int
max_param(const char *sql)
{
	int max = 0;

	for (const char *p = sql; (p = strchr(p, '$')) != NULL; p++) {
		if (isdigit((unsigned char)p[1])) {
			int n = atoi(p + 1);

			if (n > max)
				max = n;
		}
	}
	return max;
}

static void
catalog_complete(void **state)
{
	(void)state;
	for (int i = 0; i < ST__COUNT; i++) {
		if (stmts[i].name == NULL || stmts[i].sql == NULL)
			fail_msg("statement %d has no entry in stmts[] (enum stmt and stmt.c disagree)", i);
		for (int j = 0; j < i; j++)
			if (strcmp(stmts[i].name, stmts[j].name) == 0)
				fail_msg("two statements are named %s", stmts[i].name);
		if (max_param(stmts[i].sql) != stmts[i].nparams)
			fail_msg("%s: declares %d parameters, its SQL uses $%d", stmts[i].name,
			    stmts[i].nparams, max_param(stmts[i].sql));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(catalog_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
