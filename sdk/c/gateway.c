/*
 * gateway.c: the helpers of the C binding of ABI v1.0 (see gateway.h).
 */
#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Exports ----------------------------------------------------------------------------- */

GW_EXPORT("gw_abi_v1_0") void gw_abi_v1_0(void) {}

GW_EXPORT("gw_alloc") void *gw_alloc(int32_t size) {
  if (size < 0) return NULL;
  char *p = malloc((size_t)size + 1);
  if (p) p[size] = 0;
  return p;
}

GW_EXPORT("gw_free") void gw_free(void *ptr, int32_t size) {
  (void)size;
  free(ptr);
}

/* ---- Error codes ------------------------------------------------------------------------- */

static const char *const code_names[] = {
    NULL,         "bad_request", "not_found",  "unknown_method", "forbidden", "quota",
    "unavailable", "no_session", "internal",   "invalid",        "network",
};
#define NCODES (sizeof code_names / sizeof code_names[0])

const char *gw_code_name(int code) {
  if (code > 0 && (size_t)code < NCODES) return code_names[code];
  return "internal";
}

int gw_code_of(const char *name, size_t len) {
  for (size_t i = 1; i < NCODES; i++)
    if (strlen(code_names[i]) == len && memcmp(code_names[i], name, len) == 0) return (int)i;
  return GW_INTERNAL;
}

/* ---- Buffers ----------------------------------------------------------------------------- */

