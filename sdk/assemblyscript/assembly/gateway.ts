// The AssemblyScript binding of the gateway's plugin ABI v1.0 (abi/README.md).
//
// A plugin extends Plugin, registers one instance with register(), and re-exports the ABI's
// exports from its entry file:
//
//   export { gw_abi_v1_0, gw_alloc, gw_free, gw_event } from "@xmppgw/gateway-plugin";
//
// Host calls are the functions below (each returns null on success or a GwError); JSON payloads
// are the json-as classes of types.ts. See README.md for the asc flags.
import { JSON } from "json-as";
import {
  BridgeEvent, BridgeResponse, Chat, ChatState, ContactRef, ContactUpdate, Correct, Displayed,
  FileFetched, FileMessage, Init, InitReply, Input, JidToLegacy, LegacyToJid, Login, React,
  Retract, Search, Text, TimerFired, Validate,
} from "./types";

export * from "./types";

// ---- Imports (module "gateway_v1", section 3) ----

/** call: the host call `method` with the JSON request; >= 0: the response's length, < 0: the
 * negated error code (the pending response is then the error reply). */
@external("gateway_v1", "call")
declare function gw_call(methodPtr: usize, methodLen: i32, reqPtr: usize, reqLen: i32): i32;
/** result: copies up to cap bytes of the pending response, returns its full length. */
@external("gateway_v1", "result")
declare function gw_result(ptr: usize, cap: i32): i32;
/** reply: sets the event's reply (copied at once). */
@external("gateway_v1", "reply")
declare function gw_reply(ptr: usize, len: i32): void;
/** log: one line to the gateway's log at a slog level. */
@external("gateway_v1", "log")
declare function gw_log(level: i32, ptr: usize, len: i32): void;
/** WASI's clock, for now(): the host gives real clocks (AssemblyScript's Date would import env). */
@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: u32, precision: u64, out: usize): u16;

// ---- Constants ----

/** What gw_event returns. */
export enum Status {
  /** Handled; its reply, if the event has one, was given with reply(). */
  Ok = 0,
  /** Not implemented: the host applies its default (section 8). */
  Unhandled = 1,
  /** Failed; fail(e) sets the error reply and returns this. */
  Error = 2,
}

/** Error codes (section 7). A code this SDK does not know reads as Code.Internal. */
export namespace Code {
  export const BadRequest: i32 = 1;
  export const NotFound: i32 = 2;
  export const UnknownMethod: i32 = 3;
  export const Forbidden: i32 = 4;
  export const Quota: i32 = 5;
  export const Unavailable: i32 = 6;
  export const NoSession: i32 = 7;
  export const Internal: i32 = 8;
  export const Invalid: i32 = 9;
  export const Network: i32 = 10;
}

const codeNames: string[] = [
  "", "bad_request", "not_found", "unknown_method", "forbidden", "quota", "unavailable",
  "no_session", "internal", "invalid", "network",
];

/** The name of an error code ("not_found"); "internal" for a code it does not know. */
export function codeName(code: i32): string {
  return code > 0 && code < codeNames.length ? codeNames[code] : "internal";
}

/** The code of an error name; Code.Internal for a name it does not know. */
export function codeOf(name: string): i32 {
  for (let i = 1; i < codeNames.length; i++) if (codeNames[i] == name) return i;
  return Code.Internal;
}

/** Log levels (log/slog's). */
export namespace Level {
  export const Debug: i32 = -4;
  export const Info: i32 = 0;
  export const Warn: i32 = 4;
  export const Error: i32 = 8;
}

/** An error: a stable code and a human-readable message. */
export class GwError {
  constructor(public code: i32, public message: string) {}
  /** "code: message", as the Go SDK prints errors. */
  toString(): string {
    return codeName(this.code) + ": " + this.message;
  }
}

// ---- JSON writing ----

/** A small JSON writer for requests and replies: it adds commas and colons and escapes strings.
 *  w.obj().key("id").str(id).end().toString() */
export class JsonWriter {
  private parts: string[] = [];
  private comma: bool = false;

