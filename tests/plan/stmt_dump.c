/* stmt_dump.c: prints the statement catalog (src/db/stmt.c) as "name TAB nparams TAB sql" lines, for the plan test (tests/api/plans.bats). */
#include <stdio.h>
#include <string.h>

#include "db/stmt.h"

int
main(int argc, char **argv)
{
	for (int i = 0; i < ST__COUNT; i++) {
		if (argc > 1 && strcmp(argv[1], stmts[i].name) != 0)
			continue;
		/* The catalog's SQL is one line each (C string pieces, no newline). */
		if (strchr(stmts[i].sql, '\n') != NULL || strchr(stmts[i].sql, '\t') != NULL) {
			fprintf(stderr, "stmt_dump: %s has a newline or tab in its SQL\n", stmts[i].name);
			return 1;
		}
		printf("%s\t%d\t%s\n", stmts[i].name, stmts[i].nparams, stmts[i].sql);
	}
	return 0;
}
