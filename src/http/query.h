/*
 * query.h - the one decoder of query strings and form bodies (web.md §6.2,
 * §6.3): qs semantics for query strings, Node's simple parser for
 * rawConnection.params.query, URLSearchParams semantics for
 * application/x-www-form-urlencoded bodies, and percent-decoding.
 *
 * Every key and value the parsers return is valid UTF-8: raw bytes are read
 * as UTF-8 and ill-formed sequences become U+FFFD.  A decoded %00 is kept
 * (strings and keys may contain NUL: use json_string_length and
 * json_object_getn when that matters).  Keys come in JS Object.keys order
 * (array-index keys first, ascending).
 */
#ifndef AH_SRC_HTTP_QUERY_H
#define AH_SRC_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/core.h"

struct qs_opts {
    int depth;              /* 5 */
    int array_limit;        /* 20 */
    int parameter_limit;    /* 1000 */
};
#define QS_OPTS_DEFAULT {5, 20, 1000}

/* qs.parse(s) of qs 6.14: a NEW object.  Never fails: malformed escapes
 * stay as is, pairs past parameter_limit are ignored; opts NULL = defaults.
 * Values are strings, arrays, objects and, from qs's merge of a plain key
 * into an object (a[b]=1&a=2 -> {a:{b:"1","2":true}}), true.  depth is
 * capped at 64. */
json_t *query_parse_qs(const char *s, size_t n, const struct qs_opts *opts);

/* Node's querystring.parse: repeated keys become arrays, no nesting. NEW. */
json_t *query_parse_simple(const char *s, size_t n);

/* application/x-www-form-urlencoded (URLSearchParams: '+' is a space, no
 * bracket nesting).  multiples=false keeps the last of repeated keys;
 * true makes every value an array.  Returns a NEW object, or NULL when more
 * than max_fields pairs are present. */
json_t *query_parse_form(const char *s, size_t n, bool multiples, size_t max_fields);

/* Percent-decode s[0..n) into out (appended).  plus_space: '+' -> ' '.
 * strict (decodeURIComponent): a malformed escape or invalid UTF-8 returns
 * -1 and leaves out as it was; lenient: malformed escapes are kept as is,
 * the bytes are not checked (may be invalid UTF-8 or hold NUL), 0. */
int query_unescape(struct buf *out, const char *s, size_t n, bool plus_space, bool strict);

/* Append s[0..n) to out as valid UTF-8: each maximal ill-formed
 * subsequence becomes U+FFFD (WHATWG / Node Buffer#toString). */
void query_utf8_sanitize(struct buf *out, const char *s, size_t n);

#endif /* AH_SRC_HTTP_QUERY_H */
