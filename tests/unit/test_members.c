/* test_members.c: unit tests for src/auth/members: the SPEC §2 owner rules, as one data table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "auth/members.h"

/*
 * Each row is one membership change and the status auth_member_change()
 * must give it. ROLE_NONE as the actor is a superadmin who is not a
 * member; as "from" a user who is not a member (or an invitee); as "to" a
 * removal. The route has already checked the caller is admin or above.
 */

#define NO ROLE_NONE
#define VW ROLE_VIEWER
#define MB ROLE_MEMBER
#define AD ROLE_ADMIN
#define OW ROLE_OWNER

struct mcase {
	const char *what;
	enum role   actor;
	bool        superadmin;
	bool        self;
	enum role   from;
	enum role   to;
	long        owners;
	bool        invite;
	int         want;        /* 0, 403, 404 or 409 */
};

static const struct mcase mcases[] = {
	/* what                                              actor  sa self from to  owners inv want */
	/* Admins manage everyone below owner. */
	{ "admin promotes member to admin",                   AD, 0, 0, MB, AD, 1, 0,   0 },
	{ "admin promotes viewer to member",                  AD, 0, 0, VW, MB, 1, 0,   0 },
	{ "admin demotes another admin",                      AD, 0, 0, AD, VW, 1, 0,   0 },
	{ "admin removes a member",                           AD, 0, 0, MB, NO, 1, 0,   0 },
	{ "admin removes another admin",                      AD, 0, 0, AD, NO, 1, 0,   0 },
	/* Only an owner grants, changes or removes the owner role. */
	{ "admin grants owner to a member",                   AD, 0, 0, MB, OW, 1, 0, 403 },
	{ "admin grants owner to an admin",                   AD, 0, 0, AD, OW, 2, 0, 403 },
	{ "admin demotes an owner (2 owners)",                AD, 0, 0, OW, AD, 2, 0, 403 },
	{ "admin demotes the last owner",                     AD, 0, 0, OW, MB, 1, 0, 403 },
	{ "admin removes an owner (2 owners)",                AD, 0, 0, OW, NO, 2, 0, 403 },
	{ "member grants owner",                              MB, 0, 0, MB, OW, 1, 0, 403 },
	{ "viewer grants owner",                              VW, 0, 0, VW, OW, 1, 0, 403 },
	{ "owner grants owner to a member",                   OW, 0, 0, MB, OW, 1, 0,   0 },
	{ "owner grants owner to a viewer",                   OW, 0, 0, VW, OW, 3, 0,   0 },
	{ "owner promotes member to admin",                   OW, 0, 0, MB, AD, 1, 0,   0 },
	{ "owner re-sends owner to an owner",                 OW, 0, 0, OW, OW, 2, 0,   0 },
	{ "the last owner re-sends their own role",           OW, 0, 1, OW, OW, 1, 0,   0 },
	/* The last owner can be neither demoted nor removed. */
	{ "owner demotes another owner (2 owners)",           OW, 0, 0, OW, AD, 2, 0,   0 },
	{ "owner demotes another owner to viewer (2)",        OW, 0, 0, OW, VW, 2, 0,   0 },
	{ "owner removes another owner (2 owners)",           OW, 0, 0, OW, NO, 2, 0,   0 },
	{ "owner demotes the last owner",                     OW, 0, 0, OW, AD, 1, 0, 409 },
	{ "owner removes the last owner",                     OW, 0, 0, OW, NO, 1, 0, 409 },
	{ "the last owner demotes themselves",                OW, 0, 1, OW, MB, 1, 0, 409 },
	{ "the last owner leaves",                            OW, 0, 1, OW, NO, 1, 0, 409 },
	{ "an owner steps down, another remains",             OW, 0, 1, OW, AD, 2, 0,   0 },
	{ "an owner leaves, another remains",                 OW, 0, 1, OW, NO, 2, 0,   0 },
	/* A change to someone who is not a member is 404. */
	{ "admin removes a non-member",                       AD, 0, 0, NO, NO, 1, 0, 404 },
	{ "admin changes a non-member's role",                AD, 0, 0, NO, MB, 1, 0, 404 },
	{ "owner removes a non-member",                       OW, 0, 0, NO, NO, 2, 0, 404 },
	{ "superadmin removes a non-member",                  NO, 1, 0, NO, NO, 1, 0, 404 },
	{ "superadmin changes a non-member's role",           NO, 1, 0, NO, AD, 1, 0, 404 },
	/* Nobody raises their own role; lowering it, or leaving, is fine. */
	{ "viewer raises own role",                           VW, 0, 1, VW, MB, 1, 0, 403 },
	{ "member raises own role to admin",                  MB, 0, 1, MB, AD, 1, 0, 403 },
	{ "admin raises own role to owner",                   AD, 0, 1, AD, OW, 1, 0, 403 },
	{ "member lowers own role",                           MB, 0, 1, MB, VW, 1, 0,   0 },
	{ "admin lowers own role",                            AD, 0, 1, AD, MB, 1, 0,   0 },
	{ "admin lowers own role to viewer",                  AD, 0, 1, AD, VW, 1, 0,   0 },
	{ "admin leaves",                                     AD, 0, 1, AD, NO, 1, 0,   0 },
	{ "member leaves",                                    MB, 0, 1, MB, NO, 1, 0,   0 },
	{ "admin re-sends own role",                          AD, 0, 1, AD, AD, 1, 0,   0 },
	/* A superadmin does anything but break the last-owner rule. */
	{ "superadmin grants owner",                          NO, 1, 0, MB, OW, 1, 0,   0 },
	{ "superadmin promotes viewer to admin",              NO, 1, 0, VW, AD, 1, 0,   0 },
	{ "superadmin demotes an owner (2 owners)",           NO, 1, 0, OW, MB, 2, 0,   0 },
	{ "superadmin removes an owner (2 owners)",           NO, 1, 0, OW, NO, 2, 0,   0 },
	{ "superadmin removes a member",                      NO, 1, 0, MB, NO, 1, 0,   0 },
	{ "superadmin demotes the last owner",                NO, 1, 0, OW, AD, 1, 0, 409 },
	{ "superadmin removes the last owner",                NO, 1, 0, OW, NO, 1, 0, 409 },
	{ "superadmin member raises own role to owner",       MB, 1, 1, MB, OW, 1, 0,   0 },
	{ "superadmin admin removes the last owner",          AD, 1, 0, OW, NO, 1, 0, 409 },
	{ "superadmin last owner leaves",                     OW, 1, 1, OW, NO, 1, 0, 409 },
	{ "superadmin last owner demotes themselves",         OW, 1, 1, OW, VW, 1, 0, 409 },
	/* Invitations: from is ROLE_NONE by design. */
	{ "admin invites as owner",                           AD, 0, 0, NO, OW, 1, 1, 403 },
	{ "member invites as owner",                          MB, 0, 0, NO, OW, 1, 1, 403 },
	{ "owner invites as owner",                           OW, 0, 0, NO, OW, 1, 1,   0 },
	{ "superadmin invites as owner",                      NO, 1, 0, NO, OW, 1, 1,   0 },
	{ "admin invites as member",                          AD, 0, 0, NO, MB, 1, 1,   0 },
	{ "admin invites as admin",                           AD, 0, 0, NO, AD, 1, 1,   0 },
	{ "admin invites as viewer",                          AD, 0, 0, NO, VW, 1, 1,   0 },
	{ "owner invites as admin",                           OW, 0, 0, NO, AD, 1, 1,   0 },
};