  private before(): void {
    if (this.comma) this.parts.push(",");
    this.comma = true;
  }
  obj(): JsonWriter { this.before(); this.parts.push("{"); this.comma = false; return this; }
  end(): JsonWriter { this.parts.push("}"); this.comma = true; return this; }
  arr(): JsonWriter { this.before(); this.parts.push("["); this.comma = false; return this; }
  endArr(): JsonWriter { this.parts.push("]"); this.comma = true; return this; }
  key(k: string): JsonWriter { this.before(); this.parts.push(quote(k)); this.parts.push(":"); this.comma = false; return this; }
  str(s: string): JsonWriter { this.before(); this.parts.push(quote(s)); return this; }
  int(n: i64): JsonWriter { this.before(); this.parts.push(n.toString()); return this; }
  bool(b: bool): JsonWriter { this.before(); this.parts.push(b ? "true" : "false"); return this; }
  raw(json: string): JsonWriter { this.before(); this.parts.push(json); return this; }
  toString(): string { return this.parts.join(""); }
}

/** s as a JSON string, quotes included: escapes ", \ and control characters. */
export function quote(s: string): string {
  let out = "\"";
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    if (i > start) out += s.substring(start, i);
    start = i + 1;
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else if (c == 0x08) out += "\\b";
    else if (c == 0x0c) out += "\\f";
    else out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
  }
  if (start < n) out += s.substring(start);
  return out + "\"";
}

/** A request object with string fields: obj1("legacy_id", id) etc. */
function fields(keys: string[], values: string[]): string {
  const w = new JsonWriter().obj();
  for (let i = 0; i < keys.length; i++) w.key(keys[i]).str(values[i]);
  return w.end().toString();
}

// ---- Host calls ----

let lastError: GwError | null = null;
let pendingLen: i32 = 0;

/** Makes the host call `method` with a JSON request. Returns null on success (read the
 * response with response()), or the host's error. */
export function call(method: string, request: string): GwError | null {
  const m = String.UTF8.encode(method);
  const r = String.UTF8.encode(request);
  const n = gw_call(changetype<usize>(m), m.byteLength, changetype<usize>(r), r.byteLength);
  if (n >= 0) {
    pendingLen = n;
    lastError = null;
    return null;
  }
  pendingLen = -1;
  const code = -n > 0 && -n < codeNames.length ? -n : Code.Internal;
  let message = method + " failed";
  const body = response();
  if (body.length > 0) {
    const e = JSON.parse<ErrorReply>(body);
    if (e.error != null) message = e.error!.message;
  }
  const err = new GwError(code, message);
  lastError = err;
  return err;
}

/** The error of the last host call, or null if it succeeded. */
export function lastCallError(): GwError | null {
  return lastError;
}

/** The pending response: the last call's response, or its error reply. */
export function response(): string {
  let n = pendingLen >= 0 ? pendingLen : gw_result(0, 0);
  if (n <= 0) return "";
  let buf = new ArrayBuffer(n);
  let full = gw_result(changetype<usize>(buf), n);
  if (full > n) {
    buf = new ArrayBuffer(full);
    full = gw_result(changetype<usize>(buf), full);
  }
  return String.UTF8.decodeUnsafe(changetype<usize>(buf), <usize>min(full, buf.byteLength));
}

/** Makes a host call with a json-as request object. */
export function callWith<T>(method: string, request: T): GwError | null {
  return call(method, JSON.stringify<T>(request));
}

@json
class ErrorReply {
  @omitnull() error: ErrorBody | null = null;
}

@json
class ErrorBody {
  code: string = "";
  message: string = "";
}

/** Sets the event's reply to the JSON json. */
export function reply(json: string): void {
  const b = String.UTF8.encode(json);
  gw_reply(changetype<usize>(b), b.byteLength);
}

/** Sets the event's reply to the error reply of e. */
export function replyError(e: GwError): void {
  reply(new JsonWriter().obj().key("error").obj().key("code").str(codeName(e.code)).key("message").str(e.message).end().end().toString());
}

/** Fails the event with e: sets the error reply and returns Status.Error. */
export function fail(e: GwError): Status {
  replyError(e);
  return Status.Error;
}

/** Writes a line to the gateway's log (works during init too). */
export function log(level: i32, msg: string): void {
  const b = String.UTF8.encode(msg);
  gw_log(level, changetype<usize>(b), b.byteLength);
}

/** The wall clock, in milliseconds since the Unix epoch. */
export function nowMillis(): i64 {
  const out = memory.data(8);
  clock_time_get(0, 1000, out);
  return <i64>(load<u64>(out) / 1000000);
}

// Contacts.

