/*
 * options.c - the option table: every option the server reads, with its
 * type, default (Actionhero 29's value, config.md §4-§6, web.md §1,
 * websocket.md §1, cluster.md §1, tasks.md §7.1) and range.
 *
 * The table is the one source of the compiled-in defaults: config_defaults()
 * builds the tree by setting each entry's default at its path, in table
 * order (which is therefore the key order of the tree, e.g. the order of
 * web.httpHeaders).  Entries without a default are optional (nullable).
 * Options that are new in the C server (limits, timeouts, the logger's
 * sinks) are marked "C:" below.
 */
#include "config/config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "core/core.h"

#define I(n, d, lo, hi)  {n, CONFIG_INT, d, lo, hi, 0, NULL}
#define IN(n, d, lo, hi) {n, CONFIG_INT, d, lo, hi, CONFIG_NULLABLE, NULL}
#define N(n, d, lo, hi)  {n, CONFIG_NUM, d, lo, hi, 0, NULL}
#define B(n, d)          {n, CONFIG_BOOL, d, 0, 0, 0, NULL}
#define S(n, d)          {n, CONFIG_STR, d, 0, 0, 0, NULL}
#define SN(n, d)         {n, CONFIG_STR, d, 0, 0, CONFIG_NULLABLE, NULL}
#define E(n, d, c)       {n, CONFIG_ENUM, d, 0, 0, 0, c}
#define L(n, d)          {n, CONFIG_LEVEL, d, 0, 0, 0, NULL}
#define SA(n, d, lo)     {n, CONFIG_STRS, d, lo, 0, 0, NULL}
#define A(n, d)          {n, CONFIG_ARRAY, d, 0, 0, 0, NULL}
#define O(n)             {n, CONFIG_OBJECT, "{}", 0, 0, 0, NULL}
#define M(n, d)          {n, CONFIG_MAP, d, 0, 0, 0, NULL}

#define KIB 1024.0
#define MIB (1024.0 * 1024.0)
#define GIB (1024.0 * 1024.0 * 1024.0)
#define HOUR_MS 3600000.0
#define DAY_MS 86400000.0
#define INT32 2147483647.0

