/* auth.c: names and orderings of roles and capabilities. */
#include "auth/auth.h"

#include <string.h>

static const char *const role_names[] = {
	[ROLE_NONE] = NULL, [ROLE_VIEWER] = "viewer", [ROLE_MEMBER] = "member",
	[ROLE_ADMIN] = "admin", [ROLE_OWNER] = "owner",
};

const char *
auth_role_name(enum role r)
{
	return (r > ROLE_NONE && r <= ROLE_OWNER) ? role_names[r] : NULL;
}

enum role
auth_role_parse(const char *s)
{
	for (int r = ROLE_VIEWER; s != NULL && r <= ROLE_OWNER; r++)
		if (strcmp(s, role_names[r]) == 0)
			return (enum role)r;
	return ROLE_NONE;
}

/* The capability table of SPEC §2, as data. */
static const struct {
	const char *name;
	enum role   min_role;   /* ROLE_NONE: not a tenant capability */
} caps[CAP__COUNT] = {
	[CAP_PUBLIC]           = { "public", ROLE_NONE },
	[CAP_PRINCIPAL]        = { "principal", ROLE_NONE },
	[CAP_SUPERADMIN]       = { "superadmin", ROLE_NONE },
	[CAP_TENANT_READ]      = { "tenant.read", ROLE_VIEWER },
	[CAP_TENANT_SENSITIVE] = { "tenant.read_sensitive", ROLE_ADMIN },
	[CAP_TENANT_WRITE]     = { "tenant.write", ROLE_ADMIN },
	[CAP_MEMBERS_MANAGE]   = { "members.manage", ROLE_ADMIN },
	[CAP_KEYS_MANAGE]      = { "api_keys.manage", ROLE_ADMIN },
	[CAP_BILLING_READ]     = { "billing.read", ROLE_ADMIN },
	[CAP_USAGE_WRITE]      = { "usage.write", ROLE_ADMIN },
};

const char *
auth_cap_name(enum cap c)
{
	return c < CAP__COUNT ? caps[c].name : "unknown";
}

enum role
auth_cap_min_role(enum cap c)
{
	return c < CAP__COUNT ? caps[c].min_role : ROLE_NONE;
}

unsigned
auth_scopes_parse(const char *s)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "read", SCOPE_READ }, { "write", SCOPE_WRITE }, { "usage:write", SCOPE_USAGE },
	};
	unsigned bits = 0;

	while (s != NULL && *s != '\0') {
		size_t n = strcspn(s, " ");
		unsigned bit = 0;

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && strncmp(s, names[i].name, n) == 0)
				bit = names[i].bit;
		if (bit == 0)
			return 0;
		bits |= bit;
		s += n;
		s += strspn(s, " ");
	}
	return bits;
}
