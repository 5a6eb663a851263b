/* config.c: process configuration read once from the environment. */
#include "core/config.h"
#include "core/netaddr.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : def;
}

static bool
env_int(const char *name, int def, int min, int max, int *out, char *err, size_t errlen)
{
	const char *v = getenv(name);
	int64_t n;

	if (v == NULL || *v == '\0') {
		*out = def;
		return true;
	}
	if (!core_parse_i64(v, min, max, &n)) {
		snprintf(err, errlen, "%s must be an integer in %d..%d", name, min, max);
		return false;
	}
	*out = (int)n;
	return true;
}

bool
config_read_secret(const char *path, unsigned char *out, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open secret file %s: %s", path, strerror(errno));
		return false;
	}
	while (n < cap && (r = read(fd, out + n, cap - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "cannot read secret file %s: %s", path, strerror(errno));
			close(fd);
			OPENSSL_cleanse(out, cap);
			return false;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n == cap) {
		snprintf(err, errlen, "secret file %s is larger than %zu bytes", path, cap - 1);
		OPENSSL_cleanse(out, cap);
		return false;
	}
	if (n > 0 && out[n - 1] == '\n')
		n--;
	if (n < JWT_SECRET_MIN) {
		snprintf(err, errlen, "secret file %s holds %zu bytes; at least %d are required",
		    path, n, JWT_SECRET_MIN);
		OPENSSL_cleanse(out, cap);
		return false;
	}
	*len = n;
	return true;
}

/* Every entry of TENANTRY_TRUSTED_PROXIES must be a CIDR: a typo must not trust the world or no one silently. */
static bool
trusted_ok(const char *list, char *err, size_t errlen)
{
	char bad[64];

	if (core_cidr_list_valid(list, bad, sizeof(bad)))
		return true;
	snprintf(err, errlen, "TENANTRY_TRUSTED_PROXIES: '%s' is not an IPv4 or IPv6 CIDR", bad);
	return false;
}

bool
config_load(struct config *cfg, bool need_secret, char *err, size_t errlen)
{
	const char *secret_file;
	int exempt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->database_url = getenv("TENANTRY_DATABASE_URL");
	if (cfg->database_url == NULL || *cfg->database_url == '\0') {
		snprintf(err, errlen, "TENANTRY_DATABASE_URL is not set");
		return false;
	}
	cfg->jwt_issuer = env_or("TENANTRY_JWT_ISSUER", "tenantry");
	cfg->public_url = env_or("TENANTRY_PUBLIC_URL", "https://127.0.0.1:8443");
	cfg->template_dir = env_or("TENANTRY_TEMPLATE_DIR", "templates");
	cfg->sendmail = env_or("TENANTRY_SENDMAIL", NULL);
	cfg->token_ttl = 900;
	if (!env_int("TENANTRY_DB_CONNECT_TIMEOUT", 2, 2, 60, &cfg->db_connect_timeout, err, errlen) ||
	    !env_int("TENANTRY_DB_DEADLINE_MS", CONFIG_DB_DEADLINE_MS, 500, 600000, &cfg->db_deadline_ms,
	        err, errlen))
		return false;
	cfg->listen_url = env_or("TENANTRY_LISTEN_DATABASE_URL", cfg->database_url);
	/* SPEC §2 and §5 set the ceilings: no entry older than 2 s, counts flushed every 100 ms. */
	if (!env_int("TENANTRY_CACHE_ENTRIES", 8192, 0, 1000000, &cfg->cache_entries, err, errlen) ||
	    !env_int("TENANTRY_CACHE_MB", 4, 1, 1024, &cfg->cache_mb, err, errlen) ||
	    !env_int("TENANTRY_CACHE_TTL_MS", 2000, 1, 2000, &cfg->cache_ttl_ms, err, errlen) ||
	    !env_int("TENANTRY_CACHE_MAX_AGE_MS", 60000, 1, 600000, &cfg->cache_max_age_ms, err, errlen) ||
	    !env_int("TENANTRY_RATE_FLUSH_MS", 100, 1, 100, &cfg->rate_flush_ms, err, errlen))
		return false;
	cfg->trusted_proxies = env_or("TENANTRY_TRUSTED_PROXIES", NULL);
	if (!trusted_ok(cfg->trusted_proxies, err, errlen))
		return false;
	if (!env_int("TENANTRY_ALLOWLIST_EXEMPT_SUPERADMIN", 0, 0, 1, &exempt, err, errlen))
		return false;
	cfg->allowlist_exempt_superadmin = exempt == 1;

	secret_file = getenv("TENANTRY_JWT_SECRET_FILE");
	if (secret_file == NULL || *secret_file == '\0') {
		if (!need_secret)
			return true;
		snprintf(err, errlen, "TENANTRY_JWT_SECRET_FILE is not set; "
		    "there is no built-in secret (create one: openssl rand -base64 48 > FILE)");
		return false;
	}
	return config_read_secret(secret_file, cfg->jwt_secret, sizeof(cfg->jwt_secret),
	    &cfg->jwt_secret_len, err, errlen);
}
