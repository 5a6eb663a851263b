/* escape.c: HTML escaping, the default for every template variable. */
#include "tmpl/tmpl.h"

#include <stddef.h>

/*
 * The five characters that can end a text run or a quoted attribute value
 * (either quote style) or start markup. Everything else, including bytes of
 * UTF-8 sequences, passes through unchanged.
 */
static const char *
tmpl_escape_entity(unsigned char c, size_t *len)
{
	switch (c) {
	case '&':  *len = 5; return "&amp;";
	case '<':  *len = 4; return "&lt;";
	case '>':  *len = 4; return "&gt;";
	case '"':  *len = 6; return "&quot;";
	case '\'': *len = 5; return "&#39;";
	default:   *len = 0; return NULL;
	}
}

/*
 * Emit s[0..n) with the five characters replaced, in as few emit calls as
 * the input allows: each run of safe bytes goes out as one span of the
 * caller's buffer (borrowed for the duration of the call only).
 */
int
tmpl_escape_html(const char *s, size_t n, tmpl_emit_fn emit, void *ud)
{
	size_t i, run, elen;
	const char *ent;

	run = 0;
	for (i = 0; i < n; i++) {
		if ((ent = tmpl_escape_entity((unsigned char)s[i], &elen)) == NULL)
			continue;
		if (i > run && emit(ud, s + run, i - run) != 0)
			return -1;
		if (emit(ud, ent, elen) != 0)
			return -1;
		run = i + 1;
	}
	if (n > run && emit(ud, s + run, n - run) != 0)
		return -1;
	return 0;
}
