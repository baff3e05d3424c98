/*
 * multipart.h - a streaming multipart/form-data parser (web.md §6.3):
 * fields into JSON, file parts written to formOptions.uploadDir under a
 * random name, with formidable's limits and file descriptions.
 */
#ifndef AH_SRC_HTTP_MULTIPART_H
#define AH_SRC_HTTP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct multipart_opts {
    const char *upload_dir;     /* formOptions.uploadDir */
    bool keep_extensions;       /* formOptions.keepExtensions */
    bool multiples;             /* formOptions.multiples */
    size_t max_fields_size;     /* total bytes of all field values (20 MiB) */
    size_t max_file_size;       /* bytes per file and of all files (200 MiB) */
    size_t max_fields;          /* number of fields + files (1000) */
};

struct multipart;

/* NULL if the Content-Type has no usable boundary (err filled). */
struct multipart *multipart_new(const char *content_type, const struct multipart_opts *opts,
                                char *err, size_t errlen);
/* Feed body bytes in any chunking.  Returns 0 or <0 with the error text in
 * multipart_error() (a limit, malformed framing, a write failure); after an
 * error, further input is ignored (the same code is returned).  File data
 * is written with write(2) on the calling thread, in chunks of up to 64 KiB. */
int multipart_feed(struct multipart *mp, const char *p, size_t n);
/* End of body: returns 0 and NEW objects of fields and files (each file as
 * {size, filepath, newFilename, mimetype, mtime, originalFilename}), or <0.
 * Values are the last of each name, or arrays when opts.multiples.  Even on
 * error *fields and *files are set (NEW): the fields parsed before the error
 * (Actionhero still runs the action with them) and no files (they were
 * removed).  Error texts are formidable's, e.g. "options.maxFields (1000)
 * exceeded"; the code is AH_ELIMIT for limits, AH_EINVAL for framing and a
 * UV_E* code for file system errors. */
int multipart_finish(struct multipart *mp, json_t **fields, json_t **files);
/* The error text, or NULL when there was none. */
const char *multipart_error(const struct multipart *mp);
/* Frees the parser; removes files of a failed parse. */
void multipart_free(struct multipart *mp);

#endif /* AH_SRC_HTTP_MULTIPART_H */
