/*
 * json_out.h - JSON text byte-compatible with JavaScript's JSON.stringify.
 *
 * jansson's dumper differs from JSON.stringify in number formatting (%.17g,
 * "1.0"), escapes (\u001F vs \u001f) and key order (JS puts array-index keys
 * first, ascending), so every byte we send goes through this instead.
 *
 *  - objects: keys that are canonical array indices ("0", "7") first in
 *    ascending numeric order, then the others in insertion order;
 *  - numbers: integers as is; reals in the shortest form that round-trips,
 *    with JS's Number#toString rules (1e21, 1e-7, "5" not "5.0"); NaN and
 *    infinities as null;
 *  - strings: escape '"', '\\', \b \f \n \r \t, other controls as \u00xx;
 *    '/' and non-ASCII as is (opts JSON_OUT_ESCAPE_LS_PS also escapes U+2028
 *    and U+2029, as Primus does on websocket output);
 *  - indent 0: compact; indent n: newline + n spaces per level, ": ",
 *    empty containers as [] and {}.
 */
#ifndef AH_SRC_CORE_JSON_OUT_H
#define AH_SRC_CORE_JSON_OUT_H

#include <stdbool.h>

#include <jansson.h>

#include "core/core.h"

enum {
    JSON_OUT_ESCAPE_LS_PS = 1 << 0,
};

/* Append the JSON text of `v` (borrowed) to `b`. */
void json_out(struct buf *b, const json_t *v, int indent, int opts);
/* Same, into a new NUL-terminated string (free it); *len may be NULL. */
char *json_out_str(const json_t *v, int indent, int opts, size_t *len);
/* JavaScript's String(v): strings as is, numbers as Number#toString,
 * arrays joined with "," (null elements empty), objects "[object Object]". */
void json_out_js_string(struct buf *b, const json_t *v);
/* The JSON string literal (quotes included) of UTF-8 s[0..n). */
void json_out_string(struct buf *b, const char *s, size_t n, int opts);
/* Writing members straight into an object that json_out_object() is
 * writing (no jansson values built), with the same layout as json_out. */
struct json_out_w {
    struct buf *b;
    int indent, opts;
    int depth;                 /* depth of the object being written */
    bool first;                /* no member written yet */
};
/* obj's text (NULL: an empty object), followed by the members `more`
 * writes, as if they had been added to obj last. */
void json_out_object(struct buf *b, const json_t *obj, int indent, int opts,
                     void (*more)(struct json_out_w *w, void *arg), void *arg);
void json_out_w_key(struct json_out_w *w, const char *key);
void json_out_w_string(struct json_out_w *w, const char *s);
void json_out_w_int(struct json_out_w *w, long long v);
void json_out_w_value(struct json_out_w *w, const json_t *v);
/* An object as the value of the last key: members go through `inner`. */
void json_out_w_begin(struct json_out_w *w, struct json_out_w *inner);
void json_out_w_end(struct json_out_w *inner);

/* Number#toString of a double into out (>= 32 bytes); returns the length. */
int json_out_number(double d, char *out);
/* A NEW shallow copy of object `obj` (borrowed) whose keys are in JS
 * Object.keys order: canonical array indices ascending, then the others in
 * insertion order.  For parsers that build objects JS code would build. */
json_t *json_out_js_order(json_t *obj);

#endif /* AH_SRC_CORE_JSON_OUT_H */
