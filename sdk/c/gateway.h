/*
 * gateway.h: the C binding of the gateway's plugin ABI v1.0 (abi/README.md).
 *
 * A plugin is one WebAssembly module built as a WASI reactor:
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *         -I sdk/c -o plugin.wasm plugin.c sdk/c/gateway.c
 *
 * gateway.c provides the exports the host needs besides gw_event (the version marker
 * gw_abi_v1_0, and gw_alloc/gw_free on malloc/free), helpers for host calls, replies, errors
 * and logs, and a small JSON reader and writer. The plugin defines the one export left:
 *
 *   GW_EXPORT("gw_event") int32_t gw_event(const char *env, int32_t len) { ... }
 *
 * Everything here runs inside one event at a time (the host never re-enters an instance), so
 * the helpers keep their buffers in globals and are not thread-safe: there are no threads.
 */
#ifndef XMPPGW_GATEWAY_H
#define XMPPGW_GATEWAY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Attributes ------------------------------------------------------------------------ */

#if defined(__wasm__)
/* A function the host provides, in the import module of ABI v1. */
#define GW_IMPORT(name) __attribute__((import_module("gateway_v1"), import_name(name)))
/* A function the plugin exports to the host under this name. */
#define GW_EXPORT(name) __attribute__((export_name(name), visibility("default")))
#else
/* Native builds (the SDK's own tests) link the imports from a fake host. */
#define GW_IMPORT(name)
#define GW_EXPORT(name)
#endif

/* ---- Imports (module "gateway_v1", section 3) -------------------------------------------- */

/* call: performs the host call `method` with the JSON request `req`. Returns >= 0 on success:
 * the length of the JSON response now pending (read it with gw_result). Returns < 0 on failure:
 * the negated error code (e.g. -7 for GW_NO_SESSION); the pending response is then the error
 * reply {"error":{"code":...,"message":...}}. The host copies both strings at once. */
GW_IMPORT("call")
int32_t gw_call(const char *method, int32_t method_len, const char *req, int32_t req_len);

/* result: copies up to `cap` bytes of the pending response to `buf` and returns its full
 * length (gw_result(NULL, 0) just returns the length). The response stays pending until the
 * next gw_call or the end of the event; before the first call of an event it is empty (0). */
GW_IMPORT("result")
int32_t gw_result(char *buf, int32_t cap);

/* reply: sets the JSON reply of the event being handled (init, the JID mapping events, or the
 * error reply of status 2). The host copies it at once; a second reply replaces the first. */
GW_IMPORT("reply")
void gw_reply(const char *json, int32_t len);

/* log: writes one UTF-8 line to the gateway's log at a slog level (GW_LOG_*). */
GW_IMPORT("log")
void gw_log(int32_t level, const char *msg, int32_t len);

/* ---- Exports (section 3) ----------------------------------------------------------------- */

/* The version marker, never called: the host reads its name before instantiating. In
 * gateway.c. */
void gw_abi_v1_0(void);

/* Returns a block of `size` bytes for the host to write an event into (0 when out of memory).
 * In gateway.c, on malloc; the block has one extra byte set to 0, so an event can also be read
 * as a C string. */
void *gw_alloc(int32_t size);

/* Releases a block from gw_alloc after the event. In gateway.c, on free. */
void gw_free(void *ptr, int32_t size);

/* Handles one event envelope of `len` bytes at `env` (section 5) and returns a status
 * (GW_OK, GW_UNHANDLED, GW_ERROR). THE PLUGIN DEFINES IT, exported with GW_EXPORT("gw_event").
 * It must not keep pointers into `env` after returning: the host frees the block. */
int32_t gw_event(const char *env, int32_t len);

/* ---- Constants --------------------------------------------------------------------------- */

/* Statuses gw_event returns. */
enum {
  GW_OK = 0,        /* handled; its reply, if the event has one, was given with gw_reply */
  GW_UNHANDLED = 1, /* not implemented: the host applies its default (section 8) */
  GW_ERROR = 2,     /* failed; its reply, if any, is an error reply (gw_reply_error) */
};

/* Error codes (section 7). A code this SDK does not know is to be treated as GW_INTERNAL. */
enum {
  GW_BAD_REQUEST = 1,
  GW_NOT_FOUND = 2,
  GW_UNKNOWN_METHOD = 3,
  GW_FORBIDDEN = 4,
  GW_QUOTA = 5,
  GW_UNAVAILABLE = 6,
  GW_NO_SESSION = 7,
  GW_INTERNAL = 8,
  GW_INVALID = 9,
  GW_NETWORK = 10,
};