/* The error code each status carries. */
static const struct {
	int         status;
	const char *code;    /* NULL: allowed, no code */
} codes[] = {
	{ 0,   NULL },
	{ 403, "permission_denied" },
	{ 404, "user_not_found" },
	{ 409, "conflict" },
};

static const char *
role_str(enum role r)
{
	switch (r) {
	case ROLE_NONE:   return "none";
	case ROLE_VIEWER: return "viewer";
	case ROLE_MEMBER: return "member";
	case ROLE_ADMIN:  return "admin";
	case ROLE_OWNER:  return "owner";
	}
	return "?";
}

static struct member_change
change_of(const struct mcase *m)
{
	return (struct member_change){
		.actor = m->actor, .superadmin = m->superadmin, .self = m->self,
		.from = m->from, .to = m->to, .owners = m->owners, .invite = m->invite,
	};
}

/* The verdict's code and message fit its status. */
static bool
verdict_shape(struct member_verdict v, const char *what)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (codes[i].status != v.status)
			continue;
		if (codes[i].code == NULL)
			return v.code == NULL;
		if (v.code == NULL || strcmp(v.code, codes[i].code) != 0 ||
		    v.message == NULL || v.message[0] == '\0') {
			print_error("%s: status %d with code %s, message %s\n", what, v.status,
			    v.code ? v.code : "(null)", v.message ? v.message : "(null)");
			return false;
		}
		return true;
	}
	print_error("%s: unexpected status %d\n", what, v.status);
	return false;
}

