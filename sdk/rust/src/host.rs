//! Host calls (section 6 of abi/README.md). Each acts on the session of the event being handled
//! and returns at once; a failure is an [`Error`] with the host's code and message. During
//! `init` every call fails with [`Code::NoSession`].

use std::cell::RefCell;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Code, Error, ErrorReply};
use crate::sys;
use crate::types::*;

thread_local! {
    // Reused buffers: the request being encoded, and the response being read. The host copies
    // requests at once, and one event runs at a time, so one of each is enough.
    static REQ: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
    static RESP: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
}

/// Makes the host call `method` with a request already in JSON. `Ok(n)`: the length of the
/// pending response (read it with [`result`]); `Err`: the host's error.
pub fn call_json(method: &str, req: &[u8]) -> Result<usize, Error> {
    let n = sys::call(method, req);
    if n >= 0 {
        return Ok(n as usize);
    }
    let code = Code::from_i32(-n);
    let reply = with_result(None, |b| serde_json::from_slice::<ErrorReply>(b).ok());
    let message = match reply.and_then(|r| r.error) {
        Some(e) => e.message,
        None => format!("{} failed", method),
    };
    Err(Error { code, message })
}

/// Runs f on the pending response (of `len` bytes, when known).
fn with_result<T>(len: Option<usize>, f: impl FnOnce(&[u8]) -> T) -> T {
    RESP.with(|r| {
        let mut buf = r.borrow_mut();
        let want = match len {
            Some(n) => n,
            None => sys::result(&mut []).max(0) as usize,
        };
        buf.resize(want, 0);
        let mut full = sys::result(&mut buf[..]).max(0) as usize;
        if full > want {
            buf.resize(full, 0);
            full = sys::result(&mut buf[..]).max(0) as usize;
        }
        buf.truncate(full);
        f(&buf)
    })
}

/// Copies the pending response (the response of the last call, or its error reply).
pub fn result() -> Vec<u8> {
    with_result(None, |b| b.to_vec())
}

/// Makes a host call with any serializable request and decodes the response.
pub fn call<Q: Serialize + ?Sized, R: DeserializeOwned>(method: &str, req: &Q) -> Result<R, Error> {
    let n = encode_and_call(method, req)?;
    with_result(Some(n), |b| {
        serde_json::from_slice(b).map_err(|e| Error::new(Code::Internal, format!("{}: decoding the response: {}", method, e)))
    })
}

/// Makes a host call whose response does not matter (`{}`): it is not read.
pub fn call0<Q: Serialize + ?Sized>(method: &str, req: &Q) -> Result<(), Error> {
    encode_and_call(method, req).map(|_| ())
}

fn encode_and_call<Q: Serialize + ?Sized>(method: &str, req: &Q) -> Result<usize, Error> {
    REQ.with(|r| {
        let mut buf = r.borrow_mut();
        buf.clear();
        serde_json::to_writer(&mut *buf, req)
            .map_err(|e| Error::new(Code::BadRequest, format!("{}: encoding the request: {}", method, e)))?;
        call_json(method, &buf)
    })
}

/// Sets the event's reply (for `init`, the JID mapping events; an error reply is set for you
/// when a handler returns an error).
pub fn reply<T: Serialize + ?Sized>(v: &T) -> Result<(), Error> {
    let b = serde_json::to_vec(v).map_err(|e| Error::new(Code::Internal, format!("encoding a reply: {}", e)))?;
    sys::reply(&b);
    Ok(())
}

/// Sets the event's reply to `{"error": e}`.
pub fn reply_error(e: &Error) {
    let b = serde_json::to_vec(&ErrorReply { error: Some(e.clone()) }).unwrap_or_default();
    sys::reply(&b);
}

// ---- Log ----

/// Log levels (log/slog's).
pub const LOG_DEBUG: i32 = -4;
pub const LOG_INFO: i32 = 0;
pub const LOG_WARN: i32 = 4;
pub const LOG_ERROR: i32 = 8;

/// Writes a line to the gateway's log (this works in `init` too).
pub fn log(level: i32, msg: &str) {
    sys::log(level, msg)
}

// ---- Contacts ----

fn cref(id: &str) -> ContactRef {
    ContactRef { legacy_id: id.to_string() }
}