static const struct config_option options[] = {
    /* ------------------------------------------------ general (config.md §4) */
    O("general"),
    S("general.apiVersion", "\"" AH_VERSION "\""),
    S("general.serverName", "\"actionhero\""),
    /* package.json's description and license (status, swagger actions) */
    SN("general.description", NULL),
    SN("general.license", NULL),
    SN("general.id", NULL),
    S("general.welcomeMessage", "\"Welcome to the actionhero api\""),
    S("general.serverToken", "\"change-me\""),
    S("general.cachePrefix", "\"actionhero:cache:\""),
    S("general.lockPrefix", "\"actionhero:lock:\""),
    I("general.lockDuration", "10000", 1, INT32),
    I("general.simultaneousActions", "5", 1, 1000000),
    B("general.enforceConnectionProperties", "true"),
    B("general.disableParamScrubbing", "false"),
    B("general.enableResponseLogging", "false"),
    SA("general.filteredParams", "[]", 0),
    SA("general.filteredResponse", "[]", 0),
    A("general.missingParamChecks", "[null, \"\"]"),
    S("general.directoryFileType", "\"index.html\""),
    L("general.fileRequestLogLevel", "\"info\""),
    I("general.defaultMiddlewarePriority", "100", 1, 1e9),
    S("general.channel", "\"actionhero\""),
    I("general.rpcTimeout", "5000", 1, HOUR_MS),
    B("general.cliIncludeInternal", "true"),
    /* relative paths are resolved against the working directory */
    O("general.paths"),
    SA("general.paths.action", "[\"actions\"]", 0),
    SA("general.paths.task", "[\"tasks\"]", 0),
    SA("general.paths.server", "[\"servers\"]", 0),
    SA("general.paths.cli", "[\"bin\"]", 0),
    SA("general.paths.initializer", "[\"initializers\"]", 0),
    SA("general.paths.public", "[\"public\"]", 0),
    SA("general.paths.pid", "[\"pids\"]", 1),
    SA("general.paths.log", "[\"log\"]", 0),
    SA("general.paths.plugin", "[\"node_modules\"]", 0),
    SA("general.paths.test", "[\"__tests__\"]", 0),
    S("general.paths.src", "\"src\""),
    S("general.paths.dist", "\"dist\""),
    M("general.startingChatRooms", "{}"),
    /* C: chat and RPC bounds: members per room (checked at join), rooms
     * per connection, bytes of one chat message as published, RPC calls
     * waiting for an answer */
    I("general.maxRoomMembers", "100000", 1, 1e9),
    I("general.maxRoomsPerConnection", "1000", 1, 1e6),
    I("general.maxChatMessageBytes", "1048576", 64, GIB),
    I("general.rpcMaxPending", "10000", 1, 1e8),
    /* C: properties connections.apply(id, "set", ...) may add to one connection */
    I("general.maxConnectionProperties", "100", 0, 1e6),
    /* C: drain deadline of a stop (ACTIONHERO_SHUTDOWN_TIMEOUT) */
    I("general.shutdownTimeout", "30000", 0, HOUR_MS),
    /* thresholds of the status action (env maxMemoryAlloted, maxResqueQueueLength) */
    N("general.maxMemoryAlloted", "500", 0, 1e9),
    I("general.maxResqueQueueLength", "1000", 0, 1e15),

    /* ------------------------------------------------ errors (config.md §5) */
    O("errors"),
    B("errors.reportUnknownActions", "false"),
    S("errors.invalidParams", "\"{error}\""),
    S("errors.missingParams", "\"{param} is a required parameter for this action\""),
    S("errors.unknownAction", "\"unknown action or invalid apiVersion\""),
    S("errors.unsupportedServerType", "\"this action does not support the {type} connection type\""),
    S("errors.serverShuttingDown", "\"the server is shutting down\""),
    S("errors.tooManyPendingActions", "\"you have too many pending requests\""),
    S("errors.genericError", "\"{error}\""),
    S("errors.fileNotFound", "\"that file is not found\""),
    S("errors.fileNotProvided", "\"file is a required param to send a file\""),
    S("errors.fileReadError", "\"error reading file: {error}\""),
    S("errors.verbNotFound", "\"verb not found or not allowed ({verb})\""),
    S("errors.verbNotAllowed", "\"verb not found or not allowed ({verb})\""),
    S("errors.connectionRoomAndMessage", "\"both room and message are required\""),
    S("errors.connectionNotInRoom", "\"connection not in this room ({room})\""),
    S("errors.connectionAlreadyInRoom", "\"connection already in this room ({room})\""),
    S("errors.connectionRoomHasBeenDeleted", "\"this room has been deleted\""),
    S("errors.connectionRoomNotExist", "\"room does not exist\""),
    S("errors.connectionRoomExists", "\"room exists\""),
    S("errors.connectionRoomRequired", "\"a room is required\""),
    /* C: the chat bounds above */
    S("errors.connectionRoomFull", "\"room is full ({room})\""),
    S("errors.connectionTooManyRooms", "\"connection is in too many rooms (max {max})\""),
    S("errors.chatMessageTooLarge", "\"message is too large (more than {max} bytes)\""),

    /* ------------------------------------------------ logger (config.md §6) */
    O("logger"),
    /* C: console level (LOG_LEVEL), JSON lines, colours on a TTY */
    L("logger.level", "\"info\""),
    B("logger.json", "false"),
    B("logger.colors", "true"),
    /* C: JSON-lines file sink; "{id}" and "{env}" are replaced, e.g.
     * "log/{id}-{env}.log" (Actionhero's file logger name) */
    SN("logger.file", NULL),
    L("logger.fileLevel", "\"info\""),
    I("logger.maxLogStringLength", "100", 0, INT32),
    I("logger.maxLogArrayLength", "10", 0, INT32),
    /* C: peer-triggered warnings logged per second and call site */
    I("logger.peerWarningsPerSecond", "10", 0, 1000000),

    /* ------------------------------------------------ routes (web.md §5) */
    {"routes", CONFIG_ROUTES, "{}", 0, 0, 0, NULL},

    /* ------------------------------------------------ web (web.md §1) */
    O("web"),
    B("web.enabled", "true"),
    B("web.secure", "false"),
    M("web.serverOptions", "{}"),
    SA("web.allowedRequestHosts", "[]", 0),
    {"web.port", CONFIG_PORT, "8080", 1, 65535, 0, NULL},
    SN("web.bindIP", "\"::\""),
    {"web.httpHeaders", CONFIG_HEADERS,
     "{\"X-Powered-By\": \"${general.serverName}\","
     " \"Access-Control-Allow-Origin\": \"*\","
     " \"Access-Control-Allow-Methods\": \"HEAD, GET, POST, PUT, PATCH, DELETE, OPTIONS, TRACE\","
     " \"Access-Control-Allow-Headers\": \"Content-Type\","
     " \"Strict-Transport-Security\": \"max-age=31536000; includeSubDomains\"}",
     0, 0, 0, NULL},
    S("web.urlPathForActions", "\"api\""),
    SN("web.urlPathForFiles", "\"public\""),
    E("web.rootEndpointType", "\"file\"", "api|file"),
    {"web.automaticRoutes", CONFIG_VERBS, "[]", 0, 0, 0, NULL},
    I("web.defaultErrorStatusCode", "500", 100, 599),
    I("web.flatFileCacheDuration", "60", 0, INT32),
    B("web.enableEtag", "true"),
    B("web.saveRawBody", "false"),
    I("web.bootAttempts", "1", 1, 1000),
    O("web.fingerprintOptions"),
    S("web.fingerprintOptions.cookieKey", "\"sessionID\""),
    B("web.fingerprintOptions.toSetCookie", "true"),
    B("web.fingerprintOptions.onlyStaticElements", "false"),
    O("web.fingerprintOptions.settings"),
    S("web.fingerprintOptions.settings.path", "\"/\""),
    I("web.fingerprintOptions.settings.expires", "3600000", 0, 1e15),
    O("web.formOptions"),
    B("web.formOptions.multiples", "false"),
    S("web.formOptions.uploadDir", NULL),   /* computed: $TMPDIR or /tmp */
    B("web.formOptions.keepExtensions", "false"),
    I("web.formOptions.maxFieldsSize", "20971520", 0, 64 * GIB),
    I("web.formOptions.maxFileSize", "209715200", 0, 1024 * GIB),
    /* C: fields + files of one multipart/urlencoded body */
    I("web.formOptions.maxFields", "1000", 1, 1000000),
    IN("web.padding", "2", 0, 10),
    O("web.metadataOptions"),
    B("web.metadataOptions.serverInformation", "true"),
    B("web.metadataOptions.requesterInformation", "true"),
    B("web.returnErrorCodes", "true"),
    B("web.compress", "false"),
    O("web.queryParseOptions"),
    IN("web.queryParseOptions.depth", NULL, 0, 1000),
    IN("web.queryParseOptions.arrayLimit", NULL, 0, 1000000),
    IN("web.queryParseOptions.parameterLimit", NULL, 1, 1000000),
    B("web.queryParseOptions.allowDots", NULL),
    B("web.queryParseOptions.parseArrays", NULL),
    /* C: limits of the HTTP server (status 431, 414, 413) and timeouts */
    I("web.maxHeaderBytes", "16384", 1 * KIB, 1 * MIB),
    I("web.maxUrlLength", "8192", 256, 1 * MIB),
    I("web.maxBodyBytes", "20971520", 0, 64 * GIB),
    I("web.headersTimeout", "60000", 1000, HOUR_MS),
    I("web.requestTimeout", "300000", 1000, DAY_MS),
    I("web.keepAliveTimeout", "5000", 0, HOUR_MS),
    I("web.maxConnections", "10000", 1, 10000000),
    I("web.maxPipelineBytes", "1048576", 1 * KIB, 1 * GIB),
    I("web.maxOutboundBytes", "8388608", 64 * KIB, 64 * GIB),

    /* ------------------------------------------------ websocket (websocket.md §1) */
    O("websocket"),
    B("websocket.enabled", "true"),
    S("websocket.clientUrl", "\"window.location.origin\""),
    S("websocket.clientJsPath", "\"javascript/\""),
    SN("websocket.clientJsName", "\"ActionheroWebsocketClient\""),
    B("websocket.destroyClientsOnShutdown", "false"),
    M("websocket.server", "{}"),
    M("websocket.client", "{\"apiPath\": \"/api\", \"cookieKey\": \"${web.fingerprintOptions.cookieKey}\"}"),
    /* C: Primus maxLength / pingInterval (the websocket server reads
     * websocket.server.maxLength / .pingInterval / .pathname first, as
     * Primus options; pingInterval 0 disables the heartbeat), the outbound
     * bound, the close handshake timeout */
    I("websocket.maxPayload", "10485760", 125, 2 * GIB - 1),
    I("websocket.maxOutboundBytes", "4194304", 64 * KIB, 64 * GIB),
    I("websocket.pingInterval", "30000", 0, DAY_MS),
    SN("websocket.pathname", NULL),
    I("websocket.closeTimeout", "5000", 1, 600000),
    /* TEST ONLY (src/ws/server.c): a raw echo endpoint */
    SN("websocket.echoPathForTests", NULL),

    /* ------------------------------------------------ redis (cluster.md §1) */
    O("redis"),
    /* C: the Redis backend is used when enabled (else the memory store) */
    B("redis.enabled", "false"),
    /* host 127.0.0.1, port 6379, db 0 when neither these, nor
     * redis.client.args[0], nor REDIS_* / REDIS_URL set them */
    SN("redis.host", NULL),
    IN("redis.port", NULL, 1, 65535),
    IN("redis.db", NULL, 0, 1000000),
    SN("redis.password", NULL),
    B("redis.ssl", "false"),
    I("redis.scanCount", "1000", 1, 1000000),
    I("redis.stopTimeout", "100", 0, 60000),
    /* C: connection and command timeouts, the reconnect backoff
     * (Actionhero's retryStrategy: first retry after retryFirstDelay, then
     * min(attempt * retryStep, retryMaxDelay)), commands queued per client */
    I("redis.connectTimeout", "10000", 100, 600000),
    I("redis.commandTimeout", "10000", 100, HOUR_MS),
    I("redis.retryFirstDelay", "5000", 0, 600000),
    I("redis.retryStep", "50", 0, 600000),
    I("redis.retryMaxDelay", "1000", 0, 600000),
    I("redis.maxPending", "100000", 1, 1e8),
    /* Actionhero's per-client settings {konstructor, args, buildNew}; the
     * store reads redis.client.args[0].{host,port,db,password} when the
     * flat keys are missing */
    {"redis.client", CONFIG_MAP, NULL, 0, 0, CONFIG_NULLABLE, NULL},
    {"redis.subscriber", CONFIG_MAP, NULL, 0, 0, CONFIG_NULLABLE, NULL},
    {"redis.tasks", CONFIG_MAP, NULL, 0, 0, CONFIG_NULLABLE, NULL},

    /* ------------------------------------------------ store (C) */
    /* the in-process memory backend (when redis.enabled is false): keys,
     * bytes of keys and values, and how often expired keys are swept */
    O("store"),
    I("store.maxKeys", "100000", 1, 1e9),
    I("store.maxBytes", "67108864", 4096, 1024 * GIB),
    I("store.sweepInterval", "1000", 10, HOUR_MS),

    /* ------------------------------------------------ tasks (tasks.md §7.1) */
    O("tasks"),
    B("tasks.scheduler", "false"),
    SA("tasks.queues", "[\"*\"]", 0),
    O("tasks.workerLogging"),
    L("tasks.workerLogging.failure", "\"error\""),
    L("tasks.workerLogging.success", "\"info\""),
    L("tasks.workerLogging.start", "\"info\""),
    L("tasks.workerLogging.end", "\"info\""),
    L("tasks.workerLogging.cleaning_worker", "\"info\""),
    L("tasks.workerLogging.poll", "\"debug\""),
    L("tasks.workerLogging.job", "\"debug\""),
    L("tasks.workerLogging.pause", "\"debug\""),
    L("tasks.workerLogging.reEnqueue", "\"debug\""),
    L("tasks.workerLogging.internalError", "\"error\""),
    L("tasks.workerLogging.multiWorkerAction", "\"debug\""),
    O("tasks.schedulerLogging"),
    L("tasks.schedulerLogging.start", "\"info\""),
    L("tasks.schedulerLogging.end", "\"info\""),
    L("tasks.schedulerLogging.poll", "\"debug\""),
    L("tasks.schedulerLogging.enqueue", "\"debug\""),
    L("tasks.schedulerLogging.working_timestamp", "\"debug\""),
    L("tasks.schedulerLogging.reEnqueue", "\"debug\""),
    L("tasks.schedulerLogging.transferred_job", "\"debug\""),
    I("tasks.timeout", "5000", 1, HOUR_MS),
    I("tasks.minTaskProcessors", "0", 0, 10000),
    I("tasks.maxTaskProcessors", "0", 0, 10000),
    I("tasks.checkTimeout", "500", 1, HOUR_MS),
    I("tasks.maxEventLoopDelay", "5", 0, HOUR_MS),
    I("tasks.stuckWorkerTimeout", "3600000", 1000, 365 * DAY_MS),
    B("tasks.retryStuckJobs", "false"),
    M("tasks.resque_overrides", "{\"queue\": null, \"multiWorker\": null, \"scheduler\": null}"),
    M("tasks.connectionOptions", "{\"tasks\": {}}"),

    /* ------------------------------------------------ plugins (config.md §7) */
    M("plugins", "{}"),
};

const struct config_option *config_options(size_t *n)
{
    *n = ARRAY_SIZE(options);
    return options;
}

const struct config_option *config_option_find(const char *name)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(options); i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

/* The working directory's "tmp": os.tmpdir() is $TMPDIR without a trailing
 * slash, else /tmp. */
static json_t *tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    size_t n;

    if (t == NULL || *t == '\0')
        return json_string("/tmp");
    n = strlen(t);
    while (n > 1 && t[n - 1] == '/')
        n--;
    return json_stringn(t, n);
}

json_t *config_defaults(void)
{
    json_t *root = json_object();
    json_error_t jerr;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(options); i++) {
        json_t *v;

        if (options[i].dflt == NULL)
            continue;
        v = json_loads(options[i].dflt, JSON_DECODE_ANY, &jerr);
        if (v == NULL)
            AH_BUG("bad default in the option table");
        if (config_tree_set(root, options[i].name, v) < 0)
            AH_BUG("bad option path in the option table");
    }
    config_tree_set(root, "web.formOptions.uploadDir", tmp_dir());
    return root;
}
