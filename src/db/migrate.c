/* migrate.c: apply numbered SQL files once each, in order, each in its own transaction. */
#include "db/migrate.h"
#include "core/log.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#define MIGRATIONS_MAX 1000

static const char sql_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version text PRIMARY KEY, checksum text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";
static const char sql_no_timeouts[] =
	"SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0";
static const char sql_lock[] = "SELECT pg_advisory_lock(hashtext('tenantry.migrate'))";
static const char sql_applied[] = "SELECT checksum FROM schema_migrations WHERE version = $1";
static const char sql_record[] = "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)";

static bool
is_migration(const char *n)
{
	size_t l = strlen(n);

	return l > 8 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' &&
	    n[2] >= '0' && n[2] <= '9' && n[3] == '_' && strcmp(n + l - 4, ".sql") == 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) != NULL) {
		if (fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		} else {
			p[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return p;
}

static bool
ok(PGresult *res, const char *what, const char *file)
{
	ExecStatusType s = PQresultStatus(res);

	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return true;
	fprintf(stderr, "tenantryctl migrate: %s%s%s: %s", what, file ? " " : "", file ? file : "",
	    PQresultErrorMessage(res));
	return false;
}

static bool
exec_ok(PGconn *c, const char *sql, const char *what, const char *file)
{
	PGresult *res = PQexec(c, sql);
	bool r = ok(res, what, file);

	PQclear(res);
	return r;
}

static int
apply_one(PGconn *c, const char *dir, const char *name, FILE *out)
{
	char path[4096], sum[65];
	unsigned char md[32];
	unsigned int mdlen = 0;
	const char *params[2];
	PGresult *res;
	size_t len = 0;
	char *sql;
	int rc = 1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = slurp(path, &len)) == NULL) {
		fprintf(stderr, "tenantryctl migrate: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	EVP_Digest(sql, len, md, &mdlen, EVP_sha256(), NULL);
	core_hex(md, 32, sum);

	params[0] = name;
	res = PQexecParams(c, sql_applied, 1, NULL, params, NULL, NULL, 0);
	if (!ok(res, "reading schema_migrations", NULL))
		goto out;
	if (PQntuples(res) == 1) {
		if (strcmp(PQgetvalue(res, 0, 0), sum) != 0) {
			fprintf(stderr, "tenantryctl migrate: %s was changed after it was applied; "
			    "add a new migration instead\n", name);
			goto out;
		}
		rc = 0;
		goto out;
	}
	PQclear(res);
	res = NULL;
	if (!exec_ok(c, "BEGIN", "BEGIN", NULL))
		goto out;
	if (!exec_ok(c, sql, "applying", name)) {
		exec_ok(c, "ROLLBACK", "ROLLBACK", NULL);
		goto out;
	}
	params[1] = sum;
	res = PQexecParams(c, sql_record, 2, NULL, params, NULL, NULL, 0);
	if (!ok(res, "recording", name) || !exec_ok(c, "COMMIT", "COMMIT", name)) {
		exec_ok(c, "ROLLBACK", "ROLLBACK", NULL);
		goto out;
	}
	fprintf(out, "applied %s\n", name);
	rc = 0;
out:
	PQclear(res);
	free(sql);
	return rc;
}

int
db_migrate(const char *conninfo, const char *dir, FILE *out)
{
	char *names[MIGRATIONS_MAX];
	size_t n = 0;
	struct dirent *de;
	PGconn *c;
	DIR *d;
	int rc = 1;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "tenantryctl migrate: cannot open %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL && n < MIGRATIONS_MAX)
		if (is_migration(de->d_name))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);

	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "tenantryctl migrate: cannot connect: %s", PQerrorMessage(c));
		goto out;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	/*
	 * A migration may rewrite a big table or wait for a lock: it runs
	 * without the timeouts a role or the database may carry (the app
	 * role's are set after the migrations, by tenantryctl).
	 */
	if (!exec_ok(c, sql_no_timeouts, "clearing the session's timeouts", NULL))
		goto out;
	if (!exec_ok(c, sql_lock, "locking", NULL) || !exec_ok(c, sql_table, "creating schema_migrations", NULL))
		goto out;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = apply_one(c, dir, names[i], out);
	if (rc == 0)
		fprintf(out, "schema up to date (%zu migrations)\n", n);
out:
	PQfinish(c);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return rc;
}
