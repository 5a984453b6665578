/*
 * Tests of the C binding's helpers, built natively against a fake host:
 *
 *   cc -std=c11 -Wall -Wextra -I sdk/c -o /tmp/gateway_test sdk/c/test/gateway_test.c sdk/c/gateway.c
 *   /tmp/gateway_test
 *
 * (sdk/c/Makefile's "test" target does the same.) It prints "N passed, N failed".
 */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    if (cond) passed++;                                                                    \
    else { failed++; fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); }    \
  } while (0)

static bool streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* ---- The fake host ---- */

static char pending[4096];
static int32_t pending_len;
static char last_method[64], last_req[4096], last_reply[4096], last_log[4096];
static int32_t last_level;

int32_t gw_call(const char *method, int32_t method_len, const char *req, int32_t req_len) {
  snprintf(last_method, sizeof last_method, "%.*s", method_len, method);
  snprintf(last_req, sizeof last_req, "%.*s", req_len, req);
  if (strcmp(last_method, "kv.get") == 0) {
    if (strstr(last_req, "\"missing\"")) {
      pending_len = snprintf(pending, sizeof pending, "{\"error\":{\"code\":\"not_found\",\"message\":\"no key \\\"missing\\\"\"}}");
      return -GW_NOT_FOUND;
    }
    /* a response longer than the first buffer the SDK tries */
    pending_len = snprintf(pending, sizeof pending, "{\"value\":\"%0300d\"}", 7);
    return pending_len;
  }
  if (strcmp(last_method, "weird") == 0) { /* an unknown code and no error reply */
    pending_len = 0;
    return -42;
  }
  pending_len = 2;
  memcpy(pending, "{}", 2);
  return 2;
}

int32_t gw_result(char *buf, int32_t cap) {
  if (buf && cap > 0) memcpy(buf, pending, (size_t)(cap < pending_len ? cap : pending_len));
  return pending_len;
}

void gw_reply(const char *json, int32_t len) { snprintf(last_reply, sizeof last_reply, "%.*s", len, json); }

void gw_log(int32_t level, const char *msg, int32_t len) {
  last_level = level;
  snprintf(last_log, sizeof last_log, "%.*s", len, msg);
}

/* ---- Tests ---- */

