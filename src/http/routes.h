/*
 * routes.h - the route table (web.md §5): per-method ordered lists, config
 * routes, automaticRoutes, matching with path variables, PCRE2 constraints,
 * matchTrailingPathParts and apiVersion in the path.
 */
#ifndef AH_SRC_HTTP_ROUTES_H
#define AH_SRC_HTTP_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <ah/ah.h>

/* The seven method lists, in Actionhero's order. */
#define ROUTE_METHODS {"all", "head", "get", "patch", "post", "put", "delete"}

struct route {
    const char *method;        /* one of ROUTE_METHODS */
    const char *path;          /* "/users/:id(^\\d+$)" */
    const char *action;        /* NULL for dir routes */
    const char *api_version;   /* NULL or "2" */
    bool match_trailing_path_parts;
    const char *dir;           /* NULL or a directory (file routes) */
    json_t *json;              /* {path, matchTrailingPathParts, action, dir, apiVersion} */
    void *priv;                /* compiled segments */
};

/* Routes of one method list (`method` lower-case), in match order. */
size_t routes_count(ah_app_t *app, const char *method);
const struct route *routes_at(ah_app_t *app, const char *method, size_t i);

/* Append a route (route.registerRoute): method "all" appends to all seven
 * lists.  Returns 0 or AH_EINVAL (bad method or bad regex; message logged). */
int routes_register(ah_app_t *app, const char *method, const char *path, const char *action,
                    const char *api_version, bool match_trailing, const char *dir);

/* Match `segments` (the request path after the api/file prefix, not
 * percent-decoded) against the `method` list.  On a match returns the route
 * and a NEW object of decoded path variables in *vars. */
const struct route *routes_match(ah_app_t *app, const char *method, json_t *segments, json_t **vars);

#endif /* AH_SRC_HTTP_ROUTES_H */
