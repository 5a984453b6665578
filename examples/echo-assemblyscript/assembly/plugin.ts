// The echo network in AssemblyScript: the same network as plugins/echo (Go), on
// sdk/assemblyscript. Every contact echoes what the user says.
//
// - registration asks for a name (1 to 64 characters); login accepts any name.
// - the roster has five friends: eve (online, phone), dora (away, "out for lunch"), liam (xa,
//   last seen 7 days ago), bot (online, a bot) and plain (online); each has an avatar and a
//   vCard. Any other legacy id is a valid contact too, named after its id.
// - a text to any contact but plain is reported sent (legacy id u-N), then the contact types,
//   marks it displayed and answers "echo: <text>" (legacy id e-N); the reply's id is kept in the
//   plugin's storage (kv "reply/u-N"), so that a correction of the user's message corrects the
//   reply, a retraction retracts it, and reactions are echoed on the user's message. A file is
//   echoed as "echo: <url>".
// - the text "file <url>" makes the contact download the URL (file.fetch) and send it back as a
//   file (contact.file) with the caption "echo: file"; a failed download is answered
//   "echo: could not fetch <url>: <reason>".
// - plain only answers "echo: <text>": no typing, no markers, no corrections.
// - the text "fail" is refused with "the echo network refuses this message".
// - search finds a roster contact by id or name.
// - [gateway.config] contacts = N adds N generated contacts (c0, c1, ..., online).
//
// Build: scripts/build-examples.sh (it generates the "echo-avatars" package from the PNG files of
// plugins/echo/avatars and runs asc with the flags of sdk/assemblyscript/README.md).
import { JSON } from "json-as";
import {
  Avatar, Chat, ChatState, Code, FileFetched, JsonWriter, call, codeName, codeOf, fileFetch, fileRelease, quote, ContactRef, ContactUpdate, Correct, Displayed, Field, FileMessage, GwError, Init,
  InitReply, Input, Login, Plugin, Presence, React, Retract, Search, Status, Text, VCard, Validate,
  contactAdd, contactCorrect, contactDisplayed, contactGet, contactReact, contactReady,
  contactRetract, contactState, contactText, contactUpdate, fail, kvDelete, kvGet, kvSet,
  Level, log, loggedIn, loginFailed, messageFailed, messageSent, nowMillis, register,
  registrationResult, replyError, searchResult,
} from "@xmppgw/gateway-plugin";
import { avatarContacts, avatarData, avatarHashes } from "echo-avatars";

// The ABI's exports come from the SDK.
export { gw_abi_v1_0, gw_alloc, gw_free, gw_event } from "@xmppgw/gateway-plugin";

/** A contact of the fixed roster. */
class Person {
  constructor(
    public id: string, public name: string, public given: string, public family: string,
    public note: string, public show: string, public status: string,
    public lastSeenAgo: i64, // seconds, 0: unknown
    public client: string,
  ) {}
}

const roster: Person[] = [
  new Person("eve", "Eve Echo", "Eve", "Echo", "Echoes everything you say, from her phone.", "online", "", 0, "phone"),
  new Person("dora", "Dora Away", "Dora", "Away", "Echoes you, even while away.", "away", "out for lunch", 0, ""),
  new Person("liam", "Liam Lastweek", "Liam", "Lastweek", "Has not been around for a week, but still echoes.", "xa", "", 7 * 24 * 3600, ""),
  new Person("bot", "Helper Bot", "Helper", "Bot", "A bot that echoes.", "online", "", 0, "bot"),
  new Person("plain", "Plain Echo", "Plain", "Echo", "Answers with a plain echo: no typing, no markers.", "online", "", 0, ""),
];

function lookup(id: string): Person | null {
  for (let i = 0; i < roster.length; i++) if (roster[i].id == id) return roster[i];
  return null;
}

