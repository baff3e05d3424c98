/*
 * test_chat_middleware.c - chat middleware (chat.md §6): registration
 * errors, priority order (ties in registration order, re-registering
 * replaces), join / leave blocking, onSayReceive rewriting, dropping and
 * blocking (once per broadcast, only four fields survive), say per
 * recipient (rewrite, drop, failure for one recipient only), leave hooks
 * on destroy, and the test build's AH_CHAT_MIDDLEWARE descriptor
 * (tests/actions/chat_test.c) collected by the generator.
 */
#include "chat_testlib.h"

static struct chat_res res;
static struct buf trace;

#define VERB_OK(c, verb, words, expect)                                   \
    do {                                                                  \
        json_t *r_ = NULL;                                                \
        char *e_ = NULL;                                                  \
        CHECK_EQ_INT(chat_verb_j((c), (verb), (words), &r_, &e_), 0);     \
        CHECK_EQ_STR(e_ ? e_ : "(no error)", "(no error)");               \
        CHECK_EQ_STR(chat_text(r_), (expect));                            \
        json_decref(r_);                                                  \
        free(e_);                                                         \
    } while (0)
#define VERB_ERR(c, verb, words, expect)                                  \
    do {                                                                  \
        json_t *r_ = NULL;                                                \
        char *e_ = NULL;                                                  \
        CHECK_EQ_INT(chat_verb_j((c), (verb), (words), &r_, &e_), -1);    \
        CHECK_EQ_STR(e_, (expect));                                       \
        json_decref(r_);                                                  \
        free(e_);                                                         \
    } while (0)

static void tr(const char *what)
{
    if (trace.len)
        buf_addc(&trace, ',');
    buf_adds(&trace, what);
}

static const char *trace_take(void)
{
    static char out[1024];

    snprintf(out, sizeof(out), "%s", trace.data ? trace.data : "");
    buf_reset(&trace);
    return out;
}

/* ------------------------------------------------------------- order */

static int join_a(ah_chat_event_t *ev)
{
    (void)ev;
    tr("a300");
    return 0;
}
static int join_b(ah_chat_event_t *ev)
{
    (void)ev;
    tr("b100");
    return 0;
}
static int join_c(ah_chat_event_t *ev)
{
    (void)ev;
    tr("c200");
    return 0;
}
static int join_d(ah_chat_event_t *ev)
{
    (void)ev;
    tr("d-default");
    return 0;
}
static int join_d2(ah_chat_event_t *ev)
{
    (void)ev;
    tr("d-again");
    return 0;
}

static const ah_chat_middleware_t mw_a = {.name = "a", .priority = 300, .join = join_a};
static const ah_chat_middleware_t mw_b = {.name = "b", .priority = 100, .join = join_b};
static const ah_chat_middleware_t mw_c = {.name = "c", .priority = 200, .join = join_c};
static const ah_chat_middleware_t mw_d = {.name = "d", .join = join_d}; /* default priority 100 */
static const ah_chat_middleware_t mw_d2 = {.name = "d", .priority = 250, .join = join_d2};

/* ------------------------------------------------------------- blocking */

static int join_check(ah_chat_event_t *ev)
{
    char *s = xasprintf("join:%s:%s", ev->room, ev->connection ? "conn" : "none");

    tr(s);
    free(s);
    if (strcmp(ev->room, "vipRoom") == 0)
        return ah_chat_block(ev, "only VIPs may join %s", ev->room);
    return 0;
}

static int leave_check(ah_chat_event_t *ev)
{
    char *s = xasprintf("leave:%s", ev->room);

    tr(s);
    free(s);
    if (strcmp(ev->room, "stickyRoom") == 0)
        return ah_chat_block(ev, "you cannot leave %s", ev->room);
    if (strcmp(ev->room, "silentRoom") == 0)
        return AH_ELIMIT; /* no text: the code's text is used */
    return 0;
}

static const ah_chat_middleware_t mw_gate = {.name = "gate", .priority = 50, .join = join_check,
                                             .leave = leave_check};

/* ------------------------------------------------------------- say */