static void test_reader(void) {
  const char *doc =
      " {\"type\":\"message.text\",\"session\":\"alice@example.org\",\"chat\":{\"id\":\"eve\",\"kind\":\"direct\"},"
      "\"payload\":{\"id\":\"m1\",\"text\":\"a \\\"q\\\" \\\\ \\n \\u00e9 \\ud83d\\ude00 \\u0041 \\/\","
      "\"n\":-42,\"big\":9007199254740993,\"f\":1.5,\"z\":3.0,\"e\":1e3,\"t\":true,\"no\":null,"
      "\"arr\":[\"x\",{\"k\":[1,2]},3],\"empty\":{},\"ea\":[],\"nested\":{\"a\":{\"b\":\"deep\"}},"
      "\"dup\":1,\"dup\":2,\"esc\\u006bey\":\"v\"}} ";
  gw_json root = gw_json_parse(doc, strlen(doc));
  CHECK(root.type == GW_JSON_OBJECT);
  CHECK(root.p == doc + 1 && root.n == strlen(doc) - 2);

  gw_buf b = {0};
  CHECK(gw_json_eq(gw_json_get(root, "type"), "message.text", 12));
  CHECK(!gw_json_eq(gw_json_get(root, "type"), "message.tex", 11));
  CHECK(gw_json_eq(gw_json_get(root, "chat.id"), "eve", 3));
  CHECK(gw_json_string(gw_json_get(root, "payload.text"), &b));
  CHECK(streq(b.data, "a \"q\" \\ \n \xc3\xa9 \xf0\x9f\x98\x80 A /"));
  CHECK(gw_json_eq(gw_json_get(root, "payload.text"), b.data, b.len));

  int64_t n = 0;
  CHECK(gw_json_int(gw_json_get(root, "payload.n"), &n) && n == -42);
  CHECK(gw_json_int(gw_json_get(root, "payload.big"), &n) && n == 9007199254740993LL);
  CHECK(!gw_json_int(gw_json_get(root, "payload.f"), &n));
  CHECK(gw_json_int(gw_json_get(root, "payload.z"), &n) && n == 3);
  CHECK(!gw_json_int(gw_json_get(root, "payload.e"), &n));
  bool t = false;
  CHECK(gw_json_bool(gw_json_get(root, "payload.t"), &t) && t);
  CHECK(gw_json_get(root, "payload.no").type == GW_JSON_NULL);
  CHECK(!gw_json_present(gw_json_get(root, "payload.no")));
  CHECK(!gw_json_present(gw_json_get(root, "payload.absent")));
  CHECK(gw_json_get(root, "payload.text.x").type == GW_JSON_NONE);
  CHECK(gw_json_eq(gw_json_get(root, "payload.nested.a.b"), "deep", 4));
  CHECK(gw_json_int(gw_json_get(root, "payload.dup"), &n) && n == 1); /* the first one wins */
  CHECK(gw_json_eq(gw_json_get(root, "payload.esckey"), "v", 1));

  gw_json arr = gw_json_get(root, "payload.arr"), v, k;
  CHECK(arr.type == GW_JSON_ARRAY);
  gw_json_iter_t it = gw_json_iter(arr);
  int count = 0;
  while (gw_json_next(&it, NULL, &v)) count++;
  CHECK(count == 3);
  it = gw_json_iter(gw_json_get(root, "payload.ea"));
  CHECK(!gw_json_next(&it, NULL, &v));
  it = gw_json_iter(gw_json_get(root, "payload.empty"));
  CHECK(!gw_json_next(&it, &k, &v));
  it = gw_json_iter(gw_json_get(root, "chat"));
  CHECK(gw_json_next(&it, &k, &v) && gw_json_eq(k, "id", 2) && gw_json_eq(v, "eve", 3));
  CHECK(gw_json_next(&it, &k, &v) && gw_json_eq(k, "kind", 4));
  CHECK(!gw_json_next(&it, &k, &v));

  /* Malformed documents are refused, and nothing is read past the length. */
  const char *bad[] = {"", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "\"abc", "\"\\x\"",
                       "\"\\u12G4\"", "01", "-", "1.", "1e", "tru", "{\"a\":\"\x01\"}", "nul", "[1 2]", "1 2", "{} x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(gw_json_parse(bad[i], strlen(bad[i])).type == GW_JSON_NONE);
  CHECK(gw_json_parse("{\"a\":1}", 6).type == GW_JSON_NONE); /* cut short */
  CHECK(gw_json_parse("[[[[1]]]]", 9).type == GW_JSON_ARRAY);
  char deep[200];
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  CHECK(gw_json_parse(deep, 200).type == GW_JSON_NONE); /* deeper than 64 */

  /* A lone surrogate becomes U+FFFD. */
  gw_buf_reset(&b);
  CHECK(gw_json_string(gw_json_parse("\"\\ud800x\"", 9), &b) && streq(b.data, "\xef\xbf\xbdx"));
  gw_buf_reset(&b);
  CHECK(gw_json_string(gw_json_parse("\"\"", 2), &b) && b.len == 0 && streq(b.data, ""));
  CHECK(!gw_json_string(gw_json_parse("12", 2), &b));
  gw_buf_free(&b);
}

static void test_writer(void) {
  gw_jw w = {0};
  gw_jw_object(&w);
  gw_jw_key(&w, "legacy_id");
  gw_jw_str(&w, "eve");
  gw_jw_key(&w, "text");
  gw_jw_str(&w, "a \"q\" \\ \n\t\r\b\f \x01 \x1f \xc3\xa9");
  gw_jw_key(&w, "n");
  gw_jw_int(&w, -9007199254740993LL);
  gw_jw_key(&w, "ok");
  gw_jw_bool(&w, true);
  gw_jw_key(&w, "none");
  gw_jw_null(&w);
  gw_jw_key(&w, "list");
  gw_jw_array(&w);
  gw_jw_str(&w, "\xf0\x9f\x91\x8d");
  gw_jw_object(&w);
  gw_jw_end_object(&w);
  gw_jw_array(&w);
  gw_jw_end_array(&w);
  gw_jw_raw(&w, "{\"x\":1}", 7);
  gw_jw_end_array(&w);
  gw_jw_key(&w, "b64");
  gw_jw_array(&w);
  gw_jw_base64(&w, (const unsigned char *)"", 0);
  gw_jw_base64(&w, (const unsigned char *)"f", 1);
  gw_jw_base64(&w, (const unsigned char *)"fo", 2);
  gw_jw_base64(&w, (const unsigned char *)"foo", 3);
  gw_jw_base64(&w, (const unsigned char *)"foob", 4);
  gw_jw_base64(&w, (const unsigned char *)"\xff\xfe\xfd\xfc\xfb", 5);
  gw_jw_end_array(&w);
  gw_jw_end_object(&w);
  CHECK(!w.b.oom);
  CHECK(streq(w.b.data,
              "{\"legacy_id\":\"eve\",\"text\":\"a \\\"q\\\" \\\\ \\n\\t\\r\\b\\f \\u0001 \\u001f \xc3\xa9\","
              "\"n\":-9007199254740993,\"ok\":true,\"none\":null,\"list\":[\"\xf0\x9f\x91\x8d\",{},[],{\"x\":1}],"
              "\"b64\":[\"\",\"Zg==\",\"Zm8=\",\"Zm9v\",\"Zm9vYg==\",\"//79/Ps=\"]}"));

  /* What the writer writes, the reader reads back. */
  gw_json root = gw_json_parse(w.b.data, w.b.len);
  gw_buf b = {0};
  CHECK(gw_json_string(gw_json_get(root, "text"), &b));
  CHECK(streq(b.data, "a \"q\" \\ \n\t\r\b\f \x01 \x1f \xc3\xa9"));
  gw_buf_free(&b);

  /* A string copied from a document stays valid JSON. */
  gw_jw_reset(&w);
  const char *doc = "{\"t\":\"x\\\"y\"}";
  gw_jw_array(&w);
  gw_jw_json_str(&w, gw_json_get(gw_json_parse(doc, strlen(doc)), "t"));
  gw_jw_json_str(&w, gw_json_get(gw_json_parse(doc, strlen(doc)), "absent"));
  gw_jw_end_array(&w);
  CHECK(streq(w.b.data, "[\"x\\\"y\",null]"));

  /* Long strings and printf into buffers. */
  gw_jw_reset(&w);
  char big[5000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  gw_jw_str(&w, big);
  CHECK(w.b.len == sizeof big + 1);
  gw_buf pb = {0};
  gw_buf_printf(&pb, "%s-%d", big, 7);
  CHECK(pb.len == sizeof big - 1 + 2 && streq(pb.data + pb.len - 2, "-7"));
  gw_buf_free(&pb);
  gw_jw_free(&w);
}

/* The eight-bytes-at-a-time paths: a special byte at every offset of strings of every length. */
static void test_offsets(void) {
  const char specials[] = {'"', '\\', '\n', '\x01', '\x1f'};
  int bad = 0;
  for (int len = 1; len <= 24; len++)
    for (int at = 0; at < len; at++)
      for (size_t k = 0; k < sizeof specials; k++) {
        char in[32];
        memset(in, 'a', (size_t)len);
        in[at] = specials[k];
        if (at + 1 < len) in[at + 1] = (char)0xc3, in[at + 2 < len ? at + 2 : at + 1] = (char)0xa9; /* some UTF-8 around */
        in[len] = 0;
        gw_jw w = {0};
        gw_jw_strn(&w, in, (size_t)len);
        gw_json v = gw_json_parse(w.b.data, w.b.len);
        gw_buf out = {0};
        if (v.type != GW_JSON_STRING || v.n != w.b.len || !gw_json_string(v, &out) || out.len != (size_t)len ||
            memcmp(out.data, in, (size_t)len) != 0 || !gw_json_eq(v, in, (size_t)len))
          bad++;
        /* An unescaped special byte inside a document string is refused (but for the quote,
         * which ends the string early and leaves garbage after it). */
        char raw[40];
        raw[0] = '"';
        memcpy(raw + 1, in, (size_t)len);
        raw[len + 1] = '"';
        gw_json r = gw_json_parse(raw, (size_t)len + 2);
        if (specials[k] != '\\' && r.type != GW_JSON_NONE) bad++;
        gw_buf_free(&out);
        gw_jw_free(&w);
      }
  CHECK(bad == 0);
}

static void test_envelope(void) {
  gw_envelope e;
  const char *env = "{\"type\":\"message.text\",\"session\":\"a@b\",\"chat\":{\"id\":\"eve\",\"kind\":\"direct\"},\"payload\":{\"id\":\"1\"}}";
  CHECK(gw_envelope_read(env, strlen(env), &e));
  CHECK(gw_envelope_is(&e, "message.text") && !gw_envelope_is(&e, "message"));
  CHECK(gw_json_eq(e.session, "a@b", 3) && gw_json_eq(e.chat_id, "eve", 3));
  CHECK(gw_json_eq(gw_json_get(e.payload, "id"), "1", 1));
  const char *init = "{\"type\":\"init\",\"payload\":{\"abi\":\"1.0\",\"config\":{}}}";
  CHECK(gw_envelope_read(init, strlen(init), &e) && e.session.type == GW_JSON_NONE && e.chat_id.type == GW_JSON_NONE);
  CHECK(!gw_envelope_read("{\"session\":\"a\"}", 15, &e));
  CHECK(!gw_envelope_read("[]", 2, &e));
}

static void test_calls(void) {
  gw_buf r = {0};
  CHECK(gw_host_call("kv.set", "{\"key\":\"k\",\"value\":\"v\"}", 23, NULL) == 0);
  CHECK(streq(last_method, "kv.set") && streq(last_req, "{\"key\":\"k\",\"value\":\"v\"}"));
  CHECK(gw_last_error()->code == 0);
  CHECK(gw_host_call("contact.list", NULL, 0, &r) == 0 && streq(last_req, "{}") && streq(r.data, "{}"));

  CHECK(gw_host_call("kv.get", "{\"key\":\"k\"}", 11, &r) == 0);
  CHECK(r.len == 300 + 12 && gw_json_get(gw_json_parse(r.data, r.len), "value").n == 302);

  gw_jw w = {0};
  gw_jw_object(&w);
  gw_jw_key(&w, "key");
  gw_jw_str(&w, "missing");
  gw_jw_end_object(&w);
  CHECK(gw_host_call_jw("kv.get", &w, &r) == GW_NOT_FOUND);
  CHECK(gw_last_error()->code == GW_NOT_FOUND && streq(gw_last_error()->message.data, "no key \"missing\""));
  CHECK(gw_json_eq(gw_json_get(gw_json_parse(r.data, r.len), "error.code"), "not_found", 9));
  CHECK(gw_fail_with_last_error() == GW_ERROR);
  CHECK(streq(last_reply, "{\"error\":{\"code\":\"not_found\",\"message\":\"no key \\\"missing\\\"\"}}"));
  gw_jw_free(&w);

  CHECK(gw_host_call("weird", NULL, 0, NULL) == GW_INTERNAL);
  CHECK(streq(gw_last_error()->message.data, "weird failed"));
  CHECK(gw_host_call("kv.delete", NULL, 0, NULL) == 0 && gw_last_error()->code == 0);

  gw_reply_error(GW_INVALID, "bad \"name\"");
  CHECK(streq(last_reply, "{\"error\":{\"code\":\"invalid\",\"message\":\"bad \\\"name\\\"\"}}"));
  gw_reply_error(99, "x");
  CHECK(strstr(last_reply, "\"internal\"") != NULL);

  gw_logf(GW_LOG_WARN, "n=%d %s", 3, "x");
  CHECK(last_level == GW_LOG_WARN && streq(last_log, "n=3 x"));
  char big[1000];
  memset(big, 'b', sizeof big - 1);
  big[sizeof big - 1] = 0;
  gw_logf(GW_LOG_INFO, "%s", big);
  CHECK(strlen(last_log) == sizeof big - 1);
  gw_buf_free(&r);

  CHECK(streq(gw_code_name(GW_NO_SESSION), "no_session") && streq(gw_code_name(0), "internal"));
  CHECK(gw_code_of("quota", 5) == GW_QUOTA && gw_code_of("nope", 4) == GW_INTERNAL);
}

static void test_exports(void) {
  char *p = gw_alloc(5);
  CHECK(p != NULL && p[5] == 0);
  gw_free(p, 5);
  p = gw_alloc(0);
  CHECK(p != NULL);
  gw_free(p, 0);
  CHECK(gw_alloc(-1) == NULL);
}

static void test_utils(void) {
  CHECK(gw_utf8_len("", 0) == 0);
  CHECK(gw_utf8_len("abc", 3) == 3);
  CHECK(gw_utf8_len("\xc3\xa9\xf0\x9f\x98\x80", 6) == 2);
  CHECK(gw_utf8_len("\xff\xc3", 2) == 2);        /* invalid bytes count one each */
  CHECK(gw_utf8_len("\xed\xa0\x80", 3) == 3);    /* an encoded surrogate is invalid */
  CHECK(gw_utf8_len("\xe0\x80\xaf", 3) == 3);    /* overlong */

  const char *s = " \t\xc2\xa0 bob \xe3\x80\x80\n";
  size_t n = strlen(s);
  gw_trim_space(&s, &n);
  CHECK(n == 3 && memcmp(s, "bob", 3) == 0);
  s = "   ";
  n = 3;
  gw_trim_space(&s, &n);
  CHECK(n == 0);
  s = "a b";
  n = 3;
  gw_trim_space(&s, &n);
  CHECK(n == 3);
  s = "\xff ";
  n = 2;
  gw_trim_space(&s, &n);
  CHECK(n == 1 && s[0] == '\xff');

  CHECK(gw_equal_fold("Eve", 3, "eVE", 3));
  CHECK(gw_equal_fold("Helper Bot", 10, "helper bot", 10));
  CHECK(!gw_equal_fold("eve", 3, "eves", 4));
  CHECK(gw_equal_fold("\xe2\x84\xaa" "ate", 6, "kate", 4)); /* KELVIN SIGN */
  CHECK(!gw_equal_fold("\xc3\xa9", 2, "e", 1));
}

int main(void) {
  test_reader();
  test_writer();
  test_offsets();
  test_envelope();
  test_calls();
  test_exports();
  test_utils();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
