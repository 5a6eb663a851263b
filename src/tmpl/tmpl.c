/* tmpl.c: Mustache compiler (source to node array) and renderer (node array to emit). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "tmpl/tmpl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

/*
 * A template is compiled once into a flat array of nodes. Text is copied
 * into the template's own text buffer with standalone lines already removed;
 * tag names are split into NUL-terminated segments in its names buffer, so
 * rendering never parses anything. A section's body is the nodes after it up
 * to its end index. Set-delimiter tags and comments leave no node.
 *
 * Partial indentation: Mustache indents every line of a standalone partial
 * by the whitespace before its tag. That is done at render time, from two
 * compile-time facts: a node marked bol starts a source line (so the indent
 * goes before it), and a text node's own newlines that are not its last byte
 * start lines too. A top-level render passes no indent, so this costs it
 * nothing.
 */

enum tmpl_op {
	TMPL_OP_TEXT,      /* text[off..off+len) */
	TMPL_OP_VAR,       /* HTML-escaped value of name */
	TMPL_OP_RAW,       /* unescaped value of name: {{{x}}} or {{&x}} */
	TMPL_OP_SECTION,   /* body once per list item, or once if truthy */
	TMPL_OP_INVERTED,  /* body once if falsey */
	TMPL_OP_PARTIAL,   /* template names[off], looked up at render time */
};

struct tmpl_node {
	uint8_t  op;
	uint8_t  bol;         /* starts a source line: partial indent goes first */
	uint8_t  standalone;  /* partial alone on its line: its output is indented */
	uint8_t  nseg;        /* name segments; 0 is the implicit iterator "." */
	uint32_t line;        /* source line of the tag, for errors */
	uint32_t off;         /* TEXT: offset in text; others: offset in names */
	uint32_t len;         /* TEXT: bytes; PARTIAL: indent bytes at ind */
	uint32_t end;         /* SECTION, INVERTED: index of the node after the body */
	uint32_t ind;         /* PARTIAL: indent offset in text */
	uint32_t hash;        /* PARTIAL: hash of the name, for the set lookup */
};

struct tmpl {
	char             *name;
	uint32_t          hash;
	struct tmpl_node *nodes;
	uint32_t          nnodes, capnodes;
	char             *text;    /* never NULL once compiled */
	uint32_t          ntext, captext;
	char             *names;   /* never NULL once compiled */
	uint32_t          nnames, capnames;
};

struct tmpl_set {
	struct tmpl  **all;        /* insertion order, for tmpl_set_check */
	size_t         n, cap;
	struct tmpl  **slots;      /* open addressing by name hash; power of two */
	size_t         nslots;
	unsigned long  max_steps;
};

/* ========================================================================
 * Small helpers
 * ===================================================================== */

/* FNV-1a over n bytes of s: the set's name hash. */
static uint32_t
tmpl_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* Write a formatted message into the caller's err buffer; always -1. */
static int tmpl_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
tmpl_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Blanks: what may surround a standalone tag on its line. */
static int
tmpl_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Whitespace: what is trimmed inside a tag and separates delimiters. */
static int
tmpl_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether s[0..n) holds only spaces and tabs. */
static int
tmpl_all_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!tmpl_is_blank(s[i]))
			return 0;
	return 1;
}

/* First index >= from where pat occurs in s[0..len), or len if none. */
static size_t
tmpl_find(const char *s, size_t from, size_t len, const char *pat, size_t plen)
{
	const char *p;

	while (from < len && len - from >= plen) {
		p = memchr(s + from, pat[0], len - from - plen + 1);
		if (p == NULL)
			break;
		from = (size_t)(p - s);
		if (memcmp(p, pat, plen) == 0)
			return from;
		from++;
	}
	return len;
}

/*
 * Grow a char buffer of a template under construction so need more bytes
 * fit. The template owns the buffer; returns 0 or -1 when out of memory.
 * Sizes stay far below 4 GiB because sources are bounded by
 * TMPL_MAX_SOURCE.
 */
static int
tmpl_reserve_chars(char **buf, uint32_t used, uint32_t *cap, size_t need)
{
	size_t ncap;
	char *p;

	if (need <= (size_t)*cap - used)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap - used < need)
		ncap *= 2;
	if (ncap > UINT32_MAX || (p = realloc(*buf, ncap)) == NULL)
		return -1;
	*buf = p;
	*cap = (uint32_t)ncap;
	return 0;
}

/* Free a template and everything it owns; NULL is allowed. */
static void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->nodes);
	free(t->text);
	free(t->names);
	free(t);
}

/* The set's template called name (hash precomputed), or NULL; borrowed. */
static const struct tmpl *
tmpl_set_find(const struct tmpl_set *set, const char *name, uint32_t hash)
{
	size_t i, mask;

	if (set->nslots == 0)
		return NULL;
	mask = set->nslots - 1;
	for (i = hash & mask; set->slots[i] != NULL; i = (i + 1) & mask)
		if (set->slots[i]->hash == hash &&
		    strcmp(set->slots[i]->name, name) == 0)
			return set->slots[i];
	return NULL;
}

/*
 * Hand t over to the set, which owns it from then on. Returns 0, or -1 when
 * out of memory, in which case the caller still owns t.
 */
