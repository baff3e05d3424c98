/*
 * test_core_mime.c - extension -> MIME type, answers of npm mime v3's
 * getType() (checked with node when the test was written).
 */
#include <string.h>

#include "core/core.h"
#include "core/mime.h"

#include "check.h"

int main(void)
{
    static const struct {
        const char *path, *type;    /* type NULL: unknown */
    } cases[] = {
        {"index.html", "text/html"}, {"a.HTML", "text/html"}, {"x.htm", "text/html"},
        {"/srv/public/app.js", "application/javascript"}, {"m.mjs", "application/javascript"},
        {"s.css", "text/css"}, {"/x/y.Css", "text/css"}, {"d.json", "application/json"},
        {"d.js.map", "application/json"}, {"logo/actionhero.png", "image/png"},
        {"favicon.ico", "image/vnd.microsoft.icon"}, {"i.svg", "image/svg+xml"},
        {"t.txt", "text/plain"}, {"pixel.gif", "image/gif"}, {"a.JPG", "image/jpeg"},
        {"a.jpeg", "image/jpeg"}, {"w.webp", "image/webp"}, {"f.woff", "font/woff"},
        {"f.woff2", "font/woff2"}, {"f.ttf", "font/ttf"}, {"r.md", "text/markdown"},
        {"x.xml", "application/xml"}, {"m.wasm", "application/wasm"}, {"d.pdf", "application/pdf"},
        {"z.zip", "application/zip"}, {"v.mp4", "video/mp4"}, {"c.csv", "text/csv"},
        {"x.tar.gz", "application/gzip"}, {"a\\b.png", "image/png"}, {"song.mp3", "audio/mpeg"},
        {"v.webm", "video/webm"}, {"a.avif", "image/avif"}, {"app.webmanifest", "application/manifest+json"},
        {"html", "text/html"}, {".html", "text/html"},
        {"/d/html", NULL}, {"dir/.htaccess", NULL}, {"a.b/c", NULL}, {"noext", NULL}, {"a.", NULL},
        {"", NULL}, {".", NULL}, {"x.unknownext", NULL}, {"Makefile", NULL},
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *t = mime_lookup(cases[i].path);

        if (cases[i].type) {
            CHECK_EQ_STR(t, cases[i].type);
            CHECK_EQ_STR(mime_type(cases[i].path), cases[i].type);
        } else {
            if (t)
                printf("# %s -> %s\n", cases[i].path, t);
            CHECK(t == NULL);
            CHECK_EQ_STR(mime_type(cases[i].path), "application/octet-stream");
        }
    }
    CHECK(mime_lookup(NULL) == NULL);
    CHECK_EQ_STR(mime_type(NULL), MIME_DEFAULT);
    return check_done();
}