// Errors the user sees.
const ERR_REFUSED = "the echo network refuses this message";
const ERR_NO_SUCH_USER = "no such echo user";
const ERR_EMPTY_NAME = "Your name on the echo network cannot be empty.";
const ERR_LONG_NAME = "Your name on the echo network is too long: at most 64 characters.";
const MAX_NAME_RUNES = 64;
const SEQ_BLOCK: i64 = 100; // message ids reserved in storage at a time
const KEY_SEQ = "seq";
const KEY_REPLY_PREFIX = "reply/";

/** Go's unicode.IsSpace. */
function isSpace(c: i32): bool {
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/** Go's strings.TrimSpace (the spaces are all in the BMP: one UTF-16 unit each). */
function trimSpace(s: string): string {
  let a = 0, b = s.length;
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  return s.substring(a, b);
}

/** The number of code points (Go's utf8.RuneCountInString on the same text). */
function runeCount(s: string): i32 {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) i++;
    }
    n++;
  }
  return n;
}

/** Go's strings.EqualFold wherever one side is ASCII (the roster's ids and names). */
function fold(c: i32): i32 {
  if (c >= 0x41 && c <= 0x5a) return c + 32;
  if (c == 0x212a) return 0x6b; // KELVIN SIGN ~ k
  if (c == 0x17f) return 0x73; // LONG S ~ s
  return c;
}

function equalFold(a: string, b: string): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (fold(a.charCodeAt(i)) != fold(b.charCodeAt(i))) return false;
  return true;
}

/** Go's strconv.Atoi, 0 for what it refuses. */
function parseSeq(s: string): i64 {
  let i = 0, neg = false, n: i64 = 0;
  if (s.length == 0) return 0;
  if (s.charCodeAt(0) == 0x2b || s.charCodeAt(0) == 0x2d) { neg = s.charCodeAt(0) == 0x2d; i = 1; }
  if (i == s.length) return 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return 0;
    n = n * 10 + <i64>(c - 0x30);
  }
  return neg ? -n : n;
}

/** One user's session: next is the last message id used, limit the end of the block reserved
 * in storage (so an instance restart never reuses an id). */
class Session {
  next: i64 = 0;
  limit: i64 = 0;
  loaded: bool = false;

  /** Reserves a block of message ids in storage. */
  loadSeq(): GwError | null {
    const r = kvGet(KEY_SEQ);
    if (r.error != null) return r.error;
    const n = r.value != null ? parseSeq(r.value!) : 0;
    this.next = n;
    this.limit = n;
    this.loaded = true;
    return this.reserve();
  }

  reserve(): GwError | null {
    this.limit += SEQ_BLOCK;
    return kvSet(KEY_SEQ, this.limit.toString());
  }

  /** A fresh message number (0 on error: see lastError). */
  nextId(): i64 {
    if (!this.loaded) {
      const e = this.loadSeq();
      if (e != null) { this.lastError = e; return 0; }
    }
    if (this.next >= this.limit) {
      const e = this.reserve();
      if (e != null) { this.lastError = e; return 0; }
    }
    this.next++;
    return this.next;
  }

  lastError: GwError | null = null;

  /** The contacts this session already knows of (from an event about them or a contact.get),
   * as the Go SDK caches them: a contact.get is made only for the others. */
  known: Set<string> = new Set<string>();

  /** Looks the contact up unless the session knows it already; logs a failure. */
  contactGet(id: string): void {
    if (this.known.has(id)) return;
    const g = contactGet(id);
    if (g != null) log(Level.Warn, "gateway: contact.get \"" + id + "\": " + g.toString());
    else this.known.add(id);
  }
}

/** The context of a "file <url>" download: who sends it back, with which id. */
@json
class FetchContext {
  @omitnull() contact: string | null = null;
  @omitnull() id: string | null = null;
  @omitnull() url: string | null = null;
}

/** A context made by the Go SDK, which wraps the plugin's own in "c". */
@json
class GoContext {
  @omitnull() gw: string | null = null;
  @omitnull() c: JSON.Raw | null = null;
}

