/* ctl.c: tenantryctl, the operator CLI: migrate, create-user, create-tenant, add-member, seed-demo, notify, verify-counts, version. */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/jwt.h"
#include "auth/password.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "db/db.h"
#include "db/migrate.h"
#include "ctl/ctl.h"
#include "ctl/notify.h"

static bool
ctl_open(struct ctl *c, bool need_secret)
{
	char err[256];

	if (!config_load(&c->cfg, need_secret, err, sizeof(err))) {
		ctl_fail("%s", err);
		return false;
	}
	c->a = arena_new(64 * 1024);
	c->db = db_new(c->cfg.database_url, c->cfg.db_connect_timeout, c->cfg.db_deadline_ms,
	    "tenantryctl");
	return c->a != NULL && c->db != NULL;
}

static void
ctl_close(struct ctl *c)
{
	db_free(c->db);
	arena_free(c->a);
}

/* Read one line (the password) from stdin, without its newline. */
static char *
read_password(void)
{
	static char pw[AUTH_PASSWORD_MAX + 2];
	size_t n;

	if (fgets(pw, sizeof(pw), stdin) == NULL)
		return NULL;
	n = strlen(pw);
	if (n > 0 && pw[n - 1] == '\n')
		pw[--n] = '\0';
	if (n > 0 && pw[n - 1] == '\r')
		pw[--n] = '\0';
	return pw;
}

/* ---- migrate ------------------------------------------------------------ */

/* The app role's timeouts: defaults, their variables and flags (README, "Configuration"). */
#define ROLE_STATEMENT_TIMEOUT_MS 5000
#define ROLE_LOCK_TIMEOUT_MS      2000
#define ROLE_IDLE_TX_TIMEOUT_MS   30000
#define ROLE_TIMEOUT_MAX_MS       3600000
#define STR_(x) #x
#define STR(x)  STR_(x)

struct role_timeouts {
	const char *statement, *lock, *idle_tx;   /* ms, as given */
	int64_t     statement_ms, lock_ms, idle_tx_ms;
};

static bool
timeout_ok(const char *what, const char *v, int64_t *out)
{
	if (core_parse_i64(v, 1, ROLE_TIMEOUT_MAX_MS, out))
		return true;
	ctl_fail("%s must be a whole number of milliseconds from 1 to %d, not \"%s\"", what,
	    ROLE_TIMEOUT_MAX_MS, v);
	return false;
}

