/*
 * mime.h - MIME type of a file by its extension (web.md §8.3), with the
 * answers of the npm `mime` package v3 that Actionhero 29 uses.
 */
#ifndef AH_SRC_CORE_MIME_H
#define AH_SRC_CORE_MIME_H

#define MIME_DEFAULT "application/octet-stream"

/* The type for a path or file name, like mime.getType(path): the extension
 * after the last '.' of the last path segment, case-insensitive ("a.HTML",
 * "/x/y.css", also a bare extension "png"); NULL when there is none or it is
 * unknown ("/x/Makefile", "dir/.htaccess").  Returns a static string. */
const char *mime_lookup(const char *path);

/* Same, but MIME_DEFAULT instead of NULL (v29 crashes on unknown types;
 * we send application/octet-stream).  Never NULL. */
const char *mime_type(const char *path);

#endif /* AH_SRC_CORE_MIME_H */
