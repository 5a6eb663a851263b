/* tmpl.h: logic-less Mustache templates, compiled once, rendered against json-c data. */
#ifndef TENANTRY_TMPL_H
#define TENANTRY_TMPL_H

#include <stddef.h>

struct json_object;

/*
 * Bounds. A template source over TMPL_MAX_SOURCE bytes and a tag name or
 * template name over TMPL_MAX_NAME bytes are refused at compile time;
 * sections nest at most TMPL_MAX_NESTING deep within one template; partials
 * nest at most TMPL_MAX_PARTIAL_DEPTH deep at render time; one render visits
 * at most TMPL_DEFAULT_STEPS nodes unless tmpl_set_step_limit() says
 * otherwise (sections over lists multiply: eight nested sections over a
 * 100-item list are 10^16 visits). Reaching a render-time bound fails the
 * render rather than cutting the page short silently. Worst-case C stack
 * of a render is about 200 KiB (TMPL_MAX_NESTING sections in each of
 * TMPL_MAX_PARTIAL_DEPTH partials, under 200 bytes a level at -O2).
 */
#define TMPL_MAX_SOURCE        (1024u * 1024u)
#define TMPL_MAX_NAME          256u
#define TMPL_MAX_NESTING       32u
#define TMPL_MAX_PARTIAL_DEPTH 32u
#define TMPL_DEFAULT_STEPS     (1ul << 24)

/* Results of tmpl_render(): zero is success, every failure is negative. */
enum tmpl_status {
	TMPL_OK        =  0,
	TMPL_ENOTFOUND = -1,  /* no template of that name in the set */
	TMPL_EEMIT     = -2,  /* the emit callback asked to stop */
	TMPL_ELIMIT    = -3,  /* partial depth or step limit reached */
};

/* A set of compiled, named templates; partials resolve within the set. */
struct tmpl_set;

/* Output sink: called with bytes to append; a nonzero return stops rendering. */
typedef int (*tmpl_emit_fn)(void *ud, const char *s, size_t n);

/*
 * Make an empty set, owned by the caller until tmpl_set_free(). Returns NULL
 * when out of memory.
 */
struct tmpl_set *tmpl_set_new(void);

/* Free the set and every template in it; NULL is allowed. */
void tmpl_set_free(struct tmpl_set *set);

/*
 * Lower or raise the per-render node-visit limit (0 restores the default).
 * Exceeding it makes tmpl_render() return TMPL_ELIMIT.
 */
void tmpl_set_step_limit(struct tmpl_set *set, unsigned long max_steps);

/*
 * Compile len bytes of src as template name. name and src are copied; the
 * caller keeps ownership of both. Returns 0, or -1 with "name:line: problem"
 * written into err (when err is not NULL) on a syntax error, a bound
 * exceeded, a duplicate name or out of memory; the set is unchanged then.
 */
int tmpl_set_add(struct tmpl_set *set, const char *name, const char *src,
    size_t len, char *err, size_t errlen);

/*
 * Add every *.mustache file under dir, recursively, named by its path
 * relative to dir without the extension ("partials/header"). Hidden entries
 * are skipped and symbolic links to directories are not followed. Returns 0,
 * or -1 with the first problem in err; templates added before the problem
 * stay in the set.
 */
int tmpl_set_load_dir(struct tmpl_set *set, const char *dir, char *err,
    size_t errlen);

/*
 * Strict check: every partial referenced by a template in the set must exist
 * in the set. Returns 0, or -1 with "name:line: unknown partial 'x'" in err.
 * Rendering itself treats a missing partial as empty, as Mustache requires.
 */
int tmpl_set_check(const struct tmpl_set *set, char *err, size_t errlen);

/*
 * Render template name against ctx (borrowed; NULL is the JSON null), sending
 * output to emit. Allocates nothing and does not modify the set, so several
 * threads may render from one set at once. Returns an enum tmpl_status.
 */
int tmpl_render(const struct tmpl_set *set, const char *name,
    struct json_object *ctx, tmpl_emit_fn emit, void *ud);

/* A short, static description of a tmpl_render() result, for logs. */
const char *tmpl_strerror(int status);

/*
 * HTML-escape n bytes of s into emit: & < > " ' become &amp; &lt; &gt;
 * &quot; &#39;, so the output is safe both in text and inside a quoted
 * attribute value. Returns 0, or -1 if emit asked to stop.
 */
int tmpl_escape_html(const char *s, size_t n, tmpl_emit_fn emit, void *ud);

#endif