static int receive_a(ah_chat_event_t *ev)
{
    const char *m = json_string_value(json_object_get(ev->payload, "message"));
    char *s;

    tr(ev->connection ? "recv:conn" : "recv:server");
    if (m && strcmp(m, "shout") == 0)
        json_object_set_new(ev->payload, "message", json_string("SHOUT"));
    if (m && strcmp(m, "spy") == 0) {
        /* extra fields do not survive the pub/sub trip; from / room do */
        json_object_set_new(ev->payload, "extra", json_string("lost"));
        json_object_set_new(ev->payload, "from", json_string("someone-else"));
        json_object_set_new(ev->payload, "sentAt", json_integer(12345));
    }
    if (m && strcmp(m, "nope") == 0)
        return ah_chat_block(ev, "no nope here");
    if (m && strcmp(m, "vanish") == 0)
        ah_chat_set_payload(ev, NULL);
    s = xasprintf("seen:%s", ev->room);
    tr(s);
    free(s);
    return 0;
}

/* runs after receive_a: sees NULL after a drop, may bring the message back */
static int receive_b(ah_chat_event_t *ev)
{
    tr(ev->payload ? "recv2:payload" : "recv2:null");
    return 0;
}

static ah_connection_t *deaf; /* say: this one gets nothing */
static ah_connection_t *broken; /* say: this one's hook fails */

static int say_a(ah_chat_event_t *ev)
{
    if (ev->connection == deaf)
        ah_chat_set_payload(ev, NULL);
    else if (ev->payload)
        json_object_set_new(ev->payload, "to", json_string(ev->connection->id));
    if (ev->connection == broken)
        return ah_chat_block(ev, "delivery failed");
    return 0;
}

static const ah_chat_middleware_t mw_receive = {.name = "receive", .priority = 10, .on_say_receive = receive_a};
static const ah_chat_middleware_t mw_receive2 = {.name = "receive2", .priority = 20, .on_say_receive = receive_b};
static const ah_chat_middleware_t mw_say = {.name = "say", .priority = 10, .say = say_a};

/* ------------------------------------------------------------- tests */

static void test_register(ah_app_t *app)
{
    static const ah_chat_middleware_t unnamed = {.priority = 5};
    static const ah_chat_middleware_t empty = {.name = ""};
    ah_connection_t *c = testkit_connection_new(app);

    CHECK_EQ_INT(ah_chat_middleware_add(app, NULL), AH_EINVAL);
    CHECK_EQ_INT(ah_chat_middleware_add(app, &unnamed), AH_EINVAL);
    CHECK_EQ_INT(ah_chat_middleware_add(app, &empty), AH_EINVAL);
    CHECK_EQ_INT(ah_chat_middleware_add(app, &mw_a), 0);
    CHECK_EQ_INT(ah_chat_middleware_add(app, &mw_b), 0);
    CHECK_EQ_INT(ah_chat_middleware_add(app, &mw_c), 0);
    CHECK_EQ_INT(ah_chat_middleware_add(app, &mw_d), 0);
    VERB_OK(c, "roomAdd", "[\"defaultRoom\"]", "true");
    CHECK_EQ_STR(trace_take(), "b100,d-default,c200,a300");
    /* re-registering "d" replaces it (and moves it to its new priority) */
    CHECK_EQ_INT(ah_chat_middleware_add(app, &mw_d2), 0);
    VERB_OK(c, "roomAdd", "[\"otherRoom\"]", "true");
    CHECK_EQ_STR(trace_take(), "b100,c200,d-again,a300");
    /* leaving runs no join hook */
    VERB_OK(c, "roomLeave", "[\"otherRoom\"]", "true");
    CHECK_EQ_STR(trace_take(), "");
    ah_connection_destroy(c);
}