function online(): Presence {
  const p = new Presence();
  p.show = "online";
  return p;
}

/** The contact.update with everything the network knows of a roster contact. */
function describe(p: Person): ContactUpdate {
  const u = new ContactUpdate(p.id);
  u.name = p.name;
  for (let i = 0; i < avatarContacts.length; i++) {
    if (avatarContacts[i] != p.id) continue;
    const a = new Avatar();
    a.data = avatarData[i];
    a.type = "image/png";
    a.id = avatarHashes[i];
    u.avatar = a;
  }
  const v = new VCard();
  v.full_name = p.name;
  v.given = p.given;
  v.family = p.family;
  v.note = p.note;
  u.vcard = v;
  const pr = new Presence();
  pr.show = p.show;
  if (p.status.length > 0) pr.status = p.status;
  if (p.lastSeenAgo > 0) pr.last_seen = nowMillis() / 1000 - p.lastSeenAgo;
  u.presence = pr;
  if (p.client.length > 0) u.client_type = p.client;
  u.setFriend(true);
  return u;
}

@json
class EchoConfig {
  contacts: i64 = 0;
}

class Echo extends Plugin {
  extraContacts: i64 = 0;
  sessions: Map<string, Session> = new Map<string, Session>();

  session(jid: string): Session {
    if (!this.sessions.has(jid)) this.sessions.set(jid, new Session());
    return this.sessions.get(jid);
  }

  init(init: Init): InitReply | null {
    if (init.config != null) this.extraContacts = JSON.parse<EchoConfig>(init.config!.toString()).contacts;
    if (this.extraContacts < 0 || this.extraContacts > 100000) {
      replyError(new GwError(Code.Internal, "[gateway.config] contacts = " + this.extraContacts.toString() + ": expected 0 to 100000"));
      return null;
    }
    const r = new InitReply();
    r.name = "Echo";
    r.registration.instructions = "Pick any name: everyone on the echo network echoes what you say.";
    const f = new Field();
    f.var = "name";
    f.label = "Your name on the echo network";
    f.required = true;
    r.registration.fields = [f];
    r.features = ["search", "files", "corrections", "retractions", "reactions"];
    return r;
  }

  onValidate(session: string, ev: Validate): Status {
    const name = trimSpace(ev.values.has("name") ? ev.values.get("name") : "");
    let err: string | null = null;
    if (name.length == 0) err = ERR_EMPTY_NAME;
    else if (runeCount(name) > MAX_NAME_RUNES) err = ERR_LONG_NAME;
    const e = registrationResult(ev.request, err);
    return e != null ? fail(e) : Status.Ok;
  }

  onLogin(session: string, ev: Login): Status {
    const name = ev.registration.has("name") ? ev.registration.get("name") : "";
    const e = this.session(session).loadSeq();
    const e2 = e != null ? loginFailed(e.toString()) : loggedIn("Echo network: logged in as " + name);
    return e2 != null ? fail(e2) : Status.Ok;
  }

  onRestored(session: string): Status {
    const e = this.session(session).loadSeq();
    return e != null ? fail(e) : Status.Ok;
  }

  onLogout(session: string): Status {
    this.sessions.delete(session);
    return Status.Ok;
  }

  onUnregister(session: string): Status {
    this.sessions.delete(session);
    return Status.Ok;
  }

  onInput(session: string, ev: Input): Status {
    return Status.Ok;
  }

  onFill(session: string): Status {
    for (let i = 0; i < roster.length; i++) {
      const p = roster[i];
      this.session(session).contactGet(p.id);
      let e = contactUpdate(describe(p));
      if (e == null) e = contactAdd(p.id);
      if (e != null) return fail(e);
    }
    for (let i: i64 = 0; i < this.extraContacts; i++) {
      const id = "c" + i.toString();
      this.session(session).contactGet(id);
      const u = new ContactUpdate(id);
      u.name = "Contact " + i.toString();
      u.presence = online();
      let e = contactUpdate(u);
      if (e == null) e = contactAdd(id);
      if (e != null) return fail(e);
    }
    return Status.Ok;
  }