/* Log levels (log/slog's). */
enum { GW_LOG_DEBUG = -4, GW_LOG_INFO = 0, GW_LOG_WARN = 4, GW_LOG_ERROR = 8 };

/* The name of an error code ("not_found"); "internal" for a code it does not know. */
const char *gw_code_name(int code);
/* The code of an error name; GW_INTERNAL for a name it does not know. */
int gw_code_of(const char *name, size_t len);

/* ---- Buffers ----------------------------------------------------------------------------- */

/* A growable byte buffer. Zero-initialise it (gw_buf b = {0};) and gw_buf_free it. data is
 * always NUL-terminated after a successful append (not counted in len). If an allocation
 * fails, oom is set and later appends do nothing: check it once at the end. */
typedef struct {
  char *data;
  size_t len, cap;
  bool oom;
} gw_buf;

bool gw_buf_reserve(gw_buf *b, size_t extra);
void gw_buf_append(gw_buf *b, const void *p, size_t n);
void gw_buf_puts(gw_buf *b, const char *s);
void gw_buf_printf(gw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gw_buf_reset(gw_buf *b); /* len = 0, keeps the memory, clears oom */
void gw_buf_free(gw_buf *b);

/* ---- JSON reader ------------------------------------------------------------------------- */

/* A JSON value found in a document: `p` points at its first byte inside the document (still
 * escaped, for strings: at the opening quote) and `n` is its length. Values borrow from the
 * document: in gw_event they are valid until it returns. */
typedef enum {
  GW_JSON_NONE = 0, /* not found / invalid */
  GW_JSON_NULL,
  GW_JSON_BOOL,
  GW_JSON_NUMBER,
  GW_JSON_STRING,
  GW_JSON_ARRAY,
  GW_JSON_OBJECT,
} gw_json_type;

typedef struct {
  gw_json_type type;
  const char *p;
  size_t n;
} gw_json;

/* Parses the JSON document doc[0..len): one value, with white space around it. type is
 * GW_JSON_NONE when it is malformed (or anything but white space follows the value). */
gw_json gw_json_parse(const char *doc, size_t len);

/* Looks up a field by key path in an object: "payload.text" is the field "text" of the object
 * in the field "payload". A key containing '.' cannot be reached this way (use gw_json_field).
 * Returns a value of type GW_JSON_NONE when a key is missing or a value on the way is not an
 * object. A field whose value is null is returned as GW_JSON_NULL ("null means absent": test
 * gw_json_present). */
gw_json gw_json_get(gw_json obj, const char *path);
/* One field of an object by exact key (key_len bytes, escapes in the document's keys are
 * honoured). When a key appears twice, the first one wins. */
gw_json gw_json_field(gw_json obj, const char *key, size_t key_len);
/* Whether v is present and not null. */
static inline bool gw_json_present(gw_json v) { return v.type != GW_JSON_NONE && v.type != GW_JSON_NULL; }

/* Iterates over an array's elements or an object's fields. Start with an iterator from
 * gw_json_iter(); each gw_json_next() call gives the next element (for objects, also its key,
 * a GW_JSON_STRING value, when key is not NULL) and returns false at the end. */
typedef struct {
  const char *p, *end;
  bool object;
} gw_json_iter_t;
gw_json_iter_t gw_json_iter(gw_json v);
bool gw_json_next(gw_json_iter_t *it, gw_json *key, gw_json *val);

/* Decodes a string value (unescaping \n, \", \uXXXX with surrogate pairs, ...) into out, as
 * UTF-8, NUL-terminated. Appends to out: reset it first. Returns false if v is not a string or
 * is malformed (out is then unchanged). */
bool gw_json_string(gw_json v, gw_buf *out);
/* Compares a string value, once unescaped, with s[0..n). */
bool gw_json_eq(gw_json v, const char *s, size_t n);
/* Reads an integer number (a JSON number without fraction or exponent, or with a zero
 * fraction, in the int64 range). */
bool gw_json_int(gw_json v, int64_t *out);
/* Reads true/false. */
bool gw_json_bool(gw_json v, bool *out);

/* ---- JSON writer ------------------------------------------------------------------------- */

/* Writes JSON into a gw_buf, adding the commas and colons. Keys and strings are escaped.
 *
 *   gw_jw w = {0};
 *   gw_jw_object(&w);
 *   gw_jw_key(&w, "legacy_id"); gw_jw_str(&w, id);
 *   gw_jw_key(&w, "reactions"); gw_jw_array(&w); gw_jw_str(&w, "👍"); gw_jw_end_array(&w);
 *   gw_jw_end_object(&w);
 *   ... w.b.data, w.b.len ...
 *   gw_jw_free(&w);
 */
typedef struct {
  gw_buf b;
  bool comma; /* a value was written at this level: the next one needs a comma */
} gw_jw;

void gw_jw_object(gw_jw *w);
void gw_jw_end_object(gw_jw *w);
void gw_jw_array(gw_jw *w);
void gw_jw_end_array(gw_jw *w);
void gw_jw_key(gw_jw *w, const char *key);
void gw_jw_str(gw_jw *w, const char *s);
void gw_jw_strn(gw_jw *w, const char *s, size_t n);
/* Writes a string value from the document as it is (it is valid JSON already), or null when
 * v is not a string. */
void gw_jw_json_str(gw_jw *w, gw_json v);
void gw_jw_int(gw_jw *w, int64_t v);
void gw_jw_bool(gw_jw *w, bool v);
void gw_jw_null(gw_jw *w);
/* Writes raw JSON as a value (a context, an array from an event). */
void gw_jw_raw(gw_jw *w, const char *json, size_t n);
/* Writes bytes as a base64 string (RFC 4648 with padding: Avatar.data). */
void gw_jw_base64(gw_jw *w, const unsigned char *data, size_t n);
void gw_jw_reset(gw_jw *w);
void gw_jw_free(gw_jw *w);
/* Appends s[0..n) to b as a JSON string, quotes included. */
void gw_json_escape(gw_buf *b, const char *s, size_t n);

/* ---- Events ------------------------------------------------------------------------------ */

/* An event envelope (section 5.1), read in place. */
typedef struct {
  gw_json root;
  gw_json type;    /* string */
  gw_json session; /* string; NONE for init */
  gw_json chat_id; /* string; NONE when the event has no chat */
  gw_json payload; /* object; NONE when the event has none */
} gw_envelope;

/* Reads an envelope. Returns false if it is not a JSON object with a string "type". */
bool gw_envelope_read(const char *env, size_t len, gw_envelope *out);
/* Whether the envelope's type is t. */
bool gw_envelope_is(const gw_envelope *e, const char *t);

/* ---- Host calls -------------------------------------------------------------------------- */

/* The last host call's outcome, kept in a global until the next call: code is 0 on success,
 * else the error code, and message the error reply's message (NUL-terminated). */
typedef struct {
  int code;
  gw_buf message;
} gw_error;

/* The last error of gw_host_call (code 0 when the last call succeeded). */
const gw_error *gw_last_error(void);

/* Makes the host call `method` with the JSON request req[0..req_len) (req may be NULL: {}).
 * When resp is not NULL the response is copied into it (reset first, NUL-terminated): the
 * result on success, the error reply on failure. Returns 0 on success, else the error code
 * (positive), whose message gw_last_error() keeps. */
int gw_host_call(const char *method, const char *req, size_t req_len, gw_buf *resp);
/* gw_host_call with a request built by a writer. */
int gw_host_call_jw(const char *method, gw_jw *req, gw_buf *resp);

/* Sets the event's reply to the JSON json[0..len). */
void gw_reply_json(const char *json, size_t len);
/* Sets the event's reply to the error reply {"error":{"code":<name>,"message":<message>}}.
 * Return GW_ERROR after it. */
void gw_reply_error(int code, const char *message);
/* gw_reply_error with the last failed host call's code and message. Returns GW_ERROR. */
int32_t gw_fail_with_last_error(void);

/* Logs a line; gw_logf formats it with printf. */
void gw_log_str(int32_t level, const char *msg);
void gw_logf(int32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Small utilities --------------------------------------------------------------------- */

/* The number of Unicode code points in the UTF-8 string s[0..n) (an invalid byte counts one,
 * as Go's utf8.RuneCountInString). */
size_t gw_utf8_len(const char *s, size_t n);
/* Trims Unicode white space (as Go's strings.TrimSpace: ASCII space, \t\n\v\f\r, U+0085,
 * U+00A0 and the Unicode White_Space characters) from both ends: sets *s and *n. */
void gw_trim_space(const char **s, size_t *n);
/* Case-insensitive comparison, as Go's strings.EqualFold wherever one side is ASCII: ASCII
 * letters fold, and so do U+212A KELVIN SIGN (k) and U+017F LONG S (s); other characters must
 * match exactly (no Unicode folding tables here). */
bool gw_equal_fold(const char *a, size_t an, const char *b, size_t bn);

#ifdef __cplusplus
}
#endif

#endif /* XMPPGW_GATEWAY_H */