/** contact.get: creates the contact at the first lookup (the host sends contact.update_info). */
export function contactGet(legacyId: string): GwError | null {
  return call("contact.get", fields(["legacy_id"], [legacyId]));
}
/** contact.update: only the fields set change. */
export function contactUpdate(u: ContactUpdate): GwError | null {
  return callWith<ContactUpdate>("contact.update", u);
}
export function contactAdd(legacyId: string): GwError | null {
  return call("contact.add", fields(["legacy_id"], [legacyId]));
}
export function contactReady(legacyId: string): GwError | null {
  return call("contact.ready", fields(["legacy_id"], [legacyId]));
}
export function contactFailed(legacyId: string, error: string): GwError | null {
  return call("contact.failed", fields(["legacy_id", "error"], [legacyId, error]));
}
/** contact.text: a message from the contact; id is the network's id of the message. */
export function contactText(legacyId: string, id: string, text: string): GwError | null {
  return call("contact.text", fields(["legacy_id", "id", "text"], [legacyId, id, text]));
}
export function contactCorrect(legacyId: string, id: string, text: string): GwError | null {
  return call("contact.correct", fields(["legacy_id", "id", "text"], [legacyId, id, text]));
}
export function contactRetract(legacyId: string, id: string): GwError | null {
  return call("contact.retract", fields(["legacy_id", "id"], [legacyId, id]));
}
export function contactReact(legacyId: string, id: string, reactions: string[]): GwError | null {
  const w = new JsonWriter().obj().key("legacy_id").str(legacyId).key("id").str(id).key("reactions").arr();
  for (let i = 0; i < reactions.length; i++) w.str(reactions[i]);
  return call("contact.react", w.endArr().end().toString());
}
export function contactDisplayed(legacyId: string, id: string): GwError | null {
  return call("contact.displayed", fields(["legacy_id", "id"], [legacyId, id]));
}
export function contactReceived(legacyId: string, id: string): GwError | null {
  return call("contact.received", fields(["legacy_id", "id"], [legacyId, id]));
}
export function contactState(legacyId: string, state: string): GwError | null {
  return call("contact.state", fields(["legacy_id", "state"], [legacyId, state]));
}

// Messages and the session.

/** message.sent: the network took the user's message xmppId under its own id legacyId. */
export function messageSent(xmppId: string, legacyId: string): GwError | null {
  return call("message.sent", fields(["id", "legacy_id"], [xmppId, legacyId]));
}
/** message.failed: the network refused the user's message; the user sees error. */
export function messageFailed(xmppId: string, error: string): GwError | null {
  return call("message.failed", fields(["id", "error"], [xmppId, error]));
}
export function loggedIn(status: string): GwError | null {
  return call("session.logged_in", fields(["status"], [status]));
}
export function loginFailed(error: string): GwError | null {
  return call("session.login_failed", fields(["error"], [error]));
}
export function sessionLogout(error: string): GwError | null {
  return call("session.logout", fields(["error"], [error]));
}
export function sessionStatus(show: string, status: string): GwError | null {
  return call("session.status", fields(["status", "show"], [status, show]));
}
export function sessionMessage(text: string): GwError | null {
  return call("session.message", fields(["text"], [text]));
}
export function prompt(id: string, text: string, secret: bool): GwError | null {
  return call("session.prompt", new JsonWriter().obj().key("prompt").str(id).key("text").str(text).key("secret").bool(secret).end().toString());
}
/** registration.result: a null error accepts the form. */
export function registrationResult(request: string, error: string | null): GwError | null {
  const w = new JsonWriter().obj().key("request").str(request);
  if (error != null) w.key("error").str(error);
  return call("registration.result", w.end().toString());
}
/** search.result: the contact found, or an error text. */
export function searchResult(request: string, legacyId: string | null, error: string | null): GwError | null {
  const w = new JsonWriter().obj().key("request").str(request);
  if (legacyId != null) w.key("legacy_id").str(legacyId);
  if (error != null) w.key("error").str(error);
  return call("search.result", w.end().toString());
}

// Storage.

/** The answer of kvGet: value is null when the key is absent (or on error). */
export class KvResult {
  constructor(public value: string | null, public error: GwError | null) {}
}

@json
class KvValue {
  value: string = "";
}

export function kvGet(key: string): KvResult {
  const e = call("kv.get", fields(["key"], [key]));
  if (e == null) return new KvResult(JSON.parse<KvValue>(response()).value, null);
  if (e.code == Code.NotFound) return new KvResult(null, null);
  return new KvResult(null, e);
}
export function kvSet(key: string, value: string): GwError | null {
  return call("kv.set", fields(["key", "value"], [key, value]));
}
export function kvDelete(key: string): GwError | null {
  return call("kv.delete", fields(["key"], [key]));
}