static int
tmpl_set_insert(struct tmpl_set *set, struct tmpl *t)
{
	struct tmpl **all, **slots;
	size_t i, j, mask, nslots;

	if (set->n == set->cap) {
		i = set->cap ? set->cap * 2 : 16;
		if ((all = realloc(set->all, i * sizeof(*all))) == NULL)
			return -1;
		set->all = all;
		set->cap = i;
	}
	if ((set->n + 1) * 2 > set->nslots) {
		nslots = set->nslots ? set->nslots * 2 : 32;
		if ((slots = calloc(nslots, sizeof(*slots))) == NULL)
			return -1;
		mask = nslots - 1;
		for (i = 0; i < set->n; i++) {
			for (j = set->all[i]->hash & mask; slots[j] != NULL;
			    j = (j + 1) & mask)
				;
			slots[j] = set->all[i];
		}
		free(set->slots);
		set->slots = slots;
		set->nslots = nslots;
	}
	mask = set->nslots - 1;
	for (j = t->hash & mask; set->slots[j] != NULL; j = (j + 1) & mask)
		;
	set->slots[j] = t;
	set->all[set->n++] = t;
	return 0;
}

/* ========================================================================
 * Compiling
 * ===================================================================== */

/* One open section while compiling: its node and name, for the close tag. */
struct tmpl_open {
	uint32_t    node;
	const char *name;
	size_t      nlen;
	unsigned    line;
};

/*
 * Compiler state over one source, which it borrows for the duration of
 * tmpl_set_add(). line_start/line_dirty describe the source line the scan
 * is on: where it starts, and whether a tag or non-blank text already sits
 * on it (then no tag on it can be standalone). pending_bol says the next
 * node starts a line; mergeable says the last node is text that new text
 * may extend.
 */
struct tmpl_cc {
	struct tmpl     *t;
	const char      *src;
	size_t           len, pos;
	const char      *open, *close;   /* current delimiters, inside src */
	size_t           olen, clen;
	size_t           line_start;
	int              line_dirty;
	int              pending_bol;
	int              mergeable;
	unsigned         line;           /* line number at line_pos */
	size_t           line_pos;
	struct tmpl_open stack[TMPL_MAX_NESTING];
	unsigned         depth;
	char            *err;
	size_t           errlen;
};

