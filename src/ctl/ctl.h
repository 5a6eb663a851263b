/* ctl.h: what the tenantryctl commands share: the operator's connection, exit codes, error reporting (common.c). */
#ifndef TENANTRY_CTL_H
#define TENANTRY_CTL_H

#include "core/arena.h"
#include "core/config.h"
#include "db/db.h"

/* Exit codes: 0 done, 1 failed, 2 usage error, 3 already exists. */
enum { EX_DONE = 0, EX_FAIL = 1, EX_USAGE = 2, EX_EXISTS = 3 };

struct ctl {
	struct config cfg;
	struct db    *db;
	struct arena *a;
};

/* "tenantryctl: <message>" on stderr; returns EX_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Run a batch (the caller adds ST_AS_OPERATOR for the superadmin context,
 * ST_SET_TENANT for a tenant); reports a database failure on stderr.
 */
enum db_status ctl_exec(struct ctl *c, struct db_batch *b);

#endif
