/* members.h: the owner rules for changing who belongs to a tenant, as one pure function. */
#ifndef TENANTRY_MEMBERS_H
#define TENANTRY_MEMBERS_H

#include <stdbool.h>

#include "auth/auth.h"

/* A membership change, with what the rules need to know about it. */
struct member_change {
	enum role actor;       /* the caller's role in the tenant (ROLE_NONE for a superadmin non-member) */
	bool      superadmin;
	bool      self;        /* the caller changes their own membership */
	enum role from;        /* the target's role now; ROLE_NONE: not a member (or a new invitee) */
	enum role to;          /* the new role; ROLE_NONE: removal */
	long      owners;      /* owners the tenant has now */
	bool      invite;      /* an invitation (from is ROLE_NONE by design) */
};

struct member_verdict {
	int         status;    /* 0 allowed, else 403, 404 or 409 */
	const char *code;
	const char *message;
};

/*
 * SPEC §2 owner rules, in one place: only an owner (or a superadmin) grants,
 * changes or removes the owner role; nobody raises their own role; the last
 * owner can be neither demoted nor removed (409); a change to someone who is
 * not a member is 404. The route's capability (admin and up) is checked
 * before, by auth_authorize().
 */
struct member_verdict auth_member_change(const struct member_change *c);

#endif
