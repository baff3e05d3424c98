/*
 * mime.c - extension -> MIME type.  The table holds the common web types
 * with the values of the npm `mime` package v3 (checked with node when the
 * table was written); it is sorted by extension for a binary search.
 */
#include "core/mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"

struct mime_ent {
    const char *ext;
    const char *type;
};

static const struct mime_ent table[] = {
    {"3gp", "video/3gpp"},
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/x-aac"},
    {"ai", "application/postscript"},
    {"apk", "application/vnd.android.package-archive"},
    {"apng", "image/apng"},
    {"appcache", "text/cache-manifest"},
    {"asc", "application/pgp-signature"},
    {"atom", "application/atom+xml"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"azw", "application/vnd.amazon.ebook"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"c", "text/x-c"},
    {"cer", "application/pkix-cert"},
    {"cjs", "application/node"},
    {"coffee", "text/coffeescript"},
    {"conf", "text/plain"},
    {"cpp", "text/x-c"},
    {"crt", "application/x-x509-ca-cert"},
    {"crx", "application/x-chrome-extension"},
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"deb", "application/octet-stream"},
    {"der", "application/x-x509-ca-cert"},
    {"dmg", "application/octet-stream"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"dtd", "application/xml-dtd"},
    {"dwg", "image/vnd.dwg"},
    {"dxf", "image/vnd.dxf"},
    {"eot", "application/vnd.ms-fontobject"},
    {"eps", "application/postscript"},
    {"epub", "application/epub+zip"},
    {"exe", "application/octet-stream"},
    {"exr", "image/aces"},
    {"f4v", "video/x-f4v"},
    {"flac", "audio/x-flac"},
    {"flv", "video/x-flv"},
    {"geojson", "application/geo+json"},
    {"gif", "image/gif"},
    {"glb", "model/gltf-binary"},
    {"gltf", "model/gltf+json"},
    {"gpx", "application/gpx+xml"},
    {"gz", "application/gzip"},
    {"h", "text/x-c"},
    {"hbs", "text/x-handlebars-template"},
    {"heic", "image/heic"},
    {"heif", "image/heif"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ico", "image/vnd.microsoft.icon"},
    {"ics", "text/calendar"},
    {"ini", "text/plain"},
    {"iso", "application/octet-stream"},
    {"jar", "application/java-archive"},
    {"java", "text/x-java-source"},
    {"jp2", "image/jp2"},
    {"jpe", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "application/javascript"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"jsx", "text/jsx"},
    {"key", "application/vnd.apple.keynote"},
    {"kml", "application/vnd.google-earth.kml+xml"},
    {"kmz", "application/vnd.google-earth.kmz"},
    {"less", "text/less"},
    {"log", "text/plain"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/mp4"},
    {"m4p", "application/mp4"},
    {"m4v", "video/x-m4v"},
    {"manifest", "text/cache-manifest"},
    {"map", "application/json"},
    {"markdown", "text/markdown"},
    {"md", "text/markdown"},
    {"mid", "audio/midi"},
    {"midi", "audio/midi"},
    {"mjs", "application/javascript"},
    {"mk3d", "video/x-matroska"},
    {"mka", "audio/x-matroska"},
    {"mks", "video/x-matroska"},
    {"mkv", "video/x-matroska"},
    {"mobi", "application/x-mobipocket-ebook"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpd", "application/dash+xml"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"msi", "application/octet-stream"},
    {"obj", "model/obj"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/ogg"},
    {"otf", "font/otf"},
    {"p12", "application/x-pkcs12"},
    {"pdf", "application/pdf"},
    {"pem", "application/x-x509-ca-cert"},
    {"pfx", "application/x-pkcs12"},
    {"php", "application/x-httpd-php"},
    {"pl", "application/x-perl"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"ps", "application/postscript"},
    {"psd", "image/vnd.adobe.photoshop"},
    {"rar", "application/vnd.rar"},
    {"rpm", "application/x-redhat-package-manager"},
    {"rss", "application/rss+xml"},
    {"rtf", "application/rtf"},
    {"sass", "text/x-sass"},
    {"scss", "text/x-scss"},
    {"sh", "application/x-sh"},
    {"shtml", "text/html"},
    {"sig", "application/pgp-signature"},
    {"sql", "application/x-sql"},
    {"srt", "application/x-subrip"},
    {"stl", "model/stl"},
    {"styl", "text/stylus"},
    {"svg", "image/svg+xml"},
    {"svgz", "image/svg+xml"},
    {"swf", "application/x-shockwave-flash"},
    {"tar", "application/x-tar"},
    {"text", "text/plain"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"toml", "application/toml"},
    {"torrent", "application/x-bittorrent"},
    {"ts", "video/mp2t"},
    {"tsv", "text/tab-separated-values"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain"},
    {"vcard", "text/vcard"},
    {"vcf", "text/x-vcard"},
    {"vtt", "text/vtt"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webapp", "application/x-web-app-manifest+json"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"wma", "audio/x-ms-wma"},
    {"wmv", "video/x-ms-wmv"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"wsdl", "application/wsdl+xml"},
    {"xhtml", "application/xhtml+xml"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml"},
    {"xpi", "application/x-xpinstall"},
    {"xsl", "application/xml"},
    {"xz", "application/x-xz"},
    {"yaml", "text/yaml"},
    {"yml", "text/yaml"},
    {"zip", "application/zip"},
};

static int cmp_ext(const void *key, const void *ent)
{
    return strcasecmp(key, ((const struct mime_ent *)ent)->ext);
}

const char *mime_lookup(const char *path)
{
    const char *last, *ext, *dot, *p;
    const struct mime_ent *e;
    bool has_path, has_dot;

    if (path == NULL)
        return NULL;
    /* mime v3: last = path without everything up to the last '/' or '\',
     * ext = last without everything up to its last '.'; a bare name counts
     * as an extension only when there is no directory part. */
    last = path;
    for (p = path; *p; p++)
        if (*p == '/' || *p == '\\')
            last = p + 1;
    dot = strrchr(last, '.');
    ext = dot ? dot + 1 : last;
    has_path = last != path;
    has_dot = dot != NULL && dot > last;    /* a character before the '.' */
    if (!(has_dot || !has_path) || *ext == '\0')
        return NULL;
    e = bsearch(ext, table, ARRAY_SIZE(table), sizeof(table[0]), cmp_ext);
    return e ? e->type : NULL;
}

const char *mime_type(const char *path)
{
    const char *t = mime_lookup(path);

    return t ? t : MIME_DEFAULT;
}