static const char *
env_ms(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

/*
 * ALTER ROLE ... SET for the role of TENANTRY_DATABASE_URL (the app role),
 * on its own connection: the owner role may not alter another role, every
 * role may set its own defaults (sql/008_timeouts.sql). Sessions begun
 * from now on take them; the workers' open connections keep theirs until
 * they reconnect (restart the workers to apply a change at once).
 */
static int
role_timeouts_apply(const struct role_timeouts *t)
{
	struct ctl c = { 0 };
	struct db_batch b = { .n = 0 };
	int64_t st = t->statement_ms, lk = t->lock_ms, it = t->idle_tx_ms;
	enum db_status ds;
	int rc = EX_FAIL;

	if (getenv("TENANTRY_DATABASE_URL") == NULL || *getenv("TENANTRY_DATABASE_URL") == '\0')
		return ctl_fail("set TENANTRY_DATABASE_URL (the app role) so that migrate can set its "
		    "timeouts, or pass --no-role-timeouts");
	if (!ctl_open(&c, false))
		goto out;
	db_add(&b, ST_ROLE_TIMEOUTS_SET, 3, t->statement, t->lock, t->idle_tx);
	ds = db_exec(c.db, c.a, &b, "tenantryctl");
	if (ds != DB_OK) {
		if (strcmp(b.sqlstate, "42501") == 0)
			ctl_fail("TENANTRY_DATABASE_URL connects as the schema's owner or a superuser; the "
			    "timeouts are for the app role (tenantry_app): point it there, or pass "
			    "--no-role-timeouts");
		else
			ctl_fail("could not set the app role's timeouts (database error %s)",
			    b.sqlstate[0] ? b.sqlstate : "no connection");
		goto out;
	}
	printf("app role %s: statement_timeout %lld ms, lock_timeout %lld ms, "
	    "idle_in_transaction_session_timeout %lld ms (new sessions)\n",
	    db_val(b.q[0].res, 0, 0) ? db_val(b.q[0].res, 0, 0) : "?",
	    (long long)st, (long long)lk, (long long)it);
	/* The server must cancel a slow statement before the worker gives up on its connection. */
	if (st >= c.cfg.db_deadline_ms || lk >= c.cfg.db_deadline_ms)
		fprintf(stderr, "tenantryctl migrate: warning: a statement or lock timeout of %lld ms is "
		    "not below the workers' TENANTRY_DB_DEADLINE_MS (%d ms): a slow statement will "
		    "cost the worker its connection instead of being cancelled\n",
		    (long long)(st > lk ? st : lk), c.cfg.db_deadline_ms);
	rc = EX_DONE;
out:
	ctl_close(&c);
	return rc;
}

static int
cmd_migrate(int argc, char **argv)
{
	const char *url = getenv("TENANTRY_MIGRATE_DATABASE_URL");
	const char *dir = getenv("TENANTRY_SQL_DIR");
	struct role_timeouts t = {
		.statement = env_ms("TENANTRY_APP_STATEMENT_TIMEOUT_MS", STR(ROLE_STATEMENT_TIMEOUT_MS)),
		.lock = env_ms("TENANTRY_APP_LOCK_TIMEOUT_MS", STR(ROLE_LOCK_TIMEOUT_MS)),
		.idle_tx = env_ms("TENANTRY_APP_IDLE_TX_TIMEOUT_MS", STR(ROLE_IDLE_TX_TIMEOUT_MS)),
	};
	static const struct option lo[] = { { "dir", required_argument, NULL, 'd' },
	    { "statement-timeout-ms", required_argument, NULL, 's' },
	    { "lock-timeout-ms", required_argument, NULL, 'l' },
	    { "idle-tx-timeout-ms", required_argument, NULL, 'i' },
	    { "no-role-timeouts", no_argument, NULL, 'n' },
	    { "help", no_argument, NULL, 'h' }, { 0 } };
	bool role = true;
	int o, rc;

	while ((o = getopt_long(argc, argv, "d:h", lo, NULL)) != -1) {
		if (o == 'd')
			dir = optarg;
		else if (o == 's')
			t.statement = optarg;
		else if (o == 'l')
			t.lock = optarg;
		else if (o == 'i')
			t.idle_tx = optarg;
		else if (o == 'n')
			role = false;
		else {
			printf("usage: tenantryctl migrate [--dir DIR] [--statement-timeout-ms MS]\n"
			    "       [--lock-timeout-ms MS] [--idle-tx-timeout-ms MS] [--no-role-timeouts]\n"
			    "Apply the SQL migrations in DIR (default $TENANTRY_SQL_DIR or ./sql) not yet\n"
			    "applied, each in one transaction. Connects with $TENANTRY_MIGRATE_DATABASE_URL\n"
			    "(the owner role), else $TENANTRY_DATABASE_URL.\n"
			    "Then sets the app role's (that of $TENANTRY_DATABASE_URL) statement_timeout,\n"
			    "lock_timeout and idle_in_transaction_session_timeout, in ms: the flags, else\n"
			    "$TENANTRY_APP_STATEMENT_TIMEOUT_MS, $TENANTRY_APP_LOCK_TIMEOUT_MS and\n"
			    "$TENANTRY_APP_IDLE_TX_TIMEOUT_MS, else %d, %d and %d.\n",
			    ROLE_STATEMENT_TIMEOUT_MS, ROLE_LOCK_TIMEOUT_MS, ROLE_IDLE_TX_TIMEOUT_MS);
			return o == 'h' ? EX_DONE : EX_USAGE;
		}
	}
	if (url == NULL || *url == '\0')
		url = getenv("TENANTRY_DATABASE_URL");
	if (url == NULL || *url == '\0')
		return ctl_fail("set TENANTRY_MIGRATE_DATABASE_URL (or TENANTRY_DATABASE_URL)");
	/* Every value checked before anything is changed. */
	if (role && (!timeout_ok("the statement timeout", t.statement, &t.statement_ms) ||
	    !timeout_ok("the lock timeout", t.lock, &t.lock_ms) ||
	    !timeout_ok("the idle-in-transaction timeout", t.idle_tx, &t.idle_tx_ms)))
		return EX_USAGE;
	if ((rc = db_migrate(url, dir && *dir ? dir : "sql", stdout)) != 0 || !role)
		return rc;
	return role_timeouts_apply(&t);
}

/* ---- users and tenants -------------------------------------------------- */

/*
 * Create a user (the caller holds the operator context). Returns EX_DONE,
 * EX_EXISTS (id of the existing user in id_out), or EX_FAIL.
 */
static int
user_create(struct ctl *c, const char *email, const char *name, const char *hash,
    bool superadmin, char id_out[UUID_LEN + 1])
{
	struct db_batch b = { .begin = true, .commit = true };
	enum db_status st;
	const char *id;

	db_add(&b, ST_AS_OPERATOR, 0);
	db_add(&b, ST_USER_CREATE, 9, email, name, hash, superadmin ? "true" : "false",
	    "system", NULL, "tenantryctl", "tenantryctl", NULL);
	st = ctl_exec(c, &b);
	db_rollback(c->db, NULL);
	if (st == DB_CONFLICT) {
		struct db_batch q = { 0 };

		db_add(&q, ST_AS_OPERATOR, 0);
		db_add(&q, ST_USER_ID_BY_EMAIL, 1, email);
		if (ctl_exec(c, &q) != DB_OK || (id = db_val(q.q[1].res, 0, 0)) == NULL)
			return EX_FAIL;
		snprintf(id_out, UUID_LEN + 1, "%s", id);
		return EX_EXISTS;
	}
	if (st != DB_OK || (id = db_val(b.q[1].res, 0, 1)) == NULL)
		return EX_FAIL;
	snprintf(id_out, UUID_LEN + 1, "%s", id);
	return EX_DONE;
}

static int
cmd_create_user(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = { { "email", required_argument, NULL, 'e' },
	    { "name", required_argument, NULL, 'n' }, { "superadmin", no_argument, NULL, 's' },
	    { "password-stdin", no_argument, NULL, 'p' }, { "exists-ok", no_argument, NULL, 'x' },
	    { "help", no_argument, NULL, 'h' }, { 0 } };
	const char *email = NULL, *name = NULL, *pw;
	bool superadmin = false, exists_ok = false;
	char hash[AUTH_HASH_MAX], id[UUID_LEN + 1];
	int o, rc;

	while ((o = getopt_long(argc, argv, "e:n:spxh", lo, NULL)) != -1) {
		switch (o) {
		case 'e': email = core_email_normalize(c->a, optarg); break;
		case 'n': name = optarg; break;
		case 's': superadmin = true; break;
		case 'p': break;
		case 'x': exists_ok = true; break;
		default:
			printf("usage: tenantryctl create-user --email EMAIL --name NAME [--superadmin]\n"
			    "                              [--password-stdin] [--exists-ok]\n"
			    "The password is read from the first line of standard input (never an argument,\n"
			    "which other users could see in ps). Exit 3 if the email exists, 0 with --exists-ok.\n");
			return o == 'h' ? EX_DONE : EX_USAGE;
		}
	}
	if (email == NULL || name == NULL || *name == '\0' || strlen(name) > 100)
		return ctl_fail("create-user needs a valid --email and a --name of 1-100 characters");
	if ((pw = read_password()) == NULL || strlen(pw) < AUTH_PASSWORD_MIN)
		return ctl_fail("the password (first line of stdin) must have at least %d characters",
		    AUTH_PASSWORD_MIN);
	if (!auth_password_hash(pw, strlen(pw), hash))
		return ctl_fail("hashing the password failed");
	rc = user_create(c, email, name, hash, superadmin, id);
	if (rc == EX_EXISTS) {
		fprintf(stderr, "tenantryctl: user %s already exists (%s)%s\n", email, id,
		    exists_ok ? "; left as it is" : "");
		return exists_ok ? EX_DONE : EX_EXISTS;
	}
	if (rc == EX_DONE)
		printf("%s\n", id);
	return rc;
}

/* Find a tenant by id or slug into id_out. */
static bool
tenant_find(struct ctl *c, const char *ref, char id_out[UUID_LEN + 1])
{
	struct db_batch b = { 0 };
	const char *id;

	if (core_uuid_valid(ref)) {
		core_uuid_lower(ref, id_out);
		return true;
	}
	db_add(&b, ST_AS_OPERATOR, 0);
	db_add(&b, ST_TENANT_ID_BY_SLUG, 1, ref);
	if (ctl_exec(c, &b) != DB_OK || (id = db_val(b.q[1].res, 0, 0)) == NULL)
		return false;
	snprintf(id_out, UUID_LEN + 1, "%s", id);
	return true;
}

static int
tenant_create(struct ctl *c, const char *name, const char *slug, const char *tier,
    char id_out[UUID_LEN + 1])
{
	struct db_batch b = { 0 };
	enum db_status st;
	const char *id;

	db_add(&b, ST_AS_OPERATOR, 0);
	db_add(&b, ST_TENANT_CREATE, 5, name, slug, tier, "tenantryctl", "tenantryctl");
	st = ctl_exec(c, &b);
	if (st == DB_CONFLICT)
		return tenant_find(c, slug, id_out) ? EX_EXISTS : EX_FAIL;
	if (st != DB_OK || (id = db_val(b.q[1].res, 0, 0)) == NULL)
		return EX_FAIL;
	snprintf(id_out, UUID_LEN + 1, "%s", id);
	return EX_DONE;
}

/* Add (or re-role) a member, with its audit row, in one transaction. */
static int
member_add(struct ctl *c, const char *tenant_id, const char *user_id, const char *role)
{
	struct db_batch b = { 0 };
	char after[64];

	snprintf(after, sizeof(after), "{\"role\": \"%s\"}", role);
	db_add(&b, ST_AS_OPERATOR, 0);
	db_add(&b, ST_SET_TENANT, 1, tenant_id);
	db_add(&b, ST_MEMBER_UPSERT, 2, user_id, role);
	db_add(&b, ST_AUDIT, 11, tenant_id, "system", NULL, "tenantryctl", "member.added", "user",
	    user_id, NULL, after, "tenantryctl", NULL);
	return ctl_exec(c, &b) == DB_OK ? EX_DONE : EX_FAIL;
}

static int
cmd_create_tenant(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = { { "name", required_argument, NULL, 'n' },
	    { "slug", required_argument, NULL, 's' }, { "tier", required_argument, NULL, 't' },
	    { "owner-email", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	const char *name = NULL, *tier = "free", *owner = NULL;
	char slug[64] = "", id[UUID_LEN + 1], uid[UUID_LEN + 1];
	struct db_batch b = { 0 };
	int o, rc;

	while ((o = getopt_long(argc, argv, "n:s:t:o:h", lo, NULL)) != -1) {
		switch (o) {
		case 'n': name = optarg; break;
		case 's': snprintf(slug, sizeof(slug), "%s", optarg); break;
		case 't': tier = optarg; break;
		case 'o': owner = core_email_normalize(c->a, optarg); break;
		default:
			printf("usage: tenantryctl create-tenant --name NAME [--slug SLUG] [--tier TIER]\n"
			    "                                [--owner-email EMAIL]\n"
			    "Prints the new tenant's id. The slug is derived from the name when absent.\n"
			    "Exit 3 if the slug is taken.\n");
			return o == 'h' ? EX_DONE : EX_USAGE;
		}
	}
	if (name == NULL || strlen(name) < 3 || strlen(name) > 100)
		return ctl_fail("create-tenant needs a --name of 3-100 characters");
	if (slug[0] == '\0')
		core_slugify(name, slug);
	if (!core_slug_valid(slug, strlen(slug)))
		return ctl_fail("the slug must be lower-case letters, digits and '-' (1-63)");
	if (owner != NULL) {
		db_add(&b, ST_AS_OPERATOR, 0);
		db_add(&b, ST_USER_ID_BY_EMAIL, 1, owner);
		if (ctl_exec(c, &b) != DB_OK || db_val(b.q[1].res, 0, 0) == NULL)
			return ctl_fail("no user with email %s (create it first)", owner);
		snprintf(uid, sizeof(uid), "%s", db_val(b.q[1].res, 0, 0));
	}
	rc = tenant_create(c, name, slug, tier, id);
	if (rc == EX_EXISTS) {
		fprintf(stderr, "tenantryctl: a tenant with slug %s already exists (%s)\n", slug, id);
		return EX_EXISTS;
	}
	if (rc != EX_DONE)
		return rc;
	if (owner != NULL && member_add(c, id, uid, "owner") != EX_DONE)
		return EX_FAIL;
	printf("%s\n", id);
	return EX_DONE;
}

static int
cmd_add_member(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = { { "tenant", required_argument, NULL, 't' },
	    { "email", required_argument, NULL, 'e' }, { "role", required_argument, NULL, 'r' },
	    { "help", no_argument, NULL, 'h' }, { 0 } };
	const char *tenant = NULL, *email = NULL, *role = NULL;
	char tid[UUID_LEN + 1];
	struct db_batch b = { 0 };
	const char *uid;
	int o;

	while ((o = getopt_long(argc, argv, "t:e:r:h", lo, NULL)) != -1) {
		switch (o) {
		case 't': tenant = optarg; break;
		case 'e': email = core_email_normalize(c->a, optarg); break;
		case 'r': role = optarg; break;
		default:
			printf("usage: tenantryctl add-member --tenant ID|SLUG --email EMAIL --role ROLE\n"
			    "ROLE is owner, admin, member or viewer; an existing member gets the new role.\n");
			return o == 'h' ? EX_DONE : EX_USAGE;
		}
	}
	if (tenant == NULL || email == NULL || auth_role_parse(role) == ROLE_NONE)
		return ctl_fail("add-member needs --tenant, a valid --email and --role owner|admin|member|viewer");
	if (!tenant_find(c, tenant, tid))
		return ctl_fail("no tenant %s", tenant);
	db_add(&b, ST_AS_OPERATOR, 0);
	db_add(&b, ST_USER_ID_BY_EMAIL, 1, email);
	if (ctl_exec(c, &b) != DB_OK || (uid = db_val(b.q[1].res, 0, 0)) == NULL)
		return ctl_fail("no user with email %s", email);
	if (member_add(c, tid, uid, role) != EX_DONE)
		return ctl_fail("could not add the member (does the tenant exist?)");
	printf("%s is %s of %s\n", email, role, tid);
	return EX_DONE;
}

/* ---- seed-demo ------------------------------------------------------------ */

struct demo_user {
	const char *email, *name, *role;
};

static const struct {
	const char *name, *slug, *tier;
	double      level;   /* share of the tier's limits in use */
	struct demo_user users[4];
} demo[] = {
	{ "Acme Corporation", "acme", "business", 0.45, {
		{ "alice@acme.example", "Alice Owner", "owner" },
		{ "adam@acme.example", "Adam Admin", "admin" },
		{ "mia@acme.example", "Mia Member", "member" },
		{ "victor@acme.example", "Victor Viewer", "viewer" } } },
	{ "Globex Inc", "globex", "starter", 0.85, {
		{ "gina@globex.example", "Gina Owner", "owner" },
		{ "alice@acme.example", "Alice Owner", "admin" },
		{ "gus@globex.example", "Gus Member", "member" },
		{ "greta@globex.example", "Greta Viewer", "viewer" } } },
	{ "Initech", "initech", "free", 0.97, {
		{ "ivan@initech.example", "Ivan Owner", "owner" },
		{ "mia@acme.example", "Mia Member", "viewer" },
		{ NULL, NULL, NULL }, { NULL, NULL, NULL } } },
};

#define DEMO_PASSWORD "demo-password"

static int
seed_usage(struct ctl *c, const char *tid, int months, double level)
{
	struct db_batch b = { .begin = true, .commit = true };
	char m[16], l[32];

	snprintf(m, sizeof(m), "%d", months);
	snprintf(l, sizeof(l), "%.3f", level);
	db_add(&b, ST_SET_TENANT, 1, tid);
	db_add(&b, ST_SEED_USAGE, 2, m, l);
	if (ctl_exec(c, &b) != DB_OK) {
		db_rollback(c->db, NULL);
		return EX_FAIL;
	}
	return EX_DONE;
}

/* The small, fixed demo: three workspaces a new user can click through. */
static int
seed_fixed(struct ctl *c, const char *hash, int months)
{
	for (size_t t = 0; t < sizeof(demo) / sizeof(demo[0]); t++) {
		char tid[UUID_LEN + 1], uid[UUID_LEN + 1];
		int rc = tenant_create(c, demo[t].name, demo[t].slug, demo[t].tier, tid);

		if (rc == EX_EXISTS) {
			printf("demo tenant %s exists; left as it is\n", demo[t].slug);
			continue;
		}
		if (rc != EX_DONE)
			return rc;
		for (size_t u = 0; u < 4 && demo[t].users[u].email; u++) {
			const struct demo_user *du = &demo[t].users[u];

			rc = user_create(c, du->email, du->name, hash, false, uid);
			if ((rc != EX_DONE && rc != EX_EXISTS) || member_add(c, tid, uid, du->role) != EX_DONE)
				return EX_FAIL;
		}
		if (seed_usage(c, tid, months, demo[t].level) != EX_DONE)
			return EX_FAIL;
		printf("demo tenant %-8s %-9s %s\n", demo[t].slug, demo[t].tier, tid);
	}
	printf("demo users (password \"%s\"): alice@acme.example (owner of acme, admin of globex), "
	    "adam@acme.example, mia@acme.example, victor@acme.example, gina@globex.example, "
	    "ivan@initech.example\n", DEMO_PASSWORD);
	return EX_DONE;
}

/*
 * The benchmark data set: n tenants of m members each, k months of usage.
 * With tokens, writes "tenant_id token" lines: a tenant-scoped token of a
 * random member of each tenant, for load tests.
 */
static int
seed_bulk(struct ctl *c, const char *hash, int n, int m, int months, const char *tokens)
{
	static const char *const tiers[] = { "free", "starter", "business", "enterprise" };
	static const char *const roles[] = { "owner", "admin", "member", "viewer" };
	FILE *tf = NULL;
	int rc = EX_DONE;

	if (tokens != NULL && (tf = fopen(tokens, "w")) == NULL)
		return ctl_fail("cannot write %s", tokens);
	for (int t = 0; t < n && rc == EX_DONE; t++) {
		char name[64], slug[64], tid[UUID_LEN + 1], pick[UUID_LEN + 1] = "";
		int r;

		snprintf(name, sizeof(name), "Bench Tenant %05d", t);
		snprintf(slug, sizeof(slug), "bench-%05d", t);
		r = tenant_create(c, name, slug, tiers[t % 4], tid);
		if (r != EX_DONE && r != EX_EXISTS)
			rc = EX_FAIL;
		for (int u = 0; u < m && rc == EX_DONE; u++) {
			char email[96], uname[64], uid[UUID_LEN + 1];

			snprintf(email, sizeof(email), "user%05d.%04d@bench.example", t, u);
			snprintf(uname, sizeof(uname), "Bench User %d.%d", t, u);
			r = user_create(c, email, uname, hash, false, uid);
			if ((r != EX_DONE && r != EX_EXISTS) ||
			    member_add(c, tid, uid, roles[u < 2 ? u : 2 + u % 2]) != EX_DONE)
				rc = EX_FAIL;
			else if (u == 0 || rand() % (u + 1) == 0)
				memcpy(pick, uid, sizeof(pick));
		}
		if (rc == EX_DONE && months > 0)
			rc = seed_usage(c, tid, months, 0.2 + 0.7 * (double)(t % 10) / 10.0);
		if (rc == EX_DONE && tf != NULL && pick[0] != '\0') {
			char *tok = auth_jwt_issue(&(struct jwt_key){ c->cfg.jwt_secret,
			    c->cfg.jwt_secret_len, c->cfg.jwt_issuer }, JWT_TENANT, pick, tid,
			    time(NULL), 24 * 3600);

			if (tok == NULL)
				rc = ctl_fail("issuing a token failed");
			else
				fprintf(tf, "%s %s\n", tid, tok);
			free(tok);
		}
		arena_reset(c->a);
	}
	if (tf != NULL && fclose(tf) != 0)
		rc = ctl_fail("writing %s failed", tokens);
	if (rc == EX_DONE)
		printf("seeded %d tenants x %d members, %d months of usage%s%s\n", n, m, months,
		    tokens ? "; tokens in " : "", tokens ? tokens : "");
	return rc;
}

static int
cmd_seed_demo(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = { { "tenants", required_argument, NULL, 't' },
	    { "users", required_argument, NULL, 'u' }, { "months", required_argument, NULL, 'm' },
	    { "tokens", required_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	int64_t n = 0, m = 5, months = 3;
	const char *tokens = NULL;
	char hash[AUTH_HASH_MAX];
	int o;

	while ((o = getopt_long(argc, argv, "t:u:m:k:h", lo, NULL)) != -1) {
		switch (o) {
		case 't': if (!core_parse_i64(optarg, 1, 100000, &n)) return ctl_fail("--tenants: 1..100000"); break;
		case 'u': if (!core_parse_i64(optarg, 1, 10000, &m)) return ctl_fail("--users: 1..10000"); break;
		case 'm': if (!core_parse_i64(optarg, 0, 36, &months)) return ctl_fail("--months: 0..36"); break;
		case 'k': tokens = optarg; break;
		default:
			printf("usage: tenantryctl seed-demo [--tenants N --users M --months K --tokens FILE]\n"
			    "Without --tenants: three demo workspaces (acme, globex, initech) with members\n"
			    "and K (default 3) months of usage; idempotent. With --tenants: N benchmark\n"
			    "tenants (bench-00000...) of M members each; --tokens writes one tenant-scoped\n"
			    "token (24 h) of a random member per tenant, as \"tenant_id token\" lines.\n");
			return o == 'h' ? EX_DONE : EX_USAGE;
		}
	}
	if (tokens != NULL && c->cfg.jwt_secret_len == 0)
		return ctl_fail("--tokens needs TENANTRY_JWT_SECRET_FILE");
	/* Every seeded user shares one hash: hashing thousands would take minutes. */
	if (!auth_password_hash(DEMO_PASSWORD, strlen(DEMO_PASSWORD), hash))
		return ctl_fail("hashing failed");
	srand((unsigned)time(NULL));
	if (n > 0)
		return seed_bulk(c, hash, (int)n, (int)m, (int)months, tokens);
	return seed_fixed(c, hash, (int)months);
}

/* ---- verify-counts ------------------------------------------------------ */

/*
 * Recompute every maintained count (members and API keys per tenant, the
 * fleet by tier and status, the search copy of names and slugs) and print
 * each one that drifted; with --fix, set it right in the same transaction.
 * Exit 0 when nothing drifted (or everything was fixed), 1 otherwise.
 */
static int
cmd_verify_counts(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = { { "fix", no_argument, NULL, 'f' },
	    { "help", no_argument, NULL, 'h' }, { 0 } };
	struct db_batch b = { .begin = true, .commit = true };
	bool fix = false;
	int o, n;

	while ((o = getopt_long(argc, argv, "fh", lo, NULL)) != -1) {
		if (o == 'f')
			fix = true;
		else {
			printf("usage: tenantryctl verify-counts [--fix]\n"
			    "Recompute every count the API shows from a maintained row (members, API keys,\n"
			    "the fleet by tier and status, the tenant search copy) and print each drift as\n"
			    "TENANT SLUG WHAT STORED ACTUAL. Exit 1 on drift; --fix sets the stored counts\n"
			    "to the actual ones (and exits 0). Run it nightly, or after a manual repair.\n");
			return o == 'h' ? EX_DONE : EX_USAGE;
		}
	}
	db_add(&b, ST_AS_OPERATOR, 0);
	db_add(&b, ST_VERIFY_COUNTS, 1, fix ? "true" : "false");
	if (ctl_exec(c, &b) != DB_OK)
		return EX_FAIL;
	n = db_rows(b.q[1].res);
	for (int i = 0; i < n; i++) {
		const char *tid = db_val(b.q[1].res, i, 0), *slug = db_val(b.q[1].res, i, 1);

		printf("%s %s %s %s %s\n", tid ? tid : "-", slug ? slug : "-", db_val(b.q[1].res, i, 2),
		    db_val(b.q[1].res, i, 3), db_val(b.q[1].res, i, 4));
	}
	fprintf(stderr, "tenantryctl: %d count%s drifted%s\n", n, n == 1 ? "" : "s",
	    n > 0 && fix ? "; fixed" : "");
	return n == 0 || fix ? EX_DONE : EX_FAIL;
}

/* ---- main --------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f, "usage: tenantryctl COMMAND [OPTIONS]   (COMMAND --help for its options)\n"
	    "  migrate        apply SQL migrations\n"
	    "  create-user    create a user (password on stdin)\n"
	    "  create-tenant  create a tenant\n"
	    "  add-member     add a user to a tenant with a role\n"
	    "  seed-demo      demo workspaces, or a benchmark data set\n"
	    "  notify         deliver usage notifications (email and webhooks)\n"
	    "  verify-counts  recompute the maintained counts, report (--fix: repair) drift\n"
	    "  version        print the version\n"
	    "Environment: TENANTRY_DATABASE_URL, TENANTRY_MIGRATE_DATABASE_URL, TENANTRY_SQL_DIR,\n"
	    "TENANTRY_APP_STATEMENT_TIMEOUT_MS, TENANTRY_APP_LOCK_TIMEOUT_MS,\n"
	    "TENANTRY_APP_IDLE_TX_TIMEOUT_MS (migrate), TENANTRY_DB_DEADLINE_MS,\n"
	    "TENANTRY_JWT_SECRET_FILE (seed-demo --tokens, notify), TENANTRY_SENDMAIL,\n"
	    "TENANTRY_WEBHOOK_CA_FILE, TENANTRY_WEBHOOK_ALLOW_PRIVATE (notify).\n");
}

int
main(int argc, char **argv)
{
	struct ctl c = { 0 };
	const char *cmd;
	int rc;

	log_set_program("tenantryctl");
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("tenantryctl %s\n", PACKAGE_VERSION);
		return EX_DONE;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return EX_DONE;
	}
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(argc, argv);

	if (strcmp(cmd, "create-user") != 0 && strcmp(cmd, "create-tenant") != 0 &&
	    strcmp(cmd, "add-member") != 0 && strcmp(cmd, "seed-demo") != 0 &&
	    strcmp(cmd, "notify") != 0 && strcmp(cmd, "verify-counts") != 0) {
		fprintf(stderr, "tenantryctl: unknown command %s\n", cmd);
		usage(stderr);
		return EX_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			goto dispatch;   /* help needs no database */
	if (!ctl_open(&c, strcmp(cmd, "notify") == 0))   /* notify signs webhooks */
		return EX_FAIL;
dispatch:
	if (c.a == NULL && (c.a = arena_new(4096)) == NULL)
		return EX_FAIL;
	if (strcmp(cmd, "create-user") == 0)
		rc = cmd_create_user(&c, argc, argv);
	else if (strcmp(cmd, "create-tenant") == 0)
		rc = cmd_create_tenant(&c, argc, argv);
	else if (strcmp(cmd, "add-member") == 0)
		rc = cmd_add_member(&c, argc, argv);
	else if (strcmp(cmd, "notify") == 0)
		rc = cmd_notify(&c, argc, argv);
	else if (strcmp(cmd, "verify-counts") == 0)
		rc = cmd_verify_counts(&c, argc, argv);
	else
		rc = cmd_seed_demo(&c, argc, argv);
	ctl_close(&c);
	return rc;
}