/* Report "name:line: problem" into the compiler's err buffer; always -1. */
static int tmpl_cc_error(struct tmpl_cc *cc, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
tmpl_cc_error(struct tmpl_cc *cc, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tmpl_errf(cc->err, cc->errlen, "%s:%u: %s", cc->t->name, line, msg);
}

/* Line number of src[at]; at never moves backwards between calls. */
static unsigned
tmpl_cc_line(struct tmpl_cc *cc, size_t at)
{
	for (; cc->line_pos < at; cc->line_pos++)
		if (cc->src[cc->line_pos] == '\n')
			cc->line++;
	return cc->line;
}

/*
 * Append a node of kind op, zeroed but for op, line and bol (which takes
 * the pending start-of-line mark). Returns its index, or -1 when out of
 * memory. Pointers into the node array do not survive this call.
 */
static int64_t
tmpl_cc_node(struct tmpl_cc *cc, enum tmpl_op op, unsigned line)
{
	struct tmpl *t = cc->t;
	struct tmpl_node *nodes, *nd;
	size_t ncap;

	if (t->nnodes == t->capnodes) {
		ncap = t->capnodes ? (size_t)t->capnodes * 2 : 32;
		if (ncap > UINT32_MAX / 2 ||
		    (nodes = realloc(t->nodes, ncap * sizeof(*nodes))) == NULL)
			return tmpl_cc_error(cc, line, "out of memory");
		t->nodes = nodes;
		t->capnodes = (uint32_t)ncap;
	}
	nd = &t->nodes[t->nnodes];
	memset(nd, 0, sizeof(*nd));
	nd->op = (uint8_t)op;
	nd->line = line;
	nd->bol = (uint8_t)cc->pending_bol;
	cc->pending_bol = 0;
	cc->mergeable = 0;
	return t->nnodes++;
}

/*
 * Copy src[from..to) into the text buffer, extending the previous text node
 * when nothing came between them. Returns 0, or -1 when out of memory.
 */
static int
tmpl_cc_text(struct tmpl_cc *cc, size_t from, size_t to)
{
	struct tmpl *t = cc->t;
	size_t n = to - from;
	int64_t i;
	int bol;

	if (n == 0)
		return 0;
	if (tmpl_reserve_chars(&t->text, t->ntext, &t->captext, n) != 0)
		return tmpl_cc_error(cc, tmpl_cc_line(cc, from), "out of memory");
	memcpy(t->text + t->ntext, cc->src + from, n);
	bol = cc->src[to - 1] == '\n';
	if (cc->mergeable) {
		t->nodes[t->nnodes - 1].len += (uint32_t)n;
	} else {
		if ((i = tmpl_cc_node(cc, TMPL_OP_TEXT, 0)) < 0)
			return -1;
		t->nodes[i].off = t->ntext;
		t->nodes[i].len = (uint32_t)n;
		cc->mergeable = 1;
	}
	t->ntext += (uint32_t)n;
	cc->pending_bol = bol;
	return 0;
}

/*
 * Check a tag name: 1 to TMPL_MAX_NAME bytes, no whitespace or control
 * characters, and when dotted, no empty segment ("." alone is the implicit
 * iterator). Returns 0 or -1 with the problem reported.
 */
static int
tmpl_cc_check_name(struct tmpl_cc *cc, unsigned line, const char *s, size_t n,
    int dotted)
{
	size_t i;

	if (n == 0)
		return tmpl_cc_error(cc, line, "empty tag name");
	if (n > TMPL_MAX_NAME)
		return tmpl_cc_error(cc, line, "tag name longer than %u bytes",
		    TMPL_MAX_NAME);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return tmpl_cc_error(cc, line,
			    "space or control character in tag name '%.*s'",
			    (int)n, s);
	if (!dotted || (n == 1 && s[0] == '.'))
		return 0;
	if (s[0] == '.' || s[n - 1] == '.' ||
	    tmpl_find(s, 0, n, "..", 2) != n)
		return tmpl_cc_error(cc, line, "empty segment in name '%.*s'",
		    (int)n, s);
	return 0;
}

/*
 * Store name s[0..n) for node i in the names buffer: split at dots into
 * NUL-terminated segments when dotted (nseg 0 for "."), else as one
 * NUL-terminated string. Returns 0, or -1 when out of memory.
 */
static int
tmpl_cc_name(struct tmpl_cc *cc, int64_t i, const char *s, size_t n,
    int dotted)
{
	struct tmpl *t = cc->t;
	struct tmpl_node *nd;
	unsigned nseg = 1;
	char *p;
	size_t k;

	if (dotted && n == 1 && s[0] == '.') {
		t->nodes[i].nseg = 0;
		return 0;
	}
	if (tmpl_reserve_chars(&t->names, t->nnames, &t->capnames, n + 1) != 0)
		return tmpl_cc_error(cc, t->nodes[i].line, "out of memory");
	p = t->names + t->nnames;
	memcpy(p, s, n);
	p[n] = '\0';
	if (dotted)
		for (k = 0; k < n; k++)
			if (p[k] == '.') {
				p[k] = '\0';
				nseg++;
			}
	nd = &t->nodes[i];
	nd->off = t->nnames;
	nd->nseg = (uint8_t)nseg;
	t->nnames += (uint32_t)(n + 1);
	return 0;
}

/*
 * A set-delimiter tag's inside, s[0..n) trimmed: two delimiters separated
 * by whitespace, neither containing '='. The new delimiters point into the
 * source, which outlives the compile.
 */
static int
tmpl_cc_delims(struct tmpl_cc *cc, unsigned line, const char *s, size_t n)
{
	size_t i = 0, a, b0, b1;

	while (i < n && !tmpl_is_space(s[i]))
		i++;
	a = i;
	while (i < n && tmpl_is_space(s[i]))
		i++;
	b0 = i;
	while (i < n && !tmpl_is_space(s[i]))
		i++;
	b1 = i;
	if (a == 0 || b1 == b0 || i != n)
		return tmpl_cc_error(cc, line,
		    "set-delimiter tag needs two delimiters, as in {{=<%% %%>=}}");
	if (memchr(s, '=', a) != NULL || memchr(s + b0, '=', b1 - b0) != NULL)
		return tmpl_cc_error(cc, line, "a delimiter may not contain '='");
	if (a > 32 || b1 - b0 > 32)
		return tmpl_cc_error(cc, line, "delimiter longer than 32 bytes");
	cc->open = s;
	cc->olen = a;
	cc->close = s + b0;
	cc->clen = b1 - b0;
	return 0;
}

/*
 * Compile one tag. sigil is its type character (0 for a plain variable),
 * s[0..n) its trimmed inside, indent[0..ilen) the blanks before it when the
 * tag is standalone (its line, blanks and newline already dropped).
 */
static int
tmpl_cc_tag(struct tmpl_cc *cc, int sigil, const char *s, size_t n,
    unsigned line, int standalone, const char *indent, size_t ilen)
{
	struct tmpl *t = cc->t;
	struct tmpl_open *o;
	int64_t i;

	switch (sigil) {
	case '!':
		break;
	case '=':
		if (tmpl_cc_delims(cc, line, s, n) != 0)
			return -1;
		break;
	case '#':
	case '^':
		if (tmpl_cc_check_name(cc, line, s, n, 1) != 0)
			return -1;
		if (cc->depth == TMPL_MAX_NESTING)
			return tmpl_cc_error(cc, line,
			    "sections nested deeper than %u", TMPL_MAX_NESTING);
		if (standalone)
			cc->pending_bol = 0;
		i = tmpl_cc_node(cc, sigil == '#' ? TMPL_OP_SECTION :
		    TMPL_OP_INVERTED, line);
		if (i < 0 || tmpl_cc_name(cc, i, s, n, 1) != 0)
			return -1;
		o = &cc->stack[cc->depth++];
		o->node = (uint32_t)i;
		o->name = s;
		o->nlen = n;
		o->line = line;
		break;
	case '/':
		if (cc->depth == 0)
			return tmpl_cc_error(cc, line,
			    "closing '%.*s' with no section open", (int)n, s);
		o = &cc->stack[cc->depth - 1];
		if (o->nlen != n || memcmp(o->name, s, n) != 0)
			return tmpl_cc_error(cc, line,
			    "closing '%.*s' but '%.*s' (line %u) is open",
			    (int)n, s, (int)o->nlen, o->name, o->line);
		/*
		 * A close tag that starts its line but is not alone on it
		 * keeps that line's indent inside the section, which only an
		 * empty text node at the end of the body can carry.
		 */
		if (!standalone && cc->pending_bol &&
		    tmpl_cc_node(cc, TMPL_OP_TEXT, line) < 0)
			return -1;
		t->nodes[o->node].end = t->nnodes;
		cc->depth--;
		cc->mergeable = 0;
		cc->pending_bol = 0;
		break;
	case '>':
		if (tmpl_cc_check_name(cc, line, s, n, 0) != 0)
			return -1;
		if (standalone) {
			cc->pending_bol = 0;
			if (tmpl_reserve_chars(&t->text, t->ntext, &t->captext,
			    ilen) != 0)
				return tmpl_cc_error(cc, line, "out of memory");
		}
		if ((i = tmpl_cc_node(cc, TMPL_OP_PARTIAL, line)) < 0 ||
		    tmpl_cc_name(cc, i, s, n, 0) != 0)
			return -1;
		t->nodes[i].hash = tmpl_hash(s, n);
		if (standalone) {
			t->nodes[i].standalone = 1;
			t->nodes[i].ind = t->ntext;
			t->nodes[i].len = (uint32_t)ilen;
			if (ilen > 0)
				memcpy(t->text + t->ntext, indent, ilen);
			t->ntext += (uint32_t)ilen;
		}
		break;
	case '&':
	case '{':
	case 0:
		if (tmpl_cc_check_name(cc, line, s, n, 1) != 0)
			return -1;
		i = tmpl_cc_node(cc, sigil ? TMPL_OP_RAW : TMPL_OP_VAR, line);
		if (i < 0 || tmpl_cc_name(cc, i, s, n, 1) != 0)
			return -1;
		break;
	}
	/* After a standalone tag the scan resumes at the start of a line. */
	if (standalone)
		cc->pending_bol = 1;
	return 0;
}

/*
 * Compile cc->src into cc->t. Each turn finds the next open delimiter,
 * decides whether the tag is standalone (alone on its line but for blanks,
 * and of a kind that can be), copies the text before it (minus the
 * standalone line's blanks) and compiles the tag. Returns 0 or -1 with the
 * problem reported.
 */
static int
tmpl_cc_run(struct tmpl_cc *cc)
{
	const char *src = cc->src;
	size_t tag, bs, be, end, at, ls, lsw, p;
	unsigned line;
	int sigil, dirty, standalone;
	char want;

	for (;;) {
		tag = tmpl_find(src, cc->pos, cc->len, cc->open, cc->olen);
		if (tag == cc->len)
			break;
		line = tmpl_cc_line(cc, tag);

		/* The tag's line: where it starts, whether it is still blank. */
		ls = cc->line_start;
		dirty = cc->line_dirty;
		for (p = tag; p > cc->pos; p--)
			if (src[p - 1] == '\n') {
				ls = p;
				dirty = 0;
				break;
			}
		lsw = ls > cc->pos ? ls : cc->pos;
		if (!dirty && !tmpl_all_blank(src + lsw, tag - lsw))
			dirty = 1;

		bs = tag + cc->olen;
		sigil = bs < cc->len ? (unsigned char)src[bs] : 0;
		switch (sigil) {
		case '#': case '^': case '/': case '>':
		case '!': case '=': case '&': case '{':
			bs++;
			break;
		case '<': case '$':
			return tmpl_cc_error(cc, line, "template inheritance "
			    "('%c' tags) is not supported", sigil);
		default:
			sigil = 0;
		}

		/* {{{x}}} ends at "}" + close, {{=a b=}} at "=" + close. */
		want = sigil == '{' ? '}' : sigil == '=' ? '=' : 0;
		for (at = bs;; at++) {
			at = tmpl_find(src, at, cc->len, cc->close, cc->clen);
			if (at == cc->len)
				return tmpl_cc_error(cc, line,
				    "unclosed tag: no '%s%.*s' after '%.*s'",
				    want == '}' ? "}" : want == '=' ? "=" : "",
				    (int)cc->clen, cc->close,
				    (int)(bs - tag), src + tag);
			if (!want)
				break;
			if (at > bs && src[at - 1] == want)
				break;
		}
		be = want ? at - 1 : at;
		end = at + cc->clen;
		while (bs < be && tmpl_is_space(src[bs]))
			bs++;
		while (be > bs && tmpl_is_space(src[be - 1]))
			be--;

		/* Standalone: nothing but blanks then a line end after it. */
		standalone = 0;
		if (!dirty && sigil != 0 && strchr("#^/>!=", sigil) != NULL) {
			for (at = end; at < cc->len && tmpl_is_blank(src[at]); at++)
				;
			if (at == cc->len)
				standalone = 1;
			else if (src[at] == '\n')
				standalone = 1, at++;
			else if (src[at] == '\r' && at + 1 < cc->len &&
			    src[at + 1] == '\n')
				standalone = 1, at += 2;
		}
		if (standalone) {
			if (tmpl_cc_text(cc, cc->pos, lsw) != 0)
				return -1;
			cc->pos = at;
			cc->line_start = at;
			cc->line_dirty = 0;
		} else {
			if (tmpl_cc_text(cc, cc->pos, tag) != 0)
				return -1;
			cc->pos = end;
			cc->line_start = ls;
			cc->line_dirty = 1;
		}
		if (tmpl_cc_tag(cc, sigil, src + bs, be - bs, line, standalone,
		    src + lsw, tag - lsw) != 0)
			return -1;
	}
	if (tmpl_cc_text(cc, cc->pos, cc->len) != 0)
		return -1;
	if (cc->depth > 0)
		return tmpl_cc_error(cc, cc->stack[cc->depth - 1].line,
		    "unclosed section '%.*s'", (int)cc->stack[cc->depth - 1].nlen,
		    cc->stack[cc->depth - 1].name);
	return 0;
}

/* ========================================================================
 * The set
 * ===================================================================== */

/* The caller owns the new set; see tmpl.h. */
struct tmpl_set *
tmpl_set_new(void)
{
	struct tmpl_set *set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return NULL;
	set->max_steps = TMPL_DEFAULT_STEPS;
	return set;
}

/* The set owns its templates, so they go with it. */
void
tmpl_set_free(struct tmpl_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		tmpl_free(set->all[i]);
	free(set->all);
	free(set->slots);
	free(set);
}

/* Takes effect for renders started afterwards. */
void
tmpl_set_step_limit(struct tmpl_set *set, unsigned long max_steps)
{
	set->max_steps = max_steps ? max_steps : TMPL_DEFAULT_STEPS;
}

/*
 * Compile src[0..len) (borrowed) into a new template owned by the set. The
 * template is only inserted once it compiled, so a failure leaves the set
 * as it was.
 */
int
tmpl_set_add(struct tmpl_set *set, const char *name, const char *src,
    size_t len, char *err, size_t errlen)
{
	struct tmpl_cc cc;
	struct tmpl *t;
	size_t nlen;
	uint32_t hash;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (set == NULL || name == NULL || (src == NULL && len > 0))
		return tmpl_errf(err, errlen, "tmpl_set_add: invalid arguments");
	nlen = strlen(name);
	if (nlen == 0 || nlen > TMPL_MAX_NAME)
		return tmpl_errf(err, errlen, "%.64s: template name must be 1 "
		    "to %u bytes", name, TMPL_MAX_NAME);
	if (len > TMPL_MAX_SOURCE)
		return tmpl_errf(err, errlen, "%s:1: template is %zu bytes, "
		    "more than the %u allowed", name, len, TMPL_MAX_SOURCE);
	hash = tmpl_hash(name, nlen);
	if (tmpl_set_find(set, name, hash) != NULL)
		return tmpl_errf(err, errlen, "%s:1: template already defined",
		    name);

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->name = strdup(name)) == NULL ||
	    tmpl_reserve_chars(&t->text, 0, &t->captext, len ? len : 1) != 0 ||
	    tmpl_reserve_chars(&t->names, 0, &t->capnames, 64) != 0) {
		tmpl_free(t);
		return tmpl_errf(err, errlen, "%s: out of memory", name);
	}
	t->hash = hash;

	memset(&cc, 0, sizeof(cc));
	cc.t = t;
	cc.src = src != NULL ? src : "";
	cc.len = len;
	cc.open = "{{";
	cc.close = "}}";
	cc.olen = cc.clen = 2;
	cc.pending_bol = 1;
	cc.line = 1;
	cc.err = err;
	cc.errlen = errlen;
	if (tmpl_cc_run(&cc) != 0) {
		tmpl_free(t);
		return -1;
	}
	if (tmpl_set_insert(set, t) != 0) {
		tmpl_free(t);
		return tmpl_errf(err, errlen, "%s: out of memory", name);
	}
	return 0;
}

