/*
 * test_chat_verbs.c - the chat verbs through the specHelper (testServer
 * connections): roomAdd, roomLeave, roomView, say, with their results and
 * exact error texts (connection.md §6, chat.md), message delivery to test
 * connections, and leaving every room on destroy / quit.
 */
#include "chat_testlib.h"

static struct chat_res res;

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
        CHECK(r_ == NULL);                                                \
        json_decref(r_);                                                  \
        free(e_);                                                         \
    } while (0)

static json_t *no_context_payload(ah_app_t *app, json_t *msg)
{
    json_t *p = ah_chat_default_generate_message_payload(app, msg);

    json_object_del(p, "context");
    return p;
}

static json_t *details(ah_connection_t *c)
{
    json_t *r = NULL;

    testkit_verb(c, "detailsView", NULL, &r, NULL);
    return r;
}

static void test_room_add_leave(ah_app_t *app)
{
    ah_connection_t *c = testkit_connection_new(app);
    json_t *d;

    VERB_OK(c, "roomAdd", "[\"defaultRoom\"]", "true");
    d = details(c);
    CHECK_EQ_STR(chat_text(json_object_get(d, "rooms")), "[\"defaultRoom\"]");
    json_decref(d);
    VERB_ERR(c, "roomAdd", "[\"defaultRoom\"]", "Error: connection already in this room (defaultRoom)");
    VERB_ERR(c, "roomAdd", "[\"nope\"]", "Error: room does not exist");
    VERB_ERR(c, "roomAdd", NULL, "Error: room does not exist");
    VERB_ERR(c, "roomAdd", "[]", "Error: room does not exist");
    VERB_ERR(c, "roomAdd", "[null]", "Error: room does not exist");
    /* a single word (not an array) is wrapped */
    VERB_OK(c, "roomAdd", "\"otherRoom\"", "true");
    CHECK_EQ_STR(chat_text(c->rooms), "[\"defaultRoom\",\"otherRoom\"]");

    VERB_OK(c, "roomLeave", "[\"defaultRoom\"]", "true");
    CHECK_EQ_STR(chat_text(c->rooms), "[\"otherRoom\"]");
    VERB_ERR(c, "roomLeave", "[\"defaultRoom\"]", "Error: connection not in this room (defaultRoom)");
    VERB_ERR(c, "roomLeave", "[\"nope\"]", "Error: connection not in this room (nope)");
    VERB_ERR(c, "roomLeave", NULL, "Error: connection not in this room (undefined)");
    VERB_ERR(c, "roomLeave", "[null]", "Error: connection not in this room (undefined)");
    /* rejoin: order is join order */
    VERB_OK(c, "roomAdd", "[\"defaultRoom\"]", "true");
    CHECK_EQ_STR(chat_text(c->rooms), "[\"otherRoom\",\"defaultRoom\"]");
    /* numbers name rooms by their text */
    CALL(app, &res, ah_chat_add(app, "42", chat_res_cb, &res));
    VERB_OK(c, "roomAdd", "[42]", "true");
    VERB_ERR(c, "roomAdd", "[\"42\"]", "Error: connection already in this room (42)");
    VERB_OK(c, "roomLeave", "[42]", "true");
    ah_connection_destroy(c);
}

static void test_room_view(ah_app_t *app)
{
    ah_connection_t *a = testkit_connection_new(app), *b = testkit_connection_new(app);
    json_t *r = NULL, *m;
    char *e = NULL;

    VERB_ERR(a, "roomView", "[\"defaultRoom\"]", "Error: connection not in this room (defaultRoom)");
    VERB_ERR(a, "roomView", NULL, "Error: connection not in this room (undefined)");
    VERB_ERR(a, "roomView", "[null]", "Error: connection not in this room (null)");
    VERB_ERR(a, "roomView", "[\"nope\"]", "Error: connection not in this room (nope)");
    VERB_OK(a, "roomAdd", "[\"defaultRoom\"]", "true");
    VERB_OK(b, "roomAdd", "[\"defaultRoom\"]", "true");
    CHECK_EQ_INT(chat_verb_j(a, "roomView", "[\"defaultRoom\"]", &r, &e), 0);
    CHECK(e == NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(r, "room")), "defaultRoom");
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "membersCount")), 2);
    m = json_object_get(r, "members");
    CHECK_EQ_INT(json_object_size(m), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(m, a->id), "id")), a->id);
    CHECK(json_is_integer(json_object_get(json_object_get(m, b->id), "joinedAt")));
    CHECK(json_object_get(json_object_get(m, b->id), "host") == NULL); /* sanitized */
    CHECK(strncmp(chat_text(r), "{\"room\":\"defaultRoom\",\"members\":{", 33) == 0);
    json_decref(r);
    free(e);
    ah_connection_destroy(a);
    ah_connection_destroy(b);
}