static void test_join_leave(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);

    CHECK_EQ_INT(ah_chat_middleware_add(app, &mw_gate), 0);
    CALL(app, &res, ah_chat_add(app, "vipRoom", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add(app, "stickyRoom", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add(app, "silentRoom", chat_res_cb, &res));
    buf_reset(&trace);

    VERB_ERR(c, "roomAdd", "[\"vipRoom\"]", "Error: only VIPs may join vipRoom");
    CHECK_EQ_STR(trace_take(), "join:vipRoom:conn"); /* later hooks do not run */
    CHECK_EQ_STR(chat_text(c->rooms), "[]");
    CALL(app, &res, ah_chat_room_status(app, "vipRoom", chat_res_cb, &res));
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 0);
    /* through the API too */
    CALL(app, &res, ah_chat_add_member(app, c->id, "vipRoom", chat_res_cb, &res));
    CHECK_EQ_STR(res.error, "only VIPs may join vipRoom");
    buf_reset(&trace);
    /* the room must exist before join middleware runs */
    VERB_ERR(c, "roomAdd", "[\"nope\"]", "Error: room does not exist");
    CHECK_EQ_STR(trace_take(), "");

    VERB_OK(c, "roomAdd", "[\"stickyRoom\"]", "true");
    VERB_OK(c, "roomAdd", "[\"silentRoom\"]", "true");
    buf_reset(&trace);
    VERB_ERR(c, "roomLeave", "[\"stickyRoom\"]", "Error: you cannot leave stickyRoom");
    VERB_ERR(c, "roomLeave", "[\"silentRoom\"]", "Error: limit reached");
    CHECK_EQ_STR(chat_text(c->rooms), "[\"stickyRoom\",\"silentRoom\"]");
    CALL(app, &res, ah_chat_room_status(app, "stickyRoom", chat_res_cb, &res));
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 1);
    buf_reset(&trace);

    /* destroy: leave hooks run for every room and cannot keep it */
    ah_connection_destroy(c);
    CHECK_EQ_STR(trace_take(), "leave:stickyRoom,leave:silentRoom");
    chat_run_for(&app, 1, 5);
    CALL(app, &res, ah_chat_room_status(app, "stickyRoom", chat_res_cb, &res));
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 0);
}

static void test_say_receive(ah_app_t *app)
{
    ah_connection_t *a = testkit_connection_new(app), *b = testkit_connection_new(app);
    size_t na, nb;
    json_t *m, *msg;

    CHECK_EQ_INT(ah_chat_middleware_add(app, &mw_receive), 0);
    CHECK_EQ_INT(ah_chat_middleware_add(app, &mw_receive2), 0);
    VERB_OK(a, "roomAdd", "[\"defaultRoom\"]", "true");
    VERB_OK(b, "roomAdd", "[\"defaultRoom\"]", "true");
    buf_reset(&trace);
    na = chat_msg_count(a);
    nb = chat_msg_count(b);

    /* rewrite, once per broadcast (not per recipient) */
    VERB_OK(a, "say", "[\"defaultRoom\", \"shout\"]", "(null)");
    CHECK(chat_wait_msgs(&app, 1, b, nb + 1));
    CHECK(chat_wait_msgs(&app, 1, a, na + 1));
    CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(b), "message")), "SHOUT");
    CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(a), "message")), "SHOUT");
    CHECK_EQ_STR(trace_take(), "recv:conn,seen:defaultRoom,recv2:payload");

    /* only message, sentAt, from and room survive */
    VERB_OK(a, "say", "[\"defaultRoom\", \"spy\"]", "(null)");
    CHECK(chat_wait_msgs(&app, 1, b, nb + 2));
    m = chat_last_msg(b);
    CHECK(json_object_get(m, "extra") == NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "from")), "someone-else");
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "sentAt")), 12345);
    buf_reset(&trace);

    /* block: the speaker gets the error, nobody gets the message */
    VERB_ERR(a, "say", "[\"defaultRoom\", \"nope\"]", "Error: no nope here");
    CHECK_EQ_STR(trace_take(), "recv:conn"); /* the chain stops */
    /* drop: OK for the speaker, nothing delivered, later hooks see null */
    VERB_OK(a, "say", "[\"defaultRoom\", \"vanish\"]", "(null)");
    CHECK_EQ_STR(trace_take(), "recv:conn,seen:defaultRoom,recv2:null");
    chat_run_for(&app, 1, 10);
    CHECK_EQ_INT(chat_msg_count(b), nb + 2);
    CHECK_EQ_INT(chat_msg_count(a), na + 2);

    /* a server broadcast: the hook's connection is NULL */
    msg = json_string("from the server");
    CALL(app, &res, ah_chat_broadcast(app, NULL, "defaultRoom", msg, chat_res_cb, &res));
    json_decref(msg);
    CHECK_EQ_STR(trace_take(), "recv:server,seen:defaultRoom,recv2:payload");
    CHECK(chat_wait_msgs(&app, 1, b, nb + 3));
    ah_connection_destroy(a);
    ah_connection_destroy(b);
}