/*
 * Every partial tag of every template must name a template of the set.
 * Reports the first that does not, in insertion order.
 */
int
tmpl_set_check(const struct tmpl_set *set, char *err, size_t errlen)
{
	const struct tmpl *t;
	const struct tmpl_node *nd;
	size_t i;
	uint32_t k;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (set == NULL)
		return tmpl_errf(err, errlen, "tmpl_set_check: no set");
	for (i = 0; i < set->n; i++) {
		t = set->all[i];
		for (k = 0; k < t->nnodes; k++) {
			nd = &t->nodes[k];
			if (nd->op == TMPL_OP_PARTIAL &&
			    tmpl_set_find(set, t->names + nd->off, nd->hash) == NULL)
				return tmpl_errf(err, errlen,
				    "%s:%u: unknown partial '%s'", t->name,
				    (unsigned)nd->line, t->names + nd->off);
		}
	}
	return 0;
}

/* ========================================================================
 * Loading a directory
 * ===================================================================== */

#define TMPL_EXT         ".mustache"
#define TMPL_EXT_LEN     (sizeof(TMPL_EXT) - 1)
#define TMPL_MAX_DIRS    16u
#define TMPL_PATH_MAX    4096u

/*
 * Read the regular file at path (bounded by TMPL_MAX_SOURCE before any
 * byte is read) and add it as template name. The buffer is ours and freed
 * here; the set keeps its own compiled copy.
 */