  onUpdateInfo(session: string, ev: ContactRef): Status {
    this.session(session).known.add(ev.legacy_id);
    const p = lookup(ev.legacy_id);
    let u: ContactUpdate;
    if (p != null) {
      u = describe(p);
    } else { // anyone else is an echo contact too, known by their id only
      u = new ContactUpdate(ev.legacy_id);
      u.name = ev.legacy_id;
      const v = new VCard();
      v.full_name = ev.legacy_id;
      v.note = "An echo network user.";
      u.vcard = v;
      u.presence = online();
    }
    let e = contactUpdate(u);
    if (e == null) e = contactReady(ev.legacy_id);
    return e != null ? fail(e) : Status.Ok;
  }

  onFriendRequest(session: string, ev: ContactRef): Status {
    this.session(session).known.add(ev.legacy_id);
    const e = contactUpdate(new ContactUpdate(ev.legacy_id).setFriend(true));
    if (e != null) log(Level.Warn, "gateway: contact.update \"" + ev.legacy_id + "\": " + e.toString());
    return Status.Ok;
  }

  onSearch(session: string, ev: Search): Status {
    const q = trimSpace(ev.query);
    let found: string | null = null;
    for (let i = 0; i < roster.length && found == null; i++) {
      if (equalFold(q, roster[i].id) || equalFold(q, roster[i].name)) found = roster[i].id;
    }
    const e = found != null ? searchResult(ev.request, found, null) : searchResult(ev.request, null, ERR_NO_SUCH_USER);
    return e != null ? fail(e) : Status.Ok;
  }

  /** Reports the user's message sent and answers it. */
  echo(session: string, chat: string, xmppId: string, text: string): Status {
    if (text == "fail") {
      const e = messageFailed(xmppId, ERR_REFUSED);
      return e != null ? fail(e) : Status.Ok;
    }
    const s = this.session(session);
    const n = s.nextId();
    if (n == 0) {
      const e = messageFailed(xmppId, s.lastError!.toString());
      return e != null ? fail(e) : Status.Ok;
    }
    const uid = "u-" + n.toString(), eid = "e-" + n.toString();
    let e = messageSent(xmppId, uid);
    if (e != null) return fail(e);
    if (chat == "plain") {
      e = contactText(chat, eid, "echo: " + text);
      return e != null ? fail(e) : Status.Ok;
    }
    e = contactState(chat, "composing");
    if (e == null) e = contactDisplayed(chat, uid);
    if (e == null) e = contactText(chat, eid, "echo: " + text);
    if (e == null) e = kvSet(KEY_REPLY_PREFIX + uid, eid);
    return e != null ? fail(e) : Status.Ok;
  }

  onText(session: string, chat: Chat, ev: Text): Status {
    this.session(session).known.add(chat.id);
    if (ev.text.startsWith("file ")) return this.fileBack(session, chat.id, ev.id, trimSpace(ev.text.substring(5)));
    return this.echo(session, chat.id, ev.id, ev.text);
  }

  /** "file <url>": reports the user's message sent and starts downloading url (file.fetch); the
   * answer comes as file.fetched. */
  fileBack(session: string, chat: string, xmppId: string, url: string): Status {
    const s = this.session(session);
    const n = s.nextId();
    if (n == 0) {
      const e = messageFailed(xmppId, s.lastError!.toString());
      return e != null ? fail(e) : Status.Ok;
    }
    const eid = "e-" + n.toString();
    let e = messageSent(xmppId, "u-" + n.toString());
    if (e != null) return fail(e);
    const ctx = new JsonWriter().obj().key("contact").str(chat).key("id").str(eid).key("url").str(url).end().toString();
    e = fileFetch(url, ctx);
    if (e != null) {
      e = contactText(chat, eid, "echo: could not fetch " + url + ": " + e.toString());
      if (e != null) return fail(e);
    }
    return Status.Ok;
  }