static void
member_table(void **state)
{
	size_t n = sizeof(mcases) / sizeof(mcases[0]);
	int fails = 0;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct mcase *m = &mcases[i];
		struct member_change c = change_of(m);
		struct member_verdict v = auth_member_change(&c);

		if (v.status != m->want || !verdict_shape(v, m->what)) {
			print_error("row %zu (%s): actor %s%s%s, %s -> %s, %ld owner(s)%s: got %d, want %d\n",
			    i, m->what, role_str(m->actor), m->superadmin ? " superadmin" : "",
			    m->self ? " self" : "", role_str(m->from), role_str(m->to), m->owners,
			    m->invite ? ", invite" : "", v.status, m->want);
			fails++;
		}
	}
	print_message("auth_member_change: %zu rows checked, %d failed\n", n, fails);
	assert_int_equal(fails, 0);
}

/*
 * The rules as properties over every combination that can happen (actor,
 * superadmin, self, from, to, 1-3 owners, invite): whatever the table
 * misses, none of these may ever break.
 */
static void
member_properties(void **state)
{
	size_t checked = 0;
	int fails = 0;

	(void)state;
	for (int actor = ROLE_NONE; actor <= ROLE_OWNER; actor++)
	for (int sa = 0; sa <= 1; sa++)
	for (int self = 0; self <= 1; self++)
	for (int from = ROLE_NONE; from <= ROLE_OWNER; from++)
	for (int to = ROLE_NONE; to <= ROLE_OWNER; to++)
	for (long owners = 1; owners <= 3; owners++)
	for (int invite = 0; invite <= 1; invite++) {
		struct member_change c = {
			.actor = (enum role)actor, .superadmin = sa, .self = self, .from = (enum role)from,
			.to = (enum role)to, .owners = owners, .invite = invite,
		};
		struct member_verdict v = auth_member_change(&c);
		bool owner_power = sa || actor == ROLE_OWNER;
		const char *broken = NULL;
		char what[160];

		if (!sa && actor == ROLE_NONE)
			continue;   /* no such caller: a non-member who is not a superadmin */
		if (invite && (from != ROLE_NONE || self))
			continue;   /* no such change: an invitee is nobody yet, and not the caller */
		checked++;
		snprintf(what, sizeof(what), "actor %s%s%s, %s -> %s, %ld owner(s)%s", role_str(c.actor),
		    sa ? " superadmin" : "", self ? " self" : "", role_str(c.from), role_str(c.to),
		    owners, invite ? ", invite" : "");
		if (!invite && from == ROLE_NONE && v.status != 404)
			broken = "a change to a non-member must be 404";
		else if (v.status == 0 && (from == ROLE_OWNER || to == ROLE_OWNER) && !owner_power)
			broken = "only an owner or a superadmin touches the owner role";
		else if (v.status == 0 && !invite && from == ROLE_OWNER && to != ROLE_OWNER && owners < 2)
			broken = "the last owner was demoted or removed";
		else if (v.status == 0 && self && !sa && to > from)
			broken = "a caller raised their own role";
		else if (sa && v.status == 403)
			broken = "a superadmin was refused with 403";
		else if (!verdict_shape(v, what))
			broken = "the verdict's code does not fit its status";
		if (broken != NULL) {
			print_error("%s: got %d: %s\n", what, v.status, broken);
			fails++;
		}
	}
	print_message("auth_member_change: %zu combinations checked, %d failed\n", checked, fails);
	assert_int_equal(fails, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(member_table),
		cmocka_unit_test(member_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
