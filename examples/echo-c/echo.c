/*
 * The echo network in C: the same network as plugins/echo (Go), on the C binding (sdk/c).
 * Every contact echoes what the user says.
 *
 *   - registration asks for a name (1 to 64 characters); login accepts any name.
 *   - the roster has five friends: eve (online, phone), dora (away, "out for lunch"), liam (xa,
 *     last seen 7 days ago), bot (online, a bot) and plain (online); each has an avatar and a
 *     vCard. Any other legacy id is a valid contact too, named after its id.
 *   - a text to any contact but plain is reported sent (legacy id u-N), then the contact types,
 *     marks it displayed and answers "echo: <text>" (legacy id e-N); the reply's id is kept in
 *     the plugin's storage (kv "reply/u-N"), so that a correction of the user's message corrects
 *     the reply, a retraction retracts it (even after an instance restart), and reactions are
 *     echoed on the user's message. A file is echoed as "echo: <url>".
 *   - the text "file <url>" makes the contact download the URL (file.fetch) and send it back as
 *     a file (contact.file) with the caption "echo: file"; a failed download is answered
 *     "echo: could not fetch <url>: <reason>".
 *   - plain only answers "echo: <text>": no typing, no markers, no corrections.
 *   - the text "fail" is refused with "the echo network refuses this message".
 *   - search finds a roster contact by id or name.
 *   - [gateway.config] contacts = N adds N generated contacts (c0, c1, ..., online) to every
 *     roster, for benchmarks of large rosters.
 *
 * Build (scripts/build-examples.sh does it, and generates avatars.h from
 * the PNG files of plugins/echo/avatars first):
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor -I sdk/c \
 *         -I build/gen/echo-c -o build/examples/echo-c.wasm examples/echo-c/echo.c sdk/c/gateway.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avatars.h" /* generated: echo_avatars[] */
#include "gateway.h"

/* ---- The network ---- */

typedef struct {
  const char *id, *name, *given, *family, *note, *show, *status, *client;
  long last_seen_ago; /* seconds, 0: unknown */
} person;

static const person roster[] = {
    {"eve", "Eve Echo", "Eve", "Echo", "Echoes everything you say, from her phone.", "online", NULL, "phone", 0},
    {"dora", "Dora Away", "Dora", "Away", "Echoes you, even while away.", "away", "out for lunch", NULL, 0},
    {"liam", "Liam Lastweek", "Liam", "Lastweek", "Has not been around for a week, but still echoes.", "xa", NULL, NULL,
     7L * 24 * 3600},
    {"bot", "Helper Bot", "Helper", "Bot", "A bot that echoes.", "online", NULL, "bot", 0},
    {"plain", "Plain Echo", "Plain", "Echo", "Answers with a plain echo: no typing, no markers.", "online", NULL, NULL, 0},
};
#define NROSTER (sizeof roster / sizeof roster[0])

/* Errors the user sees. */
#define ERR_REFUSED "the echo network refuses this message"
#define ERR_NO_SUCH_USER "no such echo user"
#define ERR_EMPTY_NAME "Your name on the echo network cannot be empty."
#define ERR_LONG_NAME "Your name on the echo network is too long: at most 64 characters."
#define MAX_NAME_RUNES 64
#define SEQ_BLOCK 100 /* message ids reserved in storage at a time */
#define KEY_SEQ "seq"
#define KEY_REPLY_PREFIX "reply/"

static const person *lookup(const char *id, size_t n) {
  for (size_t i = 0; i < NROSTER; i++)
    if (strlen(roster[i].id) == n && memcmp(roster[i].id, id, n) == 0) return &roster[i];
  return NULL;
}

static const echo_avatar *avatar_of(const char *id) {
  for (size_t i = 0; i < sizeof echo_avatars / sizeof echo_avatars[0]; i++)
    if (strcmp(echo_avatars[i].contact, id) == 0) return &echo_avatars[i];
  return NULL;
}

/* extra_contacts is the number of generated contacts added to every roster ([gateway.config]
 * key "contacts"). */
static long extra_contacts;

/* ---- Sessions ---- */

/* A string-keyed hash map (open addressing, linear probing) that owns its keys: the sessions
 * by JID, and each session's known contacts. */
