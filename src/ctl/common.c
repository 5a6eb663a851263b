/* common.c: what every tenantryctl command shares: error reporting, running a batch on the operator's connection. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "ctl/ctl.h"
#include "db/db.h"

int
ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("tenantryctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EX_FAIL;
}

enum db_status
ctl_exec(struct ctl *c, struct db_batch *b)
{
	enum db_status st = db_exec(c->db, c->a, b, "tenantryctl");

	if (st != DB_OK && st != DB_CONFLICT)
		ctl_fail("database error (%s)%s", b->sqlstate[0] ? b->sqlstate : "no connection",
		    st == DB_UNAVAILABLE ? ": is PostgreSQL running and the schema migrated?" : "");
	return st;
}