bool gw_buf_reserve(gw_buf *b, size_t extra) {
  if (b->oom) return false;
  if (b->len + extra + 1 <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

void gw_buf_append(gw_buf *b, const void *p, size_t n) {
  if (!gw_buf_reserve(b, n)) return;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
}

void gw_buf_puts(gw_buf *b, const char *s) { gw_buf_append(b, s, strlen(s)); }

static void buf_byte(gw_buf *b, char c) {
  if (!gw_buf_reserve(b, 1)) return;
  b->data[b->len++] = c;
  b->data[b->len] = 0;
}

void gw_buf_printf(gw_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[128];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    gw_buf_append(b, small, (size_t)n);
    return;
  }
  if (!gw_buf_reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void gw_buf_reset(gw_buf *b) {
  b->len = 0;
  b->oom = false;
  if (b->data) b->data[0] = 0;
}

void gw_buf_free(gw_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->oom = false;
}

/* ---- JSON reader ------------------------------------------------------------------------- */

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* Scans one value at p (no leading white space); returns the end of it, or NULL. */
static const char *scan_value(const char *p, const char *end, gw_json_type *type, int depth);

/* Eight bytes at a time ("SWAR"): whether any byte of v is '"', '\\' or a control character,
 * the bytes a JSON string scan or escape stops at. Exact for "any", which is all it is used for. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static inline bool special8(uint64_t v) {
  uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
  return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((v - ONES * 0x20) & ~v)) & HIGHS;
}

/* Skips the bytes from p that need no attention inside a string, eight at a time. */
static const char *skip_plain(const char *p, const char *end) {
  uint64_t v;
  while (end - p >= 8) {
    memcpy(&v, p, 8);
    if (special8(v)) break;
    p += 8;
  }
  return p;
}

static const char *scan_string(const char *p, const char *end) {
  if (p >= end || *p != '"') return NULL;
  for (p++; p < end; p++) {
    p = skip_plain(p, end);
    if (p >= end) break;
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL;
    if (c == '\\') {
      if (++p >= end) return NULL;
      switch (*p) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': break;
      case 'u':
        if (end - p < 5) return NULL;
        for (int i = 1; i <= 4; i++) {
          char h = p[i];
          if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return NULL;
        }
        p += 4;
        break;
      default: return NULL;
      }
    }
  }
  return NULL;
}

static const char *scan_number(const char *p, const char *end) {
  const char *s = p;
  if (p < end && *p == '-') p++;
  if (p >= end) return NULL;
  if (*p == '0') p++;
  else if (*p >= '1' && *p <= '9') while (p < end && *p >= '0' && *p <= '9') p++;
  else return NULL;
  if (p < end && *p == '.') {
    p++;
    if (p >= end || *p < '0' || *p > '9') return NULL;
    while (p < end && *p >= '0' && *p <= '9') p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (p >= end || *p < '0' || *p > '9') return NULL;
    while (p < end && *p >= '0' && *p <= '9') p++;
  }
  return p > s ? p : NULL;
}

static const char *scan_lit(const char *p, const char *end, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0) return NULL;
  return p + n;
}

#define MAX_DEPTH 64

static const char *scan_container(const char *p, const char *end, bool object, int depth) {
  char close = object ? '}' : ']';
  gw_json_type t;
  if (depth > MAX_DEPTH) return NULL;
  p = skip_ws(p + 1, end);
  if (p < end && *p == close) return p + 1;
  for (;;) {
    if (object) {
      p = scan_string(p, end);
      if (!p) return NULL;
      p = skip_ws(p, end);
      if (p >= end || *p != ':') return NULL;
      p = skip_ws(p + 1, end);
    }
    p = scan_value(p, end, &t, depth + 1);
    if (!p) return NULL;
    p = skip_ws(p, end);
    if (p >= end) return NULL;
    if (*p == close) return p + 1;
    if (*p != ',') return NULL;
    p = skip_ws(p + 1, end);
  }
}

static const char *scan_value(const char *p, const char *end, gw_json_type *type, int depth) {
  if (p >= end) return NULL;
  switch (*p) {
  case '{': *type = GW_JSON_OBJECT; return scan_container(p, end, true, depth);
  case '[': *type = GW_JSON_ARRAY; return scan_container(p, end, false, depth);
  case '"': *type = GW_JSON_STRING; return scan_string(p, end);
  case 't': *type = GW_JSON_BOOL; return scan_lit(p, end, "true");
  case 'f': *type = GW_JSON_BOOL; return scan_lit(p, end, "false");
  case 'n': *type = GW_JSON_NULL; return scan_lit(p, end, "null");
  default: *type = GW_JSON_NUMBER; return scan_number(p, end);
  }
}

static const gw_json none = {GW_JSON_NONE, NULL, 0};

gw_json gw_json_parse(const char *doc, size_t len) {
  if (!doc) return none;
  const char *end = doc + len, *p = skip_ws(doc, end), *q;
  gw_json v;
  q = scan_value(p, end, &v.type, 0);
  if (!q || skip_ws(q, end) != end) return none;
  v.p = p;
  v.n = (size_t)(q - p);
  return v;
}

gw_json_iter_t gw_json_iter(gw_json v) {
  gw_json_iter_t it = {NULL, NULL, false};
  if (v.type == GW_JSON_OBJECT || v.type == GW_JSON_ARRAY) {
    /* v was scanned, so it is well-formed: iteration needs no more checks than scanning. */
    it.p = v.p + 1;
    it.end = v.p + v.n - 1; /* the closing bracket */
    it.object = v.type == GW_JSON_OBJECT;
  }
  return it;
}

bool gw_json_next(gw_json_iter_t *it, gw_json *key, gw_json *val) {
  gw_json k, v;
  if (!it->p) return false;
  const char *p = skip_ws(it->p, it->end);
  if (p < it->end && *p == ',') p = skip_ws(p + 1, it->end);
  if (p >= it->end) {
    it->p = NULL;
    return false;
  }
  if (it->object) {
    const char *q = scan_string(p, it->end);
    if (!q) goto bad;
    k.type = GW_JSON_STRING;
    k.p = p;
    k.n = (size_t)(q - p);
    p = skip_ws(q, it->end);
    if (p >= it->end || *p != ':') goto bad;
    p = skip_ws(p + 1, it->end);
  }
  {
    const char *q = scan_value(p, it->end, &v.type, 1);
    if (!q) goto bad;
    v.p = p;
    v.n = (size_t)(q - p);
    it->p = q;
  }
  if (key) *key = it->object ? k : none;
  if (val) *val = v;
  return true;
bad:
  it->p = NULL;
  return false;
}

gw_json gw_json_field(gw_json obj, const char *key, size_t key_len) {
  gw_json k, v;
  if (obj.type != GW_JSON_OBJECT) return none;
  gw_json_iter_t it = gw_json_iter(obj);
  while (gw_json_next(&it, &k, &v))
    if (gw_json_eq(k, key, key_len)) return v; /* the first one wins */
  return none;
}

gw_json gw_json_get(gw_json obj, const char *path) {
  gw_json v = obj;
  while (*path) {
    const char *dot = strchr(path, '.');
    size_t n = dot ? (size_t)(dot - path) : strlen(path);
    v = gw_json_field(v, path, n);
    if (v.type == GW_JSON_NONE) return v;
    path += n;
    if (*path == '.') path++;
  }
  return v;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static unsigned hex4(const char *p) {
  return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

static size_t utf8_encode(char *out, unsigned r) {
  if (r < 0x80) { out[0] = (char)r; return 1; }
  if (r < 0x800) { out[0] = (char)(0xC0 | r >> 6); out[1] = (char)(0x80 | (r & 0x3F)); return 2; }
  if (r >= 0xD800 && r <= 0xDFFF) r = 0xFFFD;
  if (r < 0x10000) {
    out[0] = (char)(0xE0 | r >> 12); out[1] = (char)(0x80 | (r >> 6 & 0x3F));
    out[2] = (char)(0x80 | (r & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | r >> 18); out[1] = (char)(0x80 | (r >> 12 & 0x3F));
  out[2] = (char)(0x80 | (r >> 6 & 0x3F)); out[3] = (char)(0x80 | (r & 0x3F));
  return 4;
}

/* Unescapes the string value v (well-formed: it was scanned) into out. */
static void unescape(gw_json v, gw_buf *out) {
  const char *p = v.p + 1, *end = v.p + v.n - 1;
  gw_buf_reserve(out, v.n);
  while (p < end) {
    const char *q = memchr(p, '\\', (size_t)(end - p));
    if (!q) q = end;
    gw_buf_append(out, p, (size_t)(q - p));
    if (q >= end) break;
    q++; /* the backslash */
    char c = *q++, u[4];
    switch (c) {
    case 'b': buf_byte(out, '\b'); break;
    case 'f': buf_byte(out, '\f'); break;
    case 'n': buf_byte(out, '\n'); break;
    case 'r': buf_byte(out, '\r'); break;
    case 't': buf_byte(out, '\t'); break;
    case 'u': {
      unsigned r = hex4(q);
      q += 4;
      if (r >= 0xD800 && r < 0xDC00 && end - q >= 6 && q[0] == '\\' && q[1] == 'u') {
        unsigned lo = hex4(q + 2);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          r = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
          q += 6;
        }
      }
      gw_buf_append(out, u, utf8_encode(u, r)); /* a lone surrogate becomes U+FFFD */
      break;
    }
    default: buf_byte(out, c); break; /* " \ / */
    }
    p = q;
  }
}

bool gw_json_string(gw_json v, gw_buf *out) {
  if (v.type != GW_JSON_STRING) return false;
  size_t len = out->len;
  unescape(v, out);
  if (out->oom) {
    out->len = len;
    return false;
  }
  if (out->data) out->data[out->len] = 0;
  else gw_buf_append(out, "", 0);
  return !out->oom;
}

bool gw_json_eq(gw_json v, const char *s, size_t n) {
  if (v.type != GW_JSON_STRING) return false;
  /* Fast path: no escapes. */
  if (!memchr(v.p, '\\', v.n)) return v.n - 2 == n && memcmp(v.p + 1, s, n) == 0;
  gw_buf b = {0};
  bool eq = gw_json_string(v, &b) && b.len == n && memcmp(b.data, s, n) == 0;
  gw_buf_free(&b);
  return eq;
}

bool gw_json_int(gw_json v, int64_t *out) {
  if (v.type != GW_JSON_NUMBER) return false;
  const char *p = v.p, *end = v.p + v.n;
  bool neg = false;
  uint64_t n = 0;
  if (*p == '-') { neg = true; p++; }
  for (; p < end && *p >= '0' && *p <= '9'; p++) {
    if (n > (UINT64_MAX - 9) / 10) return false;
    n = n * 10 + (uint64_t)(*p - '0');
  }
  if (p < end && *p == '.') /* a zero fraction only */
    for (p++; p < end && *p == '0'; p++) {}
  if (p != end) return false;
  if (neg ? n > (uint64_t)INT64_MAX + 1 : n > (uint64_t)INT64_MAX) return false;
  *out = neg ? (int64_t)(0 - n) : (int64_t)n;
  return true;
}

bool gw_json_bool(gw_json v, bool *out) {
  if (v.type != GW_JSON_BOOL) return false;
  *out = v.p[0] == 't';
  return true;
}

/* ---- JSON writer ------------------------------------------------------------------------- */

static const char hexdig[] = "0123456789abcdef";

void gw_json_escape(gw_buf *b, const char *s, size_t n) {
  gw_buf_reserve(b, n + 2);
  buf_byte(b, '"');
  const char *run = s;
  for (size_t i = 0; i < n; i++) {
    i = (size_t)(skip_plain(s + i, s + n) - s);
    if (i >= n) break;
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    gw_buf_append(b, run, (size_t)(s + i - run));
    run = s + i + 1;
    char e[6] = {'\\', 0};
    switch (c) {
    case '"': e[1] = '"'; break;
    case '\\': e[1] = '\\'; break;
    case '\n': e[1] = 'n'; break;
    case '\r': e[1] = 'r'; break;
    case '\t': e[1] = 't'; break;
    case '\b': e[1] = 'b'; break;
    case '\f': e[1] = 'f'; break;
    default:
      e[1] = 'u'; e[2] = '0'; e[3] = '0'; e[4] = hexdig[c >> 4]; e[5] = hexdig[c & 15];
      gw_buf_append(b, e, 6);
      continue;
    }
    gw_buf_append(b, e, 2);
  }
  gw_buf_append(b, run, (size_t)(s + n - run));
  buf_byte(b, '"');
}

static void before_value(gw_jw *w) {
  if (w->comma) buf_byte(&w->b, ',');
  w->comma = true;
}

void gw_jw_object(gw_jw *w) { before_value(w); buf_byte(&w->b, '{'); w->comma = false; }
void gw_jw_end_object(gw_jw *w) { buf_byte(&w->b, '}'); w->comma = true; }
void gw_jw_array(gw_jw *w) { before_value(w); buf_byte(&w->b, '['); w->comma = false; }
void gw_jw_end_array(gw_jw *w) { buf_byte(&w->b, ']'); w->comma = true; }

void gw_jw_key(gw_jw *w, const char *key) {
  before_value(w);
  gw_json_escape(&w->b, key, strlen(key));
  buf_byte(&w->b, ':');
  w->comma = false; /* the value follows without a comma */
}

void gw_jw_str(gw_jw *w, const char *s) { gw_jw_strn(w, s, strlen(s)); }
void gw_jw_strn(gw_jw *w, const char *s, size_t n) { before_value(w); gw_json_escape(&w->b, s, n); }

void gw_jw_json_str(gw_jw *w, gw_json v) {
  if (v.type != GW_JSON_STRING) {
    gw_jw_null(w);
    return;
  }
  gw_jw_raw(w, v.p, v.n);
}

void gw_jw_int(gw_jw *w, int64_t v) { before_value(w); gw_buf_printf(&w->b, "%lld", (long long)v); }
void gw_jw_bool(gw_jw *w, bool v) { before_value(w); gw_buf_puts(&w->b, v ? "true" : "false"); }
void gw_jw_null(gw_jw *w) { before_value(w); gw_buf_puts(&w->b, "null"); }
void gw_jw_raw(gw_jw *w, const char *json, size_t n) { before_value(w); gw_buf_append(&w->b, json, n); }

void gw_jw_base64(gw_jw *w, const unsigned char *d, size_t n) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  before_value(w);
  if (!gw_buf_reserve(&w->b, (n + 2) / 3 * 4 + 2)) return;
  char *o = w->b.data + w->b.len;
  *o++ = '"';
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
    *o++ = a[v >> 18]; *o++ = a[v >> 12 & 63]; *o++ = a[v >> 6 & 63]; *o++ = a[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)d[i] << 16;
    *o++ = a[v >> 18]; *o++ = a[v >> 12 & 63]; *o++ = '='; *o++ = '=';
  } else if (n - i == 2) {
    unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8;
    *o++ = a[v >> 18]; *o++ = a[v >> 12 & 63]; *o++ = a[v >> 6 & 63]; *o++ = '=';
  }
  *o++ = '"';
  w->b.len = (size_t)(o - w->b.data);
  w->b.data[w->b.len] = 0;
}

void gw_jw_reset(gw_jw *w) { gw_buf_reset(&w->b); w->comma = false; }
void gw_jw_free(gw_jw *w) { gw_buf_free(&w->b); w->comma = false; }

/* ---- Events ------------------------------------------------------------------------------ */

bool gw_envelope_read(const char *env, size_t len, gw_envelope *e) {
  memset(e, 0, sizeof *e);
  e->root = gw_json_parse(env, len);
  if (e->root.type != GW_JSON_OBJECT) return false;
  gw_json_iter_t it = gw_json_iter(e->root);
  gw_json k, v;
  while (gw_json_next(&it, &k, &v)) { /* one pass over the envelope's fields */
    if (gw_json_eq(k, "type", 4)) e->type = v;
    else if (gw_json_eq(k, "session", 7)) e->session = v;
    else if (gw_json_eq(k, "payload", 7)) e->payload = v;
    else if (gw_json_eq(k, "chat", 4)) e->chat_id = gw_json_field(v, "id", 2);
  }
  if (e->session.type != GW_JSON_STRING) e->session = none;
  if (e->payload.type != GW_JSON_OBJECT) e->payload = none;
  if (e->chat_id.type != GW_JSON_STRING) e->chat_id = none;
  return e->type.type == GW_JSON_STRING;
}

bool gw_envelope_is(const gw_envelope *e, const char *t) { return gw_json_eq(e->type, t, strlen(t)); }

/* ---- Host calls -------------------------------------------------------------------------- */

static gw_error last_error;
static gw_buf scratch; /* the response when the caller does not want it */

const gw_error *gw_last_error(void) { return &last_error; }

/* Copies the pending response (n bytes, or unknown when n < 0) into out. */
static void fetch_result(int32_t n, gw_buf *out) {
  gw_buf_reset(out);
  if (n < 0) n = gw_result(NULL, 0);
  if (n <= 0 || !gw_buf_reserve(out, (size_t)n)) return;
  int32_t full = gw_result(out->data, n);
  if (full > n && gw_buf_reserve(out, (size_t)full)) full = gw_result(out->data, full);
  out->len = full < 0 ? 0 : (size_t)full > out->cap - 1 ? out->cap - 1 : (size_t)full;
  out->data[out->len] = 0;
}

int gw_host_call(const char *method, const char *req, size_t req_len, gw_buf *resp) {
  if (!req) { req = "{}"; req_len = 2; }
  int32_t n = gw_call(method, (int32_t)strlen(method), req, (int32_t)req_len);
  gw_buf_reset(&last_error.message);
  if (n >= 0) {
    last_error.code = 0;
    if (resp) fetch_result(n, resp);
    return 0;
  }
  last_error.code = -n > 0 && (size_t)-n < NCODES ? -n : GW_INTERNAL;
  gw_buf *er = resp ? resp : &scratch;
  fetch_result(-1, er);
  gw_json msg = gw_json_get(gw_json_parse(er->data, er->len), "error.message");
  if (!gw_json_string(msg, &last_error.message)) gw_buf_printf(&last_error.message, "%s failed", method);
  return last_error.code;
}

int gw_host_call_jw(const char *method, gw_jw *req, gw_buf *resp) {
  if (req->b.oom) {
    last_error.code = GW_INTERNAL;
    gw_buf_reset(&last_error.message);
    gw_buf_printf(&last_error.message, "%s: out of memory", method);
    return GW_INTERNAL;
  }
  return gw_host_call(method, req->b.data, req->b.len, resp);
}

void gw_reply_json(const char *json, size_t len) { gw_reply(json, (int32_t)len); }

void gw_reply_error(int code, const char *message) {
  gw_jw w = {0};
  gw_jw_object(&w);
  gw_jw_key(&w, "error");
  gw_jw_object(&w);
  gw_jw_key(&w, "code");
  gw_jw_str(&w, gw_code_name(code));
  gw_jw_key(&w, "message");
  gw_jw_str(&w, message ? message : "");
  gw_jw_end_object(&w);
  gw_jw_end_object(&w);
  if (!w.b.oom) gw_reply(w.b.data, (int32_t)w.b.len);
  gw_jw_free(&w);
}

int32_t gw_fail_with_last_error(void) {
  gw_reply_error(last_error.code ? last_error.code : GW_INTERNAL,
                 last_error.message.data ? last_error.message.data : "");
  return GW_ERROR;
}

void gw_log_str(int32_t level, const char *msg) { gw_log(level, msg, (int32_t)strlen(msg)); }

void gw_logf(int32_t level, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    gw_log(level, small, n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    gw_log(level, small, (int32_t)sizeof small - 1); /* truncated */
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  gw_log(level, big, n);
  free(big);
}

/* ---- Small utilities --------------------------------------------------------------------- */

/* Decodes one UTF-8 sequence as Go does: returns its size, and U+FFFD with size 1 for an
 * invalid byte. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *r) {
  unsigned c = s[0];
  if (c < 0x80) { *r = c; return 1; }
  *r = 0xFFFD;
  size_t need;
  unsigned min, v;
  if (c >= 0xC2 && c <= 0xDF) { need = 2; v = c & 0x1F; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { need = 3; v = c & 0x0F; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { need = 4; v = c & 0x07; min = 0x10000; }
  else return 1;
  if (n < need) return 1;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80) return 1;
    v = v << 6 | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 1;
  *r = v;
  return need;
}

size_t gw_utf8_len(const char *s, size_t n) {
  size_t count = 0;
  unsigned r;
  for (size_t i = 0; i < n; count++) i += utf8_decode((const unsigned char *)s + i, n - i, &r);
  return count;
}

static bool is_space(unsigned r) {
  switch (r) {
  case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xA0:
  case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
    return true;
  }
  return r >= 0x2000 && r <= 0x200A;
}

void gw_trim_space(const char **sp, size_t *np) {
  const unsigned char *s = (const unsigned char *)*sp;
  size_t n = *np, i = 0, k, last;
  unsigned r;
  for (; i < n; i += k) {
    k = utf8_decode(s + i, n - i, &r);
    if (!is_space(r)) break;
  }
  last = i;
  for (size_t j = i; j < n; j += k) { /* the end of the last rune that is not a space */
    k = utf8_decode(s + j, n - j, &r);
    if (!is_space(r)) last = j + k;
  }
  *sp = (const char *)s + i;
  *np = last - i;
}

/* Simple case folding for what can equal ASCII: ASCII letters, and the two characters outside
 * ASCII whose folding orbit holds an ASCII letter (U+212A KELVIN SIGN ~ k, U+017F LONG S ~ s). */
static unsigned fold(unsigned r) {
  if (r >= 'A' && r <= 'Z') return r + 32;
  if (r == 0x212A) return 'k';
  if (r == 0x17F) return 's';
  return r;
}

bool gw_equal_fold(const char *a, size_t an, const char *b, size_t bn) {
  const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
  size_t i = 0, j = 0;
  while (i < an && j < bn) {
    unsigned r, s;
    i += utf8_decode(x + i, an - i, &r);
    j += utf8_decode(y + j, bn - j, &s);
    if (fold(r) != fold(s)) return false;
  }
  return i == an && j == bn;
}