typedef struct {
  char **keys;
  void **vals;
  size_t cap, len; /* cap is 0 or a power of two */
} strmap;

static size_t hash(const char *s) {
  size_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* The slot of key: where it is, or the empty slot where it would go. */
static size_t slot(const strmap *m, const char *key) {
  size_t i = hash(key) & (m->cap - 1);
  while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & (m->cap - 1);
  return i;
}

static void *map_get(const strmap *m, const char *key) {
  if (!m->len) return NULL;
  size_t i = slot(m, key);
  return m->keys[i] ? m->vals[i] : NULL;
}

/* Sets key (copied) to val (not NULL); false when out of memory. */
static bool map_put(strmap *m, const char *key, void *val) {
  if (2 * (m->len + 1) > m->cap) { /* grow to keep the load under one half */
    strmap g = {calloc(m->cap ? 2 * m->cap : 16, sizeof(char *)), calloc(m->cap ? 2 * m->cap : 16, sizeof(void *)),
                m->cap ? 2 * m->cap : 16, 0};
    if (!g.keys || !g.vals) {
      free(g.keys);
      free(g.vals);
      return false;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->keys[i]) {
        size_t j = slot(&g, m->keys[i]);
        g.keys[j] = m->keys[i];
        g.vals[j] = m->vals[i];
        g.len++;
      }
    free(m->keys);
    free(m->vals);
    *m = g;
  }
  size_t i = slot(m, key);
  if (!m->keys[i]) {
    size_t n = strlen(key) + 1;
    if (!(m->keys[i] = malloc(n))) return false;
    memcpy(m->keys[i], key, n);
    m->len++;
  }
  m->vals[i] = val;
  return true;
}

/* Removes key; returns its value (NULL if absent). */
static void *map_del(strmap *m, const char *key) {
  if (!m->len) return NULL;
  size_t i = slot(m, key);
  if (!m->keys[i]) return NULL;
  void *val = m->vals[i];
  free(m->keys[i]);
  m->keys[i] = NULL;
  m->len--;
  /* Re-insert the rest of the cluster so that probing still finds it. */
  for (size_t j = (i + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
    char *k = m->keys[j];
    void *v = m->vals[j];
    m->keys[j] = NULL;
    size_t t = slot(m, k);
    m->keys[t] = k;
    m->vals[t] = v;
  }
  return val;
}

static void map_free(strmap *m) {
  for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

/* One user's session: message ids, next is the last one used, limit the end of the block
 * reserved in storage (so an instance restart never reuses an id). */
typedef struct {
  long next, limit;
  bool loaded;
  /* The contacts this session already knows of (from an event about them or a contact.get),
   * as the Go SDK caches them: a contact.get is made only for the others. */
  strmap known;
} session;

static strmap sessions; /* by JID */

static session *find_session(gw_json jid, bool create) {
  gw_buf b = {0};
  session *s = NULL;
  if (!gw_json_string(jid, &b)) goto out;
  s = map_get(&sessions, b.data);
  if (s || !create) goto out;
  s = calloc(1, sizeof *s);
  if (s && !map_put(&sessions, b.data, s)) {
    free(s);
    s = NULL;
  }
out:
  gw_buf_free(&b);
  return s;
}

static void end_session(gw_json jid) {
  gw_buf b = {0};
  if (gw_json_string(jid, &b)) {
    session *s = map_del(&sessions, b.data);
    if (s) {
      map_free(&s->known);
      free(s);
    }
  }
  gw_buf_free(&b);
}

static bool is_known(const session *s, const char *id) { return s && map_get(&s->known, id) != NULL; }

static void add_known(session *s, const char *id) {
  if (s) map_put(&s->known, id, s); /* any non-NULL value */
}

/* Records that the session knows the contact of a JSON string (an event's chat or legacy_id). */
static void add_known_json(session *s, gw_json id) {
  gw_buf b = {0};
  if (s && gw_json_string(id, &b)) add_known(s, b.data);
  gw_buf_free(&b);
}

/* ---- Host calls ---- */

static gw_jw req;   /* the request being built; reused */
static gw_buf resp; /* the last response; reused */
static gw_buf tmp;  /* scratch strings; reused */

/* Starts a request object. */
static gw_jw *begin(void) {
  gw_jw_reset(&req);
  gw_jw_object(&req);
  return &req;
}

/* Ends the request and makes the call: 0 or an error code (see gw_last_error). */
static int call(const char *method) {
  gw_jw_end_object(&req);
  return gw_host_call_jw(method, &req, &resp);
}

static void field_str(const char *key, const char *v) {
  gw_jw_key(&req, key);
  gw_jw_str(&req, v);
}

/* A string field copied from the event as it is (still escaped); "" when it is absent. */
static void field_json(const char *key, gw_json v) {
  gw_jw_key(&req, key);
  if (v.type == GW_JSON_STRING) gw_jw_json_str(&req, v);
  else gw_jw_str(&req, "");
}

/* kv.get: 0 and the value in tmp, GW_NOT_FOUND when absent, or another error code. */
static int kv_get(const char *key) {
  begin();
  field_str("key", key);
  int code = call("kv.get");
  if (code) return code;
  gw_buf_reset(&tmp);
  if (!gw_json_string(gw_json_get(gw_json_parse(resp.data, resp.len), "value"), &tmp)) gw_buf_puts(&tmp, "");
  return 0;
}

static int kv_set(const char *key, const char *value) {
  begin();
  field_str("key", key);
  field_str("value", value);
  return call("kv.set");
}

/* Go's strconv.Atoi, returning 0 for what it refuses. */
static long atoi_or_zero(const char *s) {
  char *end;
  if (!*s) return 0;
  long v = strtol(s, &end, 10);
  return *end || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')) ? 0 : v;
}

static int reserve(session *s) {
  char v[32];
  s->limit += SEQ_BLOCK;
  snprintf(v, sizeof v, "%ld", s->limit);
  return kv_set(KEY_SEQ, v);
}

/* Reserves a block of message ids in storage. */
static int load_seq(session *s) {
  int code = kv_get(KEY_SEQ);
  if (code && code != GW_NOT_FOUND) return code;
  long n = code ? 0 : atoi_or_zero(tmp.data);
  s->next = s->limit = n;
  s->loaded = true;
  return reserve(s);
}

/* A fresh message number, unique for the user across restarts; 0 on error. */
static long next_id(session *s) {
  if (!s->loaded && load_seq(s)) return 0;
  if (s->next >= s->limit && reserve(s)) return 0;
  return ++s->next;
}

/* The last error as Go's abi.Error formats it: "<code>: <message>". */
static const char *last_error_text(void) {
  const gw_error *e = gw_last_error();
  static gw_buf b;
  gw_buf_reset(&b);
  gw_buf_printf(&b, "%s: %s", gw_code_name(e->code), e->message.data ? e->message.data : "");
  return b.data ? b.data : "";
}

/* ---- Contacts ---- */

/* Writes the presence object of p. */
static void write_presence(const char *show, const char *status, long last_seen_ago) {
  gw_jw_key(&req, "presence");
  gw_jw_object(&req);
  field_str("show", show);
  if (status) field_str("status", status);
  if (last_seen_ago > 0) {
    gw_jw_key(&req, "last_seen");
    gw_jw_int(&req, (int64_t)time(NULL) - last_seen_ago);
  }
  gw_jw_end_object(&req);
}

/* contact.update with everything the network knows of a roster contact. */
static int describe(const person *p) {
  begin();
  field_str("legacy_id", p->id);
  field_str("name", p->name);
  const echo_avatar *a = avatar_of(p->id);
  if (a) {
    gw_jw_key(&req, "avatar");
    gw_jw_object(&req);
    gw_jw_key(&req, "data");
    gw_jw_base64(&req, a->data, a->len);
    field_str("type", "image/png");
    field_str("id", a->hash);
    gw_jw_end_object(&req);
  }
  gw_jw_key(&req, "vcard");
  gw_jw_object(&req);
  field_str("full_name", p->name);
  field_str("given", p->given);
  field_str("family", p->family);
  field_str("note", p->note);
  gw_jw_end_object(&req);
  write_presence(p->show, p->status, p->last_seen_ago);
  if (p->client) field_str("client_type", p->client);
  gw_jw_key(&req, "friend");
  gw_jw_bool(&req, true);
  return call("contact.update");
}

/* Looks the contact up unless the session knows it already; logs a failure. */
static int contact_get(session *s, const char *id) {
  if (is_known(s, id)) return 0;
  begin();
  field_str("legacy_id", id);
  int code = call("contact.get");
  if (code) gw_logf(GW_LOG_WARN, "gateway: contact.get \"%s\": %s", id, last_error_text());
  else add_known(s, id);
  return code;
}

static int contact_ref(const char *method, const char *id) {
  begin();
  field_str("legacy_id", id);
  return call(method);
}

/* ---- Events ---- */

static int32_t on_init(const gw_envelope *e) {
  gw_json contacts = gw_json_get(e->payload, "config.contacts");
  int64_t n = 0;
  if (gw_json_present(contacts) && !gw_json_int(contacts, &n)) {
    gw_reply_error(GW_INTERNAL, "[gateway.config]: contacts: expected an integer");
    return GW_ERROR;
  }
  if (n < 0 || n > 100000) {
    char msg[96];
    snprintf(msg, sizeof msg, "[gateway.config] contacts = %lld: expected 0 to 100000", (long long)n);
    gw_reply_error(GW_INTERNAL, msg);
    return GW_ERROR;
  }
  extra_contacts = (long)n;
  static const char reply[] =
      "{\"name\":\"Echo\",\"registration\":{"
      "\"instructions\":\"Pick any name: everyone on the echo network echoes what you say.\","
      "\"fields\":[{\"var\":\"name\",\"label\":\"Your name on the echo network\",\"required\":true}]},"
      "\"features\":[\"search\",\"files\",\"corrections\",\"retractions\",\"reactions\"]}";
  gw_reply_json(reply, sizeof reply - 1);
  return GW_OK;
}

static int32_t on_validate(const gw_envelope *e) {
  gw_json request = gw_json_get(e->payload, "request");
  gw_buf_reset(&tmp);
  gw_json_string(gw_json_get(e->payload, "values.name"), &tmp);
  const char *name = tmp.data ? tmp.data : "";
  size_t n = tmp.len;
  gw_trim_space(&name, &n);
  const char *err = n == 0 ? ERR_EMPTY_NAME : gw_utf8_len(name, n) > MAX_NAME_RUNES ? ERR_LONG_NAME : NULL;
  begin();
  field_json("request", request);
  if (err) field_str("error", err);
  return call("registration.result") ? gw_fail_with_last_error() : GW_OK;
}

static int32_t on_login(const gw_envelope *e) {
  session *s = find_session(e->session, true);
  if (!s) {
    gw_reply_error(GW_INTERNAL, "out of memory");
    return GW_ERROR;
  }
  gw_buf name = {0};
  gw_json_string(gw_json_get(e->payload, "registration.name"), &name);
  int code = load_seq(s);
  begin();
  if (code) {
    field_str("error", last_error_text());
    code = call("session.login_failed");
  } else {
    gw_buf_reset(&tmp);
    gw_buf_printf(&tmp, "Echo network: logged in as %s", name.data ? name.data : "");
    field_str("status", tmp.data);
    code = call("session.logged_in");
  }
  gw_buf_free(&name);
  return code ? gw_fail_with_last_error() : GW_OK;
}

static int32_t on_restored(const gw_envelope *e) {
  session *s = find_session(e->session, true);
  if (!s) {
    gw_reply_error(GW_INTERNAL, "out of memory");
    return GW_ERROR;
  }
  return load_seq(s) ? gw_fail_with_last_error() : GW_OK;
}

static int32_t on_fill(session *s) {
  for (size_t i = 0; i < NROSTER; i++) {
    contact_get(s, roster[i].id);
    if (describe(&roster[i]) || contact_ref("contact.add", roster[i].id)) return gw_fail_with_last_error();
  }
  for (long i = 0; i < extra_contacts; i++) {
    char id[24], name[32];
    snprintf(id, sizeof id, "c%ld", i);
    snprintf(name, sizeof name, "Contact %ld", i);
    contact_get(s, id);
    begin();
    field_str("legacy_id", id);
    field_str("name", name);
    write_presence("online", NULL, 0);
    if (call("contact.update") || contact_ref("contact.add", id)) return gw_fail_with_last_error();
  }
  return GW_OK;
}

static int32_t on_update_info(const gw_envelope *e) {
  gw_buf id = {0};
  if (!gw_json_string(gw_json_get(e->payload, "legacy_id"), &id)) {
    gw_reply_error(GW_BAD_REQUEST, "contact.update_info: no legacy_id");
    return GW_ERROR;
  }
  const person *p = lookup(id.data, id.len);
  int code;
  if (p) {
    code = describe(p);
  } else { /* anyone else is an echo contact too, known by their id only */
    begin();
    field_str("legacy_id", id.data);
    field_str("name", id.data);
    gw_jw_key(&req, "vcard");
    gw_jw_object(&req);
    field_str("full_name", id.data);
    field_str("note", "An echo network user.");
    gw_jw_end_object(&req);
    write_presence("online", NULL, 0);
    code = call("contact.update");
  }
  if (!code) code = contact_ref("contact.ready", id.data);
  gw_buf_free(&id);
  return code ? gw_fail_with_last_error() : GW_OK;
}

static int32_t on_friend_request(const gw_envelope *e) {
  begin();
  field_json("legacy_id", gw_json_get(e->payload, "legacy_id"));
  gw_jw_key(&req, "friend");
  gw_jw_bool(&req, true);
  if (call("contact.update")) gw_logf(GW_LOG_WARN, "gateway: contact.update: %s", last_error_text());
  return GW_OK;
}

static int32_t on_search(const gw_envelope *e) {
  gw_buf_reset(&tmp);
  gw_json_string(gw_json_get(e->payload, "query"), &tmp);
  const char *q = tmp.data ? tmp.data : "";
  size_t n = tmp.len;
  gw_trim_space(&q, &n);
  const person *found = NULL;
  for (size_t i = 0; i < NROSTER && !found; i++)
    if (gw_equal_fold(q, n, roster[i].id, strlen(roster[i].id)) ||
        gw_equal_fold(q, n, roster[i].name, strlen(roster[i].name)))
      found = &roster[i];
  begin();
  field_json("request", gw_json_get(e->payload, "request"));
  if (found) field_str("legacy_id", found->id);
  else field_str("error", ERR_NO_SUCH_USER);
  return call("search.result") ? gw_fail_with_last_error() : GW_OK;
}

static bool is_plain(const gw_envelope *e) { return gw_json_eq(e->chat_id, "plain", 5); }

/* Takes the next id n of session s for the user's message xmpp_id: reports it sent as u-<n>
 * (written to uid) and names its echo e-<n> (eid). Without an id it reports the message failed.
 * False means the event is over, with status *st. */
static bool accept_message(session *s, gw_json xmpp_id, char uid[24], char eid[24], int32_t *st) {
  long n = s ? next_id(s) : 0;
  if (!n) {
    const char *why = s ? last_error_text() : "internal: out of memory";
    begin();
    field_json("id", xmpp_id);
    field_str("error", why);
    *st = call("message.failed") ? gw_fail_with_last_error() : GW_OK;
    return false;
  }
  snprintf(uid, 24, "u-%ld", n);
  snprintf(eid, 24, "e-%ld", n);
  begin();
  field_json("id", xmpp_id);
  field_str("legacy_id", uid);
  if (call("message.sent")) {
    *st = gw_fail_with_last_error();
    return false;
  }
  return true;
}

/* Reports the user's message xmpp_id sent and answers it with text (a message.text's text or a
 * message.file's url). */
static int32_t echo(const gw_envelope *e, gw_json xmpp_id, gw_json text) {
  if (gw_json_eq(text, "fail", 4)) {
    begin();
    field_json("id", xmpp_id);
    field_str("error", ERR_REFUSED);
    return call("message.failed") ? gw_fail_with_last_error() : GW_OK;
  }
  session *s = find_session(e->session, true);
  char uid[24], eid[24];
  int32_t st;
  if (!accept_message(s, xmpp_id, uid, eid, &st)) return st;
  if (!is_plain(e)) {
    begin();
    field_json("legacy_id", e->chat_id);
    field_str("state", "composing");
    if (call("contact.state")) return gw_fail_with_last_error();
    begin();
    field_json("legacy_id", e->chat_id);
    field_str("id", uid);
    if (call("contact.displayed")) return gw_fail_with_last_error();
  }
  gw_buf_reset(&tmp);
  gw_buf_puts(&tmp, "echo: ");
  gw_json_string(text, &tmp);
  begin();
  field_json("legacy_id", e->chat_id);
  field_str("id", eid);
  field_str("text", tmp.data);
  if (call("contact.text")) return gw_fail_with_last_error();
  if (is_plain(e)) return GW_OK;
  char key[32];
  snprintf(key, sizeof key, KEY_REPLY_PREFIX "%s", uid);
  return kv_set(key, eid) ? gw_fail_with_last_error() : GW_OK;
}

/* "file <url>": reports the user's message sent and starts downloading url (file.fetch); the
 * answer comes as file.fetched (on_file_fetched). */
static int32_t file_back(const gw_envelope *e, session *s, gw_json xmpp_id, const char *url) {
  char uid[24], eid[24];
  int32_t st;
  if (!accept_message(s, xmpp_id, uid, eid, &st)) return st;
  begin();
  field_str("url", url);
  gw_jw_key(&req, "context"); /* who sends it back, with which id */
  gw_jw_object(&req);
  field_json("contact", e->chat_id);
  field_str("id", eid);
  field_str("url", url);
  gw_jw_end_object(&req);
  if (!call("file.fetch")) return GW_OK;
  gw_buf text = {0};
  gw_buf_printf(&text, "echo: could not fetch %s: %s", url, last_error_text());
  begin();
  field_json("legacy_id", e->chat_id);
  field_str("id", eid);
  field_str("text", text.data ? text.data : "");
  gw_buf_free(&text);
  return call("contact.text") ? gw_fail_with_last_error() : GW_OK;
}

static int32_t on_text(const gw_envelope *e, session *s) {
  gw_json id = gw_json_get(e->payload, "id"), text = gw_json_get(e->payload, "text");
  gw_buf t = {0};
  gw_json_string(text, &t);
  if (t.len >= 5 && memcmp(t.data, "file ", 5) == 0) {
    const char *url = t.data + 5;
    size_t n = t.len - 5;
    gw_trim_space(&url, &n);
    char *u = malloc(n + 1);
    int32_t st = GW_ERROR;
    if (u) {
      memcpy(u, url, n);
      u[n] = 0;
      st = file_back(e, s, id, u);
      free(u);
    } else {
      gw_reply_error(GW_INTERNAL, "out of memory");
    }
    gw_buf_free(&t);
    return st;
  }
  gw_buf_free(&t);
  return echo(e, id, text);
}

/* file.fetched: sends the downloaded file back from the contact, and releases the handle; or
 * tells why the download failed. */
static int32_t on_file_fetched(const gw_envelope *e, session *s) {
  gw_json ctx = gw_json_get(e->payload, "context");
  /* A context made by the Go SDK wraps the plugin's own in "c". */
  if (ctx.type == GW_JSON_OBJECT && gw_json_get(ctx, "gw").type != GW_JSON_NONE) ctx = gw_json_get(ctx, "c");
  gw_json contact = gw_json_get(ctx, "contact"), id = gw_json_get(ctx, "id"), url = gw_json_get(ctx, "url");
  bool ok = ctx.type == GW_JSON_NULL || ctx.type == GW_JSON_OBJECT;
  for (gw_json_iter_t it = gw_json_iter(ctx); ok && ctx.type == GW_JSON_OBJECT;) { /* the fields that are there are strings */
    gw_json k, v;
    if (!gw_json_next(&it, &k, &v)) break;
    if ((gw_json_eq(k, "contact", 7) || gw_json_eq(k, "id", 2) || gw_json_eq(k, "url", 3)) && v.type != GW_JSON_STRING && v.type != GW_JSON_NULL) ok = false;
  }
  if (!ok || contact.type != GW_JSON_STRING || contact.n <= 2) {
    gw_buf msg = {0};
    gw_buf_puts(&msg, "file.fetched with an unknown context ");
    if (ctx.type != GW_JSON_NONE) gw_buf_append(&msg, ctx.p, ctx.n);
    gw_reply_error(GW_NETWORK, msg.data);
    gw_buf_free(&msg);
    return GW_ERROR;
  }
  gw_buf who = {0};
  gw_json_string(contact, &who);
  contact_get(s, who.data);
  gw_buf_free(&who);

  gw_json err = gw_json_get(e->payload, "error"), file = gw_json_get(e->payload, "file");
  if (gw_json_present(err)) {
    gw_buf text = {0}, msg = {0};
    gw_json code = gw_json_get(err, "code");
    gw_json_string(gw_json_get(err, "message"), &msg);
    gw_buf_puts(&text, "echo: could not fetch ");
    gw_json_string(url, &text);
    gw_buf_printf(&text, ": %s: %s", gw_code_name(gw_code_of(code.p ? code.p + 1 : "", code.type == GW_JSON_STRING ? code.n - 2 : 0)),
                  msg.data ? msg.data : "");
    begin();
    field_json("legacy_id", contact);
    field_json("id", id);
    field_str("text", text.data);
    gw_buf_free(&text);
    gw_buf_free(&msg);
    return call("contact.text") ? gw_fail_with_last_error() : GW_OK;
  }
  if (file.type != GW_JSON_OBJECT) {
    gw_reply_error(GW_INTERNAL, "file.fetched: neither a file nor an error");
    return GW_ERROR;
  }
  gw_json handle = gw_json_get(file, "handle"), type = gw_json_get(file, "type"), name = gw_json_get(file, "name");
  int64_t size = 0;
  gw_json_int(gw_json_get(file, "size"), &size);
  begin();
  field_json("legacy_id", contact);
  field_json("id", id);
  gw_jw_key(&req, "file");
  gw_jw_object(&req);
  field_json("handle", handle);
  gw_jw_key(&req, "size");
  gw_jw_int(&req, size);
  if (type.type == GW_JSON_STRING && type.n > 2) field_json("type", type);
  if (name.type == GW_JSON_STRING && name.n > 2) field_json("name", name);
  gw_jw_end_object(&req);
  field_str("caption", "echo: file");
  if (call("contact.file")) return gw_fail_with_last_error();
  begin();
  field_json("handle", handle);
  return call("file.release") ? gw_fail_with_last_error() : GW_OK;
}

/* The message events need a chat. */
static int32_t no_chat(const char *type) {
  gw_buf_reset(&tmp);
  gw_buf_printf(&tmp, "%s: the envelope has no chat", type);
  gw_reply_error(GW_BAD_REQUEST, tmp.data);
  return GW_ERROR;
}

/* Finds the echo of the user's message target: 0 with its id in tmp, GW_NOT_FOUND, or an
 * error code. */
static int reply_of(gw_json target) {
  gw_buf key = {0};
  gw_buf_puts(&key, KEY_REPLY_PREFIX);
  gw_json_string(target, &key);
  int code = key.oom ? GW_INTERNAL : kv_get(key.data);
  gw_buf_free(&key);
  return code;
}

static int32_t on_correct(const gw_envelope *e) {
  if (is_plain(e)) return GW_OK;
  int code = reply_of(gw_json_get(e->payload, "target"));
  if (code == GW_NOT_FOUND) return GW_OK;
  if (code) return gw_fail_with_last_error();
  gw_buf text = {0};
  gw_buf_puts(&text, "echo: ");
  gw_json_string(gw_json_get(e->payload, "text"), &text);
  begin();
  field_json("legacy_id", e->chat_id);
  field_str("id", tmp.data);
  field_str("text", text.data);
  gw_buf_free(&text);
  return call("contact.correct") ? gw_fail_with_last_error() : GW_OK;
}

static int32_t on_retract(const gw_envelope *e) {
  if (is_plain(e)) return GW_OK;
  gw_json target = gw_json_get(e->payload, "target");
  int code = reply_of(target);
  if (code == GW_NOT_FOUND) return GW_OK;
  if (code) return gw_fail_with_last_error();
  begin();
  field_json("legacy_id", e->chat_id);
  field_str("id", tmp.data);
  if (call("contact.retract")) return gw_fail_with_last_error();
  gw_buf key = {0};
  gw_buf_puts(&key, KEY_REPLY_PREFIX);
  gw_json_string(target, &key);
  begin();
  field_str("key", key.data ? key.data : "");
  gw_buf_free(&key);
  return call("kv.delete") ? gw_fail_with_last_error() : GW_OK;
}

static int32_t on_react(const gw_envelope *e) {
  if (is_plain(e)) return GW_OK;
  begin();
  field_json("legacy_id", e->chat_id);
  field_json("id", gw_json_get(e->payload, "target"));
  gw_jw_key(&req, "reactions");
  gw_jw_array(&req);
  gw_json_iter_t it = gw_json_iter(gw_json_get(e->payload, "reactions"));
  gw_json r;
  while (gw_json_next(&it, NULL, &r)) {
    if (r.type != GW_JSON_STRING) {
      gw_reply_error(GW_BAD_REQUEST, "message.react: reactions must be strings");
      return GW_ERROR;
    }
    gw_jw_json_str(&req, r);
  }
  gw_jw_end_array(&req);
  return call("contact.react") ? gw_fail_with_last_error() : GW_OK;
}

GW_EXPORT("gw_event") int32_t gw_event(const char *env, int32_t len) {
  gw_envelope e;
  if (!gw_envelope_read(env, (size_t)len, &e)) {
    gw_reply_error(GW_BAD_REQUEST, "envelope: not a JSON object with a type");
    return GW_ERROR;
  }
  if (gw_envelope_is(&e, "init")) return on_init(&e);
  if (e.session.type == GW_JSON_NONE) return GW_UNHANDLED; /* nothing else without a session */

  bool chat = e.chat_id.type == GW_JSON_STRING;
  if (gw_envelope_is(&e, "registration.validate")) return on_validate(&e);
  if (gw_envelope_is(&e, "search")) return on_search(&e);
  if (gw_envelope_is(&e, "session.logout") || gw_envelope_is(&e, "session.unregister")) {
    end_session(e.session);
    return GW_OK;
  }
  /* The session's state: made at its first event. */
  session *s = find_session(e.session, true);
  if (chat && (gw_envelope_is(&e, "message.text") || gw_envelope_is(&e, "message.file") ||
               gw_envelope_is(&e, "message.correct") || gw_envelope_is(&e, "message.retract") ||
               gw_envelope_is(&e, "message.react") || gw_envelope_is(&e, "message.displayed") ||
               gw_envelope_is(&e, "chat.state")))
    add_known_json(s, e.chat_id);
  if (gw_envelope_is(&e, "contact.update_info") || gw_envelope_is(&e, "contact.friend_request"))
    add_known_json(s, gw_json_get(e.payload, "legacy_id"));

  if (gw_envelope_is(&e, "message.text")) return chat ? on_text(&e, s) : no_chat("message.text");
  if (gw_envelope_is(&e, "message.file")) {
    if (!chat) return no_chat("message.file");
    return echo(&e, gw_json_get(e.payload, "id"), gw_json_get(e.payload, "url"));
  }
  if (gw_envelope_is(&e, "message.correct")) return chat ? on_correct(&e) : no_chat("message.correct");
  if (gw_envelope_is(&e, "message.retract")) return chat ? on_retract(&e) : no_chat("message.retract");
  if (gw_envelope_is(&e, "message.react")) return chat ? on_react(&e) : no_chat("message.react");
  if (gw_envelope_is(&e, "message.displayed")) return chat ? GW_OK : no_chat("message.displayed");
  if (gw_envelope_is(&e, "chat.state")) return chat ? GW_OK : no_chat("chat.state");
  if (gw_envelope_is(&e, "session.login")) return on_login(&e);
  if (gw_envelope_is(&e, "session.restored")) return on_restored(&e);
  if (gw_envelope_is(&e, "session.input")) return GW_OK;
  if (gw_envelope_is(&e, "roster.fill")) return on_fill(s);
  if (gw_envelope_is(&e, "contact.update_info")) return on_update_info(&e);
  if (gw_envelope_is(&e, "contact.friend_request")) return on_friend_request(&e);
  if (gw_envelope_is(&e, "file.fetched")) return on_file_fetched(&e, s);
  return GW_UNHANDLED; /* the JID mapping events, bridges, timers, newer events */
}