static void test_say_per_recipient(ah_app_t *app)
{
    ah_connection_t *a = testkit_connection_new(app), *b = testkit_connection_new(app);
    ah_connection_t *c = testkit_connection_new(app);
    size_t na, nb, nc;

    CHECK_EQ_INT(ah_chat_middleware_add(app, &mw_say), 0);
    VERB_OK(a, "roomAdd", "[\"otherRoom\"]", "true");
    VERB_OK(b, "roomAdd", "[\"otherRoom\"]", "true");
    VERB_OK(c, "roomAdd", "[\"otherRoom\"]", "true");
    deaf = b;
    broken = c;
    na = chat_msg_count(a);
    nb = chat_msg_count(b);
    nc = chat_msg_count(c);
    VERB_OK(a, "say", "[\"otherRoom\", \"personal\"]", "(null)");
    CHECK(chat_wait_msgs(&app, 1, a, na + 1));
    chat_run_for(&app, 1, 10);
    /* each recipient had its own copy */
    CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(a), "to")), a->id);
    CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(a), "message")), "personal");
    CHECK_EQ_INT(chat_msg_count(b), nb); /* dropped for b */
    CHECK_EQ_INT(chat_msg_count(c), nc); /* failed for c (logged), others unaffected */
    deaf = broken = NULL;
    ah_connection_destroy(a);
    ah_connection_destroy(b);
    ah_connection_destroy(c);
}

/* tests/actions/chat_test.c: an AH_CHAT_MIDDLEWARE collected by the
 * generator and registered at boot */
static void test_descriptor(ah_app_t *app)
{
    ah_connection_t *a = testkit_connection_new(app), *b = testkit_connection_new(app);
    size_t nb;

    CALL(app, &res, ah_chat_add(app, "noJoinRoom", chat_res_cb, &res));
    VERB_ERR(a, "roomAdd", "[\"noJoinRoom\"]", "Error: joining rooms blocked");
    CALL(app, &res, ah_chat_add(app, "noLeaveRoom", chat_res_cb, &res));
    VERB_OK(a, "roomAdd", "[\"noLeaveRoom\"]", "true");
    VERB_ERR(a, "roomLeave", "[\"noLeaveRoom\"]", "Error: leaving rooms blocked");
    VERB_OK(b, "roomAdd", "[\"noLeaveRoom\"]", "true");
    nb = chat_msg_count(b);
    VERB_ERR(a, "say", "[\"noLeaveRoom\", \"!block\", \"this\"]", "Error: message blocked");
    VERB_OK(a, "say", "[\"noLeaveRoom\", \"!drop\", \"this\"]", "(null)");
    VERB_OK(a, "say", "[\"noLeaveRoom\", \"!upper\", \"make me big\"]", "(null)");
    CHECK(chat_wait_msgs(&app, 1, b, nb + 1));
    chat_run_for(&app, 1, 10);
    CHECK_EQ_INT(chat_msg_count(b), nb + 1);
    CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(b), "message")), "MAKE ME BIG");
    ah_connection_destroy(a);
    ah_connection_destroy(b);
}

int main(void)
{
    ah_app_t *app;

    setenv("LOG_LEVEL", "emerg", 0); /* say hook failures log warnings on purpose */
    app = chat_app_new(NULL);
    /* before anything is registered here: only the descriptor's hooks */
    test_descriptor(app);
    test_register(app);
    test_join_leave(app);
    test_say_receive(app);
    test_say_per_recipient(app);
    chat_res_reset(&res);
    buf_release(&trace);
    CHECK_EQ_INT(testkit_app_free(app), 0);

    /* before the chat initializer loads, registering is refused */
    {
        ah_app_t *none = app_new(uv_default_loop());

        CHECK_EQ_INT(ah_chat_middleware_add(none, &mw_a), AH_ESTATE);
        CHECK_EQ_INT(ah_chat_set_hooks(none, &(ah_chat_hooks_t){0}), AH_ESTATE);
        app_free(none);
    }
    return check_done();
}