static void test_say(ah_app_t *app)
{
    ah_connection_t *a = testkit_connection_new(app), *b = testkit_connection_new(app);
    ah_connection_t *outsider = testkit_connection_new(app);
    size_t na, nb, no;
    json_t *m;
    uint64_t before = core_now_ms();

    VERB_OK(a, "roomAdd", "[\"defaultRoom\"]", "true");
    VERB_OK(b, "roomAdd", "[\"defaultRoom\"]", "true");
    na = chat_msg_count(a);
    nb = chat_msg_count(b);
    no = chat_msg_count(outsider);

    /* the reply (no data) comes before the message itself */
    VERB_OK(a, "say", "[\"defaultRoom\", \"hello\", \"there\"]", "(null)");
    CHECK_EQ_INT(chat_msg_count(a), na);
    CHECK(chat_wait_msgs(&app, 1, a, na + 1));
    CHECK(chat_wait_msgs(&app, 1, b, nb + 1));
    m = chat_last_msg(b);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "message")), "hello there");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "room")), "defaultRoom");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "from")), a->id);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "context")), "user");
    CHECK(json_integer_value(json_object_get(m, "sentAt")) >= (json_int_t)before);
    CHECK_EQ_INT(json_object_size(m), 5);
    CHECK(json_equal(chat_last_msg(a), m));
    chat_run_for(&app, 1, 5);
    CHECK_EQ_INT(chat_msg_count(outsider), no);

    /* words are joined like Array.prototype.join */
    VERB_OK(a, "say", "[\"defaultRoom\", 1, null, true, 2.5, \"x\"]", "(null)");
    CHECK(chat_wait_msgs(&app, 1, b, nb + 2));
    CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(b), "message")), "1  true 2.5 x");
    VERB_OK(a, "say", "[\"defaultRoom\", {\"a\": 1}]", "(null)");
    CHECK(chat_wait_msgs(&app, 1, b, nb + 3));
    CHECK_EQ_STR(json_string_value(json_object_get(chat_last_msg(b), "message")), "[object Object]");

    /* errors */
    VERB_ERR(outsider, "say", "[\"defaultRoom\", \"hi\"]", "Error: connection not in this room (defaultRoom)");
    VERB_ERR(a, "say", "[\"otherRoom\", \"hi\"]", "Error: connection not in this room (otherRoom)");
    VERB_ERR(a, "say", "[\"defaultRoom\"]", "Error: both room and message are required");
    VERB_ERR(a, "say", "[\"defaultRoom\", \"\"]", "Error: both room and message are required");
    VERB_ERR(a, "say", "[\"\", \"hi\"]", "Error: both room and message are required");
    VERB_ERR(a, "say", "[null, \"hi\"]", "Error: both room and message are required");
    VERB_ERR(a, "say", "[0, \"hi\"]", "Error: both room and message are required");
    VERB_ERR(a, "say", NULL, "Error: both room and message are required");
    chat_run_for(&app, 1, 5);
    CHECK_EQ_INT(chat_msg_count(b), nb + 3);

    /* after leaving, nothing more arrives */
    VERB_OK(b, "roomLeave", "[\"defaultRoom\"]", "true");
    VERB_OK(a, "say", "[\"defaultRoom\", \"anyone?\"]", "(null)");
    CHECK(chat_wait_msgs(&app, 1, a, na + 4));
    chat_run_for(&app, 1, 5);
    CHECK_EQ_INT(chat_msg_count(b), nb + 3);
    ah_connection_destroy(a);
    ah_connection_destroy(b);
    ah_connection_destroy(outsider);
}

/* Server types of this test: one that cannot chat, one with the
 * send_serialized fast path. */
static int quiet_sent;
static int fast_objects, fast_serialized;
static struct buf fast_bytes;

static void quiet_send(ah_connection_t *c, json_t *m)
{
    (void)c;
    (void)m;
    quiet_sent++;
}

static void fast_send(ah_connection_t *c, json_t *m)
{
    (void)c;
    (void)m;
    fast_objects++;
}

static void fast_send_serialized(ah_connection_t *c, const char *json, size_t len)
{
    (void)c;
    fast_serialized++;
    buf_reset(&fast_bytes);
    buf_add(&fast_bytes, json, len);
}

static const ah_server_type_t quiet_type = {.name = "quiet", .can_chat = false, .send_message = quiet_send};
static const ah_server_type_t fast_type = {
    .name = "fast", .can_chat = true, .send_message = fast_send, .send_serialized = fast_send_serialized};