/// The contact singleton for a legacy id, created at the first lookup (the host then sends
/// `contact.update_info` once).
pub fn contact_get(legacy_id: &str) -> Result<Contact, Error> {
    call("contact.get", &ContactGet { legacy_id: legacy_id.to_string(), username: None })
}

/// Every contact the host knows for the session.
pub fn contact_list() -> Result<Vec<Contact>, Error> {
    call::<_, ContactList>("contact.list", &serde_json::Map::new()).map(|l| l.contacts)
}

/// Changes what the user sees of a contact (only the fields set).
pub fn contact_update(u: &ContactUpdate) -> Result<(), Error> {
    call0("contact.update", u)
}

/// Adds the contact to the user's roster (or asks the user to).
pub fn contact_add(legacy_id: &str) -> Result<(), Error> {
    call0("contact.add", &cref(legacy_id))
}

/// Ends `contact.update_info` successfully.
pub fn contact_ready(legacy_id: &str) -> Result<(), Error> {
    call0("contact.ready", &cref(legacy_id))
}

/// Ends `contact.update_info` with an error.
pub fn contact_failed(legacy_id: &str, error: &str) -> Result<(), Error> {
    call0("contact.failed", &ContactFailed { legacy_id: legacy_id.to_string(), error: error.to_string() })
}

/// A text message from the contact.
pub fn contact_text(legacy_id: &str, id: &str, text: &str) -> Result<(), Error> {
    call0("contact.text", &ContactText { meta: MsgMeta::new(legacy_id), id: id.to_string(), text: text.to_string(), ..Default::default() })
}

/// The contact edited its message `id`.
pub fn contact_correct(legacy_id: &str, id: &str, text: &str) -> Result<(), Error> {
    call0("contact.correct", &ContactCorrect { meta: MsgMeta::new(legacy_id), id: id.to_string(), text: text.to_string() })
}

/// The contact deleted its message `id`.
pub fn contact_retract(legacy_id: &str, id: &str) -> Result<(), Error> {
    call0("contact.retract", &ContactMsgRef { meta: MsgMeta::new(legacy_id), id: id.to_string() })
}

/// The contact's reactions on message `id` are now `reactions` (all of them).
pub fn contact_react(legacy_id: &str, id: &str, reactions: &[String]) -> Result<(), Error> {
    call0("contact.react", &ContactReact { meta: MsgMeta::new(legacy_id), id: id.to_string(), reactions: reactions.to_vec() })
}

/// The contact read up to message `id`.
pub fn contact_displayed(legacy_id: &str, id: &str) -> Result<(), Error> {
    call0("contact.displayed", &ContactMsgRef { meta: MsgMeta::new(legacy_id), id: id.to_string() })
}

/// The contact's device received message `id`.
pub fn contact_received(legacy_id: &str, id: &str) -> Result<(), Error> {
    call0("contact.received", &ContactMsgRef { meta: MsgMeta::new(legacy_id), id: id.to_string() })
}

/// The contact's chat state (`composing`, `paused`, ...).
pub fn contact_state(legacy_id: &str, state: &str) -> Result<(), Error> {
    call0("contact.state", &ContactState { meta: MsgMeta::new(legacy_id), state: state.to_string() })
}

// ---- Messages and the session ----

/// The network accepted the user's message `xmpp_id` under its own id `legacy_id`.
pub fn message_sent(xmpp_id: &str, legacy_id: &str) -> Result<(), Error> {
    call0("message.sent", &MessageSent { id: xmpp_id.to_string(), legacy_id: legacy_id.to_string() })
}

/// The network refused the user's message `xmpp_id`; the user sees `error`.
pub fn message_failed(xmpp_id: &str, error: &str) -> Result<(), Error> {
    call0("message.failed", &MessageFailed { id: xmpp_id.to_string(), error: error.to_string() })
}

/// Login succeeded; `status` is shown as the gateway's status.
pub fn logged_in(status: &str) -> Result<(), Error> {
    call0("session.logged_in", &SessionStatus { status: Some(status.to_string()), show: None })
}

/// Login failed; the user is told `error` and the session ends.
pub fn login_failed(error: &str) -> Result<(), Error> {
    call0("session.login_failed", &SessionError { error: error.to_string() })
}