static int
tmpl_load_file(struct tmpl_set *set, const char *path, const char *name,
    char *err, size_t errlen)
{
	struct stat st;
	char *src;
	size_t got, size;
	ssize_t k;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tmpl_errf(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = errno;
		close(fd);
		return tmpl_errf(err, errlen, "%s: %s", path, strerror(rc));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return tmpl_errf(err, errlen, "%s: not a regular file", path);
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > TMPL_MAX_SOURCE) {
		close(fd);
		return tmpl_errf(err, errlen, "%s:1: template is %jd bytes, "
		    "more than the %u allowed", name, (intmax_t)st.st_size,
		    TMPL_MAX_SOURCE);
	}
	size = (size_t)st.st_size;
	if ((src = malloc(size + 1)) == NULL) {
		close(fd);
		return tmpl_errf(err, errlen, "%s: out of memory", path);
	}
	for (got = 0; got < size; got += (size_t)k) {
		k = read(fd, src + got, size - got);
		if (k < 0 && errno == EINTR) {
			k = 0;
			continue;
		}
		if (k < 0) {
			rc = errno;
			free(src);
			close(fd);
			return tmpl_errf(err, errlen, "%s: %s", path,
			    strerror(rc));
		}
		if (k == 0)
			break;
	}
	close(fd);
	rc = tmpl_set_add(set, name, src, got, err, errlen);
	free(src);
	return rc;
}