// Asynchronous calls: their answers come as later events.

/** timer.set; context is raw JSON or null. */
export function timerSet(name: string, afterMs: i64, context: string | null): GwError | null {
  const w = new JsonWriter().obj().key("timer").str(name).key("after_ms").int(afterMs);
  if (context != null) w.key("context").raw(context);
  return call("timer.set", w.end().toString());
}
export function timerCancel(name: string): GwError | null {
  return call("timer.cancel", fields(["timer"], [name]));
}
/** bridge.call; request and context are raw JSON. The token is in response(). */
export function bridgeCall(bridge: string, request: string, context: string | null): GwError | null {
  const w = new JsonWriter().obj().key("bridge").str(bridge).key("request").raw(request);
  if (context != null) w.key("context").raw(context);
  return call("bridge.call", w.end().toString());
}
/** file.fetch; the token is in response(). */
export function fileFetch(url: string, context: string | null): GwError | null {
  const w = new JsonWriter().obj().key("url").str(url);
  if (context != null) w.key("context").raw(context);
  return call("file.fetch", w.end().toString());
}
export function fileRelease(handle: string): GwError | null {
  return call("file.release", fields(["handle"], [handle]));
}

// ---- The plugin ----

/** A network plugin. Override the events you handle; the others return Status.Unhandled and
 * the host applies its default. Every method runs during one event, for one session (the
 * user's bare JID): keep per-user state keyed by it. To fail an event, return fail(error). */
export abstract class Plugin {
  /** init: the first event of the instance, without a session. Return the network's name and
   * registration form, or null after replyError() to refuse to start. */
  abstract init(init: Init): InitReply | null;

  onLogin(session: string, ev: Login): Status { return Status.Unhandled; }
  onLogout(session: string): Status { return Status.Unhandled; }
  onUnregister(session: string): Status { return Status.Unhandled; }
  onRestored(session: string): Status { return Status.Unhandled; }
  onInput(session: string, ev: Input): Status { return Status.Unhandled; }
  onValidate(session: string, ev: Validate): Status { return Status.Unhandled; }
  onSearch(session: string, ev: Search): Status { return Status.Unhandled; }
  onFill(session: string): Status { return Status.Unhandled; }
  onJidUsernameToLegacyId(session: string, ev: JidToLegacy): Status { return Status.Unhandled; }
  onLegacyIdToJidUsername(session: string, ev: LegacyToJid): Status { return Status.Unhandled; }
  onUpdateInfo(session: string, ev: ContactRef): Status { return Status.Unhandled; }
  onFriendRequest(session: string, ev: ContactRef): Status { return Status.Unhandled; }
  onText(session: string, chat: Chat, ev: Text): Status { return Status.Unhandled; }
  onFile(session: string, chat: Chat, ev: FileMessage): Status { return Status.Unhandled; }
  onCorrect(session: string, chat: Chat, ev: Correct): Status { return Status.Unhandled; }
  onRetract(session: string, chat: Chat, ev: Retract): Status { return Status.Unhandled; }
  onReact(session: string, chat: Chat, ev: React): Status { return Status.Unhandled; }
  onDisplayed(session: string, chat: Chat, ev: Displayed): Status { return Status.Unhandled; }
  onChatState(session: string, chat: Chat, ev: ChatState): Status { return Status.Unhandled; }
  onBridgeResponse(session: string, ev: BridgeResponse): Status { return Status.Unhandled; }
  onBridgeEvent(session: string, ev: BridgeEvent): Status { return Status.Unhandled; }
  onTimerFired(session: string, ev: TimerFired): Status { return Status.Unhandled; }
  onFileFetched(session: string, ev: FileFetched): Status { return Status.Unhandled; }
  /** An event type this SDK does not know (a newer minor version), with its raw payload. */
  onOther(session: string, type: string, payload: string): Status { return Status.Unhandled; }
}

let plugin: Plugin | null = null;

/** Registers the plugin of this module (call it once, at the top level of the entry file). */
export function register(p: Plugin): void {
  plugin = p;
}

/** The envelope, with the payload kept raw for the typed parse of its event. */
@json
class Envelope {
  type: string = "";
  @omitnull() session: string | null = null;
  @omitnull() chat: Chat | null = null;
  @omitnull() payload: JSON.Raw | null = null;
}

function payloadOf(env: Envelope): string {
  return env.payload != null ? env.payload!.toString() : "{}";
}

