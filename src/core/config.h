/* config.h: process configuration read once from the environment. */
#ifndef TENANTRY_CONFIG_H
#define TENANTRY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * TENANTRY_DB_DEADLINE_MS: the longest the worker waits for PostgreSQL's
 * answer to one round trip (a batch) before it drops the connection and
 * answers 503. Above the app role's statement_timeout (5 s), so a slow
 * statement is cancelled by the server first and the connection kept;
 * below nginx's fastcgi_read_timeout (30 s), so the client hears the
 * worker's 503 and not nginx's 504.
 */
#define CONFIG_DB_DEADLINE_MS 10000

#define JWT_SECRET_MIN 32
#define JWT_SECRET_MAX 4096

/*
 * Read at start-up and never changed: workers hold no other state that
 * matters. Strings point into the environment or into the struct.
 */
struct config {
	const char   *database_url;    /* TENANTRY_DATABASE_URL (libpq conninfo) */
	unsigned char jwt_secret[JWT_SECRET_MAX];
	size_t        jwt_secret_len;
	const char   *jwt_issuer;      /* TENANTRY_JWT_ISSUER, default "tenantry" */
	const char   *public_url;      /* TENANTRY_PUBLIC_URL */
	const char   *template_dir;    /* TENANTRY_TEMPLATE_DIR */
	const char   *sendmail;        /* TENANTRY_SENDMAIL, may be NULL */
	int           token_ttl;       /* seconds, 900 */
	int           db_connect_timeout; /* seconds, TENANTRY_DB_CONNECT_TIMEOUT, 2 */
	int           db_deadline_ms;  /* TENANTRY_DB_DEADLINE_MS, CONFIG_DB_DEADLINE_MS */
	/* The worker's cache (SPEC §2) and batched rate counting (SPEC §5). */
	const char   *listen_url;      /* TENANTRY_LISTEN_DATABASE_URL, default database_url */
	int           cache_entries;   /* TENANTRY_CACHE_ENTRIES, 8192; 0 turns the cache off */
	int           cache_mb;        /* TENANTRY_CACHE_MB, 4: keys and values at most */
	int           cache_ttl_ms;    /* TENANTRY_CACHE_TTL_MS, 2000 (at most 2000): unrevalidated */
	int           cache_max_age_ms; /* TENANTRY_CACHE_MAX_AGE_MS, 60000: revalidated or not */
	int           rate_flush_ms;   /* TENANTRY_RATE_FLUSH_MS, 100 (at most 100) */
	/*
	 * The client address (core/netaddr.h): X-Forwarded-For is believed only
	 * from these proxies (TENANTRY_TRUSTED_PROXIES, CIDRs; default none).
	 */
	const char   *trusted_proxies;
	/* TENANTRY_ALLOWLIST_EXEMPT_SUPERADMIN=1: a workspace's IP allow-list does not hold superadmins. */
	bool          allowlist_exempt_superadmin;
};

/*
 * Fill cfg from the environment. need_secret: the worker refuses to start
 * without a secret file; the CLI only needs one to mint tokens. On failure
 * writes a one-line reason (never the secret) to err and returns false.
 */
bool config_load(struct config *cfg, bool need_secret, char *err, size_t errlen);

/* Read a secret file: the bytes with one trailing newline removed. */
bool config_read_secret(const char *path, unsigned char *out, size_t cap,
    size_t *len, char *err, size_t errlen);

#endif