/*
 * Walk the directory path[0..len) (root is path[0..rootlen)), adding
 * templates. path is one buffer of TMPL_PATH_MAX bytes shared by the whole
 * walk: each level appends "/entry" and cuts it off again. Entries go in
 * name order so the first error reported does not depend on the file
 * system.
 */
static int
tmpl_load_walk(struct tmpl_set *set, char *path, size_t rootlen, size_t len,
    unsigned depth, char *err, size_t errlen)
{
	struct dirent **list;
	struct stat st;
	const char *ent;
	char name[TMPL_MAX_NAME + 1];
	size_t elen, nlen;
	int i, n, rc = 0;

	if ((n = scandir(path, &list, NULL, alphasort)) < 0)
		return tmpl_errf(err, errlen, "%s: %s", path, strerror(errno));
	for (i = 0; i < n && rc == 0; i++) {
		ent = list[i]->d_name;
		elen = strlen(ent);
		if (ent[0] == '.')
			continue;
		if (len + 1 + elen >= TMPL_PATH_MAX) {
			rc = tmpl_errf(err, errlen, "%s/%s: path too long",
			    path, ent);
			break;
		}
		path[len] = '/';
		memcpy(path + len + 1, ent, elen + 1);
		if (lstat(path, &st) != 0) {
			rc = tmpl_errf(err, errlen, "%s: %s", path,
			    strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (depth + 1 >= TMPL_MAX_DIRS)
				rc = tmpl_errf(err, errlen, "%s: directories "
				    "nested deeper than %u", path, TMPL_MAX_DIRS);
			else
				rc = tmpl_load_walk(set, path, rootlen,
				    len + 1 + elen, depth + 1, err, errlen);
		} else if (elen > TMPL_EXT_LEN &&
		    strcmp(ent + elen - TMPL_EXT_LEN, TMPL_EXT) == 0) {
			nlen = len + 1 + elen - TMPL_EXT_LEN - rootlen - 1;
			if (nlen > TMPL_MAX_NAME) {
				rc = tmpl_errf(err, errlen, "%s: template name "
				    "longer than %u bytes", path, TMPL_MAX_NAME);
			} else {
				memcpy(name, path + rootlen + 1, nlen);
				name[nlen] = '\0';
				rc = tmpl_load_file(set, path, name, err, errlen);
			}
		}
		path[len] = '\0';
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

/*
 * dir is borrowed; the walk works on a copy of it (trailing slashes cut) in
 * one stack buffer, and template names are the paths below it.
 */
int
tmpl_set_load_dir(struct tmpl_set *set, const char *dir, char *err,
    size_t errlen)
{
	char path[TMPL_PATH_MAX];
	size_t len;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (set == NULL || dir == NULL || dir[0] == '\0')
		return tmpl_errf(err, errlen, "tmpl_set_load_dir: no directory");
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len >= TMPL_PATH_MAX)
		return tmpl_errf(err, errlen, "%.64s...: path too long", dir);
	memcpy(path, dir, len);
	path[len] = '\0';
	return tmpl_load_walk(set, path, len, len, 0, err, errlen);
}

/* ========================================================================
 * Rendering
 * ===================================================================== */

/* The context stack: one frame per entered section, on the C stack. */
struct tmpl_frame {
	struct json_object      *obj;
	const struct tmpl_frame *up;
};

/* Partial indentation: pieces from the innermost partial outwards. */
struct tmpl_indent {
	const char               *s;
	size_t                    n;
	const struct tmpl_indent *up;
};

/* One render's state; lives on tmpl_render()'s stack. */
struct tmpl_run {
	const struct tmpl_set *set;
	tmpl_emit_fn           emit;
	void                  *ud;
	unsigned long          steps;   /* node visits left */
	unsigned               depth;   /* partials entered */
};

/* Emit s[0..n) (borrowed for the call); empty spans are not emitted. */
static int
tmpl_out(struct tmpl_run *r, const char *s, size_t n)
{
	if (n == 0)
		return TMPL_OK;
	return r->emit(r->ud, s, n) != 0 ? TMPL_EEMIT : TMPL_OK;
}

/* Emit the partial indent, outermost piece first. */
static int
tmpl_out_indent(struct tmpl_run *r, const struct tmpl_indent *ind)
{
	int rc;

	if (ind == NULL)
		return TMPL_OK;
	if ((rc = tmpl_out_indent(r, ind->up)) != TMPL_OK)
		return rc;
	return tmpl_out(r, ind->s, ind->n);
}

/* Template text, with the indent after each newline that is not its last byte. */
static int
tmpl_out_text(struct tmpl_run *r, const char *s, size_t n,
    const struct tmpl_indent *ind)
{
	const char *nl;
	size_t k;
	int rc;

	if (ind == NULL || n == 0)
		return tmpl_out(r, s, n);
	while ((nl = memchr(s, '\n', n)) != NULL &&
	    (k = (size_t)(nl - s) + 1) < n) {
		if ((rc = tmpl_out(r, s, k)) != TMPL_OK ||
		    (rc = tmpl_out_indent(r, ind)) != TMPL_OK)
			return rc;
		s += k;
		n -= k;
	}
	return tmpl_out(r, s, n);
}

/*
 * Shortest of %.15g, %.16g, %.17g that reads back as d: 1.21 prints as
 * "1.21" (json-c's own "%.17g" gives "1.2099999999999999" for a double it
 * did not parse), integral values print without a decimal point, and a
 * locale's decimal comma is undone.
 */
static size_t
tmpl_fmt_double(double d, char *buf, size_t cap)
{
	int prec, n = 0;
	char *p;

	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, cap, "%.*g", prec, d);
		if (isnan(d) || strtod(buf, NULL) == d)
			break;
	}
	if (n < 0)
		return 0;
	if ((p = strchr(buf, ',')) != NULL)
		*p = '.';
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/*
 * Print a value: strings as they are, numbers and booleans as JSON would,
 * null, objects and arrays as nothing. Only strings can hold characters
 * that need escaping.
 */
static int
tmpl_out_value(struct tmpl_run *r, struct json_object *v, int raw)
{
	char buf[64];
	int64_t i;
	int n;

	switch (json_object_get_type(v)) {
	case json_type_string:
		if (raw)
			return tmpl_out(r, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
		return tmpl_escape_html(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), r->emit, r->ud) != 0 ?
		    TMPL_EEMIT : TMPL_OK;
	case json_type_int:
		/* get_int64 saturates; the saturated value may be a uint64. */
		if ((i = json_object_get_int64(v)) == INT64_MAX)
			n = snprintf(buf, sizeof(buf), "%" PRIu64,
			    json_object_get_uint64(v));
		else
			n = snprintf(buf, sizeof(buf), "%" PRId64, i);
		return tmpl_out(r, buf, n > 0 ? (size_t)n : 0);
	case json_type_double:
		return tmpl_out(r, buf, tmpl_fmt_double(
		    json_object_get_double(v), buf, sizeof(buf)));
	case json_type_boolean:
		return json_object_get_boolean(v) ? tmpl_out(r, "true", 4) :
		    tmpl_out(r, "false", 5);
	default:
		return TMPL_OK;
	}
}

/*
 * Resolve a compiled name against the context stack: the first segment in
 * the innermost frame that is an object holding that key (even as null),
 * the rest strictly inside it. Missing is NULL, which is also JSON null;
 * both render as nothing and are falsey. The result is borrowed from ctx.
 */
static struct json_object *
tmpl_lookup(const struct tmpl_frame *f, const char *seg, unsigned nseg)
{
	struct json_object *v = NULL;
	unsigned i;

	if (nseg == 0)
		return f->obj;
	for (; f != NULL; f = f->up)
		if (json_object_is_type(f->obj, json_type_object) &&
		    json_object_object_get_ex(f->obj, seg, &v))
			break;
	if (f == NULL)
		return NULL;
	for (i = 1; i < nseg; i++) {
		seg += strlen(seg) + 1;
		if (!json_object_is_type(v, json_type_object) ||
		    !json_object_object_get_ex(v, seg, &v))
			return NULL;
	}
	return v;
}

/* Falsey: null or missing, false, an empty list. Everything else is truthy. */
static int
tmpl_truthy(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0;
	case json_type_boolean:
		return json_object_get_boolean(v) != 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	default:
		return 1;
	}
}