  /** file.fetched: sends the downloaded file back from the contact and releases the handle, or
   * tells why the download failed. */
  onFileFetched(session: string, ev: FileFetched): Status {
    let raw: string | null = ev.context != null ? ev.context!.toString() : null;
    if (raw != null && raw.startsWith("{")) {
      const g = JSON.parse<GoContext>(raw);
      if (g.gw != null) raw = g.c != null ? g.c!.toString() : null;
    }
    let fc: FetchContext | null = null;
    if (raw != null && raw.startsWith("{")) fc = JSON.parse<FetchContext>(raw);
    if (fc == null || fc.contact == null || fc.contact!.length == 0) {
      return fail(new GwError(Code.Network, "file.fetched with an unknown context " + (raw != null ? raw : "")));
    }
    const contact = fc.contact!;
    const id = fc.id != null ? fc.id! : "";
    this.session(session).contactGet(contact);
    if (ev.error != null) {
      const why = codeName(codeOf(ev.error!.code)) + ": " + ev.error!.message;
      const e = contactText(contact, id, "echo: could not fetch " + (fc.url != null ? fc.url! : "") + ": " + why);
      return e != null ? fail(e) : Status.Ok;
    }
    if (ev.file == null) return fail(new GwError(Code.Internal, "file.fetched: neither a file nor an error"));
    const f = ev.file!;
    const w = new JsonWriter().obj().key("legacy_id").str(contact).key("id").str(id)
      .key("file").obj().key("handle").str(f.handle).key("size").int(f.size);
    if (f.type != null && f.type!.length > 0) w.key("type").str(f.type!);
    if (f.name != null && f.name!.length > 0) w.key("name").str(f.name!);
    w.end().key("caption").str("echo: file").end();
    let e = call("contact.file", w.toString());
    if (e == null) e = fileRelease(f.handle);
    return e != null ? fail(e) : Status.Ok;
  }

  onFile(session: string, chat: Chat, ev: FileMessage): Status {
    this.session(session).known.add(chat.id);
    return this.echo(session, chat.id, ev.id, ev.url);
  }

  onCorrect(session: string, chat: Chat, ev: Correct): Status {
    this.session(session).known.add(chat.id);
    if (chat.id == "plain") return Status.Ok;
    const r = kvGet(KEY_REPLY_PREFIX + ev.target);
    if (r.error != null) return fail(r.error!);
    if (r.value == null) return Status.Ok;
    const e = contactCorrect(chat.id, r.value!, "echo: " + ev.text);
    return e != null ? fail(e) : Status.Ok;
  }

  onRetract(session: string, chat: Chat, ev: Retract): Status {
    this.session(session).known.add(chat.id);
    if (chat.id == "plain") return Status.Ok;
    const key = KEY_REPLY_PREFIX + ev.target;
    const r = kvGet(key);
    if (r.error != null) return fail(r.error!);
    if (r.value == null) return Status.Ok;
    let e = contactRetract(chat.id, r.value!);
    if (e == null) e = kvDelete(key);
    return e != null ? fail(e) : Status.Ok;
  }

  onReact(session: string, chat: Chat, ev: React): Status {
    this.session(session).known.add(chat.id);
    if (chat.id == "plain") return Status.Ok;
    const e = contactReact(chat.id, ev.target, ev.reactions);
    return e != null ? fail(e) : Status.Ok;
  }

  onDisplayed(session: string, chat: Chat, ev: Displayed): Status {
    this.session(session).known.add(chat.id);
    return Status.Ok;
  }

  onChatState(session: string, chat: Chat, ev: ChatState): Status {
    this.session(session).known.add(chat.id);
    return Status.Ok;
  }
}

register(new Echo());