static void test_delivery_paths(ah_app_t *app)
{
    struct conn_init init = {.remote_ip = "1.2.3.4", .remote_port = "1"};
    ah_connection_t *q = conn_new(app, &quiet_type, &init);
    ah_connection_t *f1 = conn_new(app, &fast_type, &init), *f2 = conn_new(app, &fast_type, &init);
    ah_connection_t *t = testkit_connection_new(app);
    json_t *msg, *got;
    size_t nt;

    CALL(app, &res, ah_chat_add_member(app, q->id, "otherRoom", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, f1->id, "otherRoom", chat_res_cb, &res));
    CALL(app, &res, ah_chat_add_member(app, f2->id, "otherRoom", chat_res_cb, &res));
    VERB_OK(t, "roomAdd", "[\"otherRoom\"]", "true");
    nt = chat_msg_count(t);

    /* U+2028 and U+2029 escaped in the shared bytes (websocket output) */
    msg = json_string("line\xe2\x80\xa8" "sep\xe2\x80\xa9" "end");
    CALL(app, &res, ah_chat_broadcast(app, NULL, "otherRoom", msg, chat_res_cb, &res));
    json_decref(msg);
    CHECK(chat_wait_msgs(&app, 1, t, nt + 1));
    chat_run_for(&app, 1, 5);
    CHECK_EQ_INT(quiet_sent, 0);          /* canChat false: nothing */
    CHECK_EQ_INT(fast_serialized, 2);     /* once per member ... */
    CHECK_EQ_INT(fast_objects, 0);
    got = json_loadb(fast_bytes.data ? fast_bytes.data : "", fast_bytes.len, 0, NULL);
    CHECK(json_equal(got, chat_last_msg(t))); /* ... the same payload */
    json_decref(got);
    CHECK(fast_bytes.data && strstr(fast_bytes.data, "line\\u2028sep\\u2029end") != NULL);
    CHECK(fast_bytes.data && strncmp(fast_bytes.data, "{\"message\":\"line", 16) == 0);

    /* a payload a server would change (no context) goes as an object */
    {
        ah_chat_hooks_t h = {0};

        h.generate_message_payload = no_context_payload;
        CHECK_EQ_INT(ah_chat_set_hooks(app, &h), 0);
        msg = json_string("plain");
        CALL(app, &res, ah_chat_broadcast(app, NULL, "otherRoom", msg, chat_res_cb, &res));
        json_decref(msg);
        CHECK(chat_wait_msgs(&app, 1, t, nt + 2));
        chat_run_for(&app, 1, 5);
        CHECK_EQ_INT(fast_serialized, 2);
        CHECK_EQ_INT(fast_objects, 2);
        h.generate_message_payload = ah_chat_default_generate_message_payload;
        CHECK_EQ_INT(ah_chat_set_hooks(app, &h), 0);
    }
    ah_connection_destroy(q);
    ah_connection_destroy(f1);
    ah_connection_destroy(f2);
    ah_connection_destroy(t);
    buf_release(&fast_bytes);
}

static void test_destroy(ah_app_t *app)
{
    ah_connection_t *a = testkit_connection_new(app), *b = testkit_connection_new(app);
    json_t *r = NULL;

    VERB_OK(a, "roomAdd", "[\"defaultRoom\"]", "true");
    VERB_OK(a, "roomAdd", "[\"otherRoom\"]", "true");
    VERB_OK(b, "roomAdd", "[\"defaultRoom\"]", "true");
    VERB_OK(b, "roomAdd", "[\"otherRoom\"]", "true");
    CALL(app, &res, ah_chat_room_status(app, "otherRoom", chat_res_cb, &res));
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 2);

    /* quit destroys: every room is left */
    CHECK_EQ_INT(testkit_verb(a, "quit", NULL, &r, NULL), 0);
    CHECK(r == NULL);
    chat_run_for(&app, 1, 5);
    CALL(app, &res, ah_chat_room_status(app, "otherRoom", chat_res_cb, &res));
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 1);
    CALL(app, &res, ah_chat_room_status(app, "defaultRoom", chat_res_cb, &res));
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 1);
    CHECK(json_object_get(json_object_get(res.result, "members"), b->id) != NULL);

    /* a destroyed connection receives nothing, and delivery to the others
     * goes on */
    VERB_OK(b, "say", "[\"defaultRoom\", \"still here\"]", "(null)");
    CHECK(chat_wait_msgs(&app, 1, b, 2));
    ah_connection_destroy(b);
    chat_run_for(&app, 1, 5);
    CALL(app, &res, ah_chat_room_status(app, "defaultRoom", chat_res_cb, &res));
    CHECK_EQ_INT(json_integer_value(json_object_get(res.result, "membersCount")), 0);
}

int main(void)
{
    ah_app_t *app;

    setenv("LOG_LEVEL", "alert", 0);
    app = chat_app_new(NULL);
    test_room_add_leave(app);
    test_room_view(app);
    test_say(app);
    test_delivery_paths(app);
    test_destroy(app);
    chat_res_reset(&res);
    CHECK_EQ_INT(testkit_app_free(app), 0);
    return check_done();
}