static int tmpl_run_nodes(struct tmpl_run *r, const struct tmpl *t,
    uint32_t from, uint32_t to, const struct tmpl_frame *ctx,
    const struct tmpl_indent *ind);

/*
 * Enter the partial named by nd, with ctx as its context. A standalone
 * partial is indented by its tag's blanks on top of the current indent; an
 * inline one is not indented at all. A missing partial renders nothing.
 */
static int
tmpl_run_partial(struct tmpl_run *r, const struct tmpl *t,
    const struct tmpl_node *nd, const struct tmpl_frame *ctx,
    const struct tmpl_indent *ind)
{
	const struct tmpl *p;
	const struct tmpl_indent *pind;
	struct tmpl_indent own;
	int rc;

	if ((p = tmpl_set_find(r->set, t->names + nd->off, nd->hash)) == NULL)
		return TMPL_OK;
	if (r->depth >= TMPL_MAX_PARTIAL_DEPTH)
		return TMPL_ELIMIT;
	pind = NULL;
	if (nd->standalone && nd->len == 0) {
		pind = ind;
	} else if (nd->standalone) {
		own.s = t->text + nd->ind;
		own.n = nd->len;
		own.up = ind;
		pind = &own;
	}
	r->depth++;
	rc = tmpl_run_nodes(r, p, 0, p->nnodes, ctx, pind);
	r->depth--;
	return rc;
}