/// The network ended the session by itself.
pub fn logout(error: &str) -> Result<(), Error> {
    call0("session.logout", &SessionError { error: error.to_string() })
}

/// Sets the gateway's presence for the user.
pub fn status(show: &str, status: &str) -> Result<(), Error> {
    call0("session.status", &SessionStatus { status: Some(status.to_string()), show: Some(show.to_string()) })
}

/// Sends the user a message from the gateway's JID.
pub fn session_message(text: &str) -> Result<(), Error> {
    call0("session.message", &GatewayMessage { text: text.to_string() })
}

/// Asks the user for input; the answer comes as `session.input` with the same prompt id.
pub fn prompt(id: &str, text: &str, secret: bool) -> Result<(), Error> {
    call0("session.prompt", &Prompt { prompt: id.to_string(), text: text.to_string(), secret })
}

/// Answers `registration.validate`: `None` accepts the form.
pub fn registration_result(request: &str, error: Option<&str>) -> Result<(), Error> {
    call0("registration.result", &RegistrationResult { request: request.to_string(), error: error.map(str::to_string) })
}

/// Answers `search` with a contact or an error text.
pub fn search_result(request: &str, legacy_id: Option<&str>, error: Option<&str>) -> Result<(), Error> {
    call0(
        "search.result",
        &SearchResult { request: request.to_string(), legacy_id: legacy_id.map(str::to_string), error: error.map(str::to_string) },
    )
}

// ---- Storage ----

/// The stored value of `key`; `Ok(None)` when it is absent.
pub fn kv_get(key: &str) -> Result<Option<String>, Error> {
    match call::<_, KvValue>("kv.get", &KvKey { key: key.to_string() }) {
        Ok(v) => Ok(Some(v.value)),
        Err(e) if e.is(Code::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Stores `value` under `key`.
pub fn kv_set(key: &str, value: &str) -> Result<(), Error> {
    call0("kv.set", &KvSet { key: key.to_string(), value: value.to_string() })
}

/// Deletes `key` (absent is not an error).
pub fn kv_delete(key: &str) -> Result<(), Error> {
    call0("kv.delete", &KvKey { key: key.to_string() })
}

/// The keys that start with `prefix`.
pub fn kv_keys(prefix: &str) -> Result<Vec<String>, Error> {
    call::<_, KvKeys>("kv.keys", &KvKey { key: prefix.to_string() }).map(|k| k.keys)
}

// ---- Asynchronous calls ----

/// Sets (or resets) the session's timer `name`; `timer.fired` comes after `after_ms` with
/// `context` (any JSON, or `None`).
pub fn timer_set(name: &str, after_ms: i64, context: Option<&str>) -> Result<(), Error> {
    let context = context.map(raw).transpose()?;
    call0("timer.set", &TimerSet { timer: name.to_string(), after_ms, context })
}

/// Cancels a timer.
pub fn timer_cancel(name: &str) -> Result<(), Error> {
    call0("timer.cancel", &TimerCancel { timer: name.to_string() })
}

/// Sends a request (JSON) to a bridge; the answer comes as `bridge.response` with the returned
/// token and `context`.
pub fn bridge_call(bridge: &str, request: &str, context: Option<&str>) -> Result<String, Error> {
    let req = BridgeCall { bridge: bridge.to_string(), request: raw(request)?, context: context.map(raw).transpose()? };
    call::<_, Token>("bridge.call", &req).map(|t| t.token)
}

/// Downloads a URL into a file handle; the answer comes as `file.fetched`.
pub fn file_fetch(url: &str, max_size: i64, context: Option<&str>) -> Result<String, Error> {
    let req = FileFetch { url: url.to_string(), max_size, context: context.map(raw).transpose()? };
    call::<_, Token>("file.fetch", &req).map(|t| t.token)
}

/// Drops a file handle.
pub fn file_release(handle: &str) -> Result<(), Error> {
    call0("file.release", &FileRef { handle: handle.to_string() })
}

fn raw(json: &str) -> Result<Raw, Error> {
    serde_json::value::RawValue::from_string(json.to_string()).map_err(|e| Error::new(Code::BadRequest, format!("not JSON: {}", e)))
}