function dispatch(p: Plugin, env: Envelope): Status {
  const t = env.type;
  const raw = payloadOf(env);
  if (t == "init") {
    const r = p.init(JSON.parse<Init>(raw));
    if (r == null) return Status.Error;
    reply(JSON.stringify<InitReply>(r));
    return Status.Ok;
  }
  const s = env.session != null ? env.session! : "";
  if (t == "session.login") return p.onLogin(s, JSON.parse<Login>(raw));
  if (t == "session.logout") return p.onLogout(s);
  if (t == "session.unregister") return p.onUnregister(s);
  if (t == "session.restored") return p.onRestored(s);
  if (t == "session.input") return p.onInput(s, JSON.parse<Input>(raw));
  if (t == "registration.validate") return p.onValidate(s, JSON.parse<Validate>(raw));
  if (t == "search") return p.onSearch(s, JSON.parse<Search>(raw));
  if (t == "roster.fill") return p.onFill(s);
  if (t == "contact.jid_username_to_legacy_id") return p.onJidUsernameToLegacyId(s, JSON.parse<JidToLegacy>(raw));
  if (t == "contact.legacy_id_to_jid_username") return p.onLegacyIdToJidUsername(s, JSON.parse<LegacyToJid>(raw));
  if (t == "contact.update_info") return p.onUpdateInfo(s, JSON.parse<ContactRef>(raw));
  if (t == "contact.friend_request") return p.onFriendRequest(s, JSON.parse<ContactRef>(raw));
  if (t == "bridge.response") return p.onBridgeResponse(s, JSON.parse<BridgeResponse>(raw));
  if (t == "bridge.event") return p.onBridgeEvent(s, JSON.parse<BridgeEvent>(raw));
  if (t == "timer.fired") return p.onTimerFired(s, JSON.parse<TimerFired>(raw));
  if (t == "file.fetched") return p.onFileFetched(s, JSON.parse<FileFetched>(raw));
  if (t.startsWith("message.") || t == "chat.state") {
    const known = t == "message.text" || t == "message.file" || t == "message.correct" || t == "message.retract" ||
      t == "message.react" || t == "message.displayed" || t == "chat.state";
    if (known && env.chat == null) return fail(new GwError(Code.BadRequest, t + ": the envelope has no chat"));
    const c = env.chat != null ? env.chat! : new Chat();
    if (t == "message.text") return p.onText(s, c, JSON.parse<Text>(raw));
    if (t == "message.file") return p.onFile(s, c, JSON.parse<FileMessage>(raw));
    if (t == "message.correct") return p.onCorrect(s, c, JSON.parse<Correct>(raw));
    if (t == "message.retract") return p.onRetract(s, c, JSON.parse<Retract>(raw));
    if (t == "message.react") return p.onReact(s, c, JSON.parse<React>(raw));
    if (t == "message.displayed") return p.onDisplayed(s, c, JSON.parse<Displayed>(raw));
    if (t == "chat.state") return p.onChatState(s, c, JSON.parse<ChatState>(raw));
  }
  return p.onOther(s, t, raw);
}

// ---- Exports (re-export them from the entry file) ----

/** The version marker (never called). */
export function gw_abi_v1_0(): void {}

/** A block of size bytes for the host to write an event into (outside the GC's objects). */
export function gw_alloc(size: i32): usize {
  return heap.alloc(<usize>max(size, 1));
}

/** Releases a block from gw_alloc. */
export function gw_free(ptr: usize, size: i32): void {
  heap.free(ptr);
}

/** Handles one event envelope (UTF-8 JSON, len bytes at ptr) and returns a Status. */
export function gw_event(ptr: usize, len: i32): i32 {
  if (plugin == null) {
    log(Level.Error, "gateway: no plugin registered (call register() in the entry file)");
    return Status.Error;
  }
  pendingLen = 0;
  const env = JSON.parse<Envelope>(String.UTF8.decodeUnsafe(ptr, <usize>len));
  return dispatch(plugin!, env);
}

/** The runtime's abort (a failed assert, a throw, a JSON parse error): logs why, then traps,
 * which ends the instance as the ABI says. Use it with --use abort=~lib/@xmppgw/gateway-plugin/assembly/gateway/gwAbort */
export function gwAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const m = message != null ? message : "abort";
  const f = fileName != null ? fileName : "?";
  log(8 /* Level.Error, a literal: abort may run before globals are initialised */, "plugin aborted: " + m + " at " + f + ":" + line.toString() + ":" + column.toString());
  unreachable();
}