/*
 * Render nodes [from, to) of t. Sections recurse with a new frame on the C
 * stack; recursion is bounded by TMPL_MAX_NESTING per template times
 * TMPL_MAX_PARTIAL_DEPTH.
 */
static int
tmpl_run_nodes(struct tmpl_run *r, const struct tmpl *t, uint32_t from,
    uint32_t to, const struct tmpl_frame *ctx, const struct tmpl_indent *ind)
{
	const struct tmpl_node *nd;
	struct tmpl_frame f;
	struct json_object *v;
	size_t k, n;
	uint32_t i;
	int rc;

	for (i = from; i < to; i++) {
		if (r->steps == 0)
			return TMPL_ELIMIT;
		r->steps--;
		nd = &t->nodes[i];
		if (nd->bol && ind != NULL &&
		    (rc = tmpl_out_indent(r, ind)) != TMPL_OK)
			return rc;
		rc = TMPL_OK;
		switch (nd->op) {
		case TMPL_OP_TEXT:
			rc = tmpl_out_text(r, t->text + nd->off, nd->len, ind);
			break;
		case TMPL_OP_VAR:
		case TMPL_OP_RAW:
			v = tmpl_lookup(ctx, t->names + nd->off, nd->nseg);
			rc = tmpl_out_value(r, v, nd->op == TMPL_OP_RAW);
			break;
		case TMPL_OP_SECTION:
			v = tmpl_lookup(ctx, t->names + nd->off, nd->nseg);
			f.up = ctx;
			if (json_object_is_type(v, json_type_array)) {
				n = json_object_array_length(v);
				for (k = 0; k < n && rc == TMPL_OK; k++) {
					f.obj = json_object_array_get_idx(v, k);
					rc = tmpl_run_nodes(r, t, i + 1, nd->end,
					    &f, ind);
				}
			} else if (tmpl_truthy(v)) {
				f.obj = v;
				rc = tmpl_run_nodes(r, t, i + 1, nd->end, &f, ind);
			}
			i = nd->end - 1;
			break;
		case TMPL_OP_INVERTED:
			v = tmpl_lookup(ctx, t->names + nd->off, nd->nseg);
			if (!tmpl_truthy(v))
				rc = tmpl_run_nodes(r, t, i + 1, nd->end, ctx,
				    ind);
			i = nd->end - 1;
			break;
		case TMPL_OP_PARTIAL:
			rc = tmpl_run_partial(r, t, nd, ctx, ind);
			break;
		}
		if (rc != TMPL_OK)
			return rc;
	}
	return TMPL_OK;
}

/*
 * ctx is borrowed and only read; the output goes to emit as spans that are
 * valid during the call only (into the set, ctx or a stack buffer).
 */
int
tmpl_render(const struct tmpl_set *set, const char *name,
    struct json_object *ctx, tmpl_emit_fn emit, void *ud)
{
	const struct tmpl *t;
	struct tmpl_frame root;
	struct tmpl_run r;

	if (set == NULL || name == NULL || emit == NULL)
		return TMPL_ENOTFOUND;
	if ((t = tmpl_set_find(set, name, tmpl_hash(name, strlen(name)))) == NULL)
		return TMPL_ENOTFOUND;
	root.obj = ctx;
	root.up = NULL;
	r.set = set;
	r.emit = emit;
	r.ud = ud;
	r.steps = set->max_steps;
	r.depth = 0;
	return tmpl_run_nodes(&r, t, 0, t->nnodes, &root, NULL);
}

/* Static strings, never to be freed. */
const char *
tmpl_strerror(int status)
{
	switch (status) {
	case TMPL_OK:        return "ok";
	case TMPL_ENOTFOUND: return "no such template";
	case TMPL_EEMIT:     return "output stopped by the writer";
	case TMPL_ELIMIT:    return "partial depth or step limit reached";
	default:             return "unknown template error";
	}
}
