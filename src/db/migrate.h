/* migrate.h: apply numbered SQL files once each, in order, each in its own transaction. */
#ifndef TENANTRY_MIGRATE_H
#define TENANTRY_MIGRATE_H

#include <stdio.h>

/*
 * Apply every NNN_name.sql file of dir not yet recorded in
 * schema_migrations, in name order, each with its record in one
 * transaction, under an advisory lock so two migrators never race. A file
 * changed after it was applied is an error (its checksum is recorded).
 * Progress goes to out. Returns 0, or 1 with the reason on stderr.
 */
int db_migrate(const char *conninfo, const char *dir, FILE *out);

#endif
