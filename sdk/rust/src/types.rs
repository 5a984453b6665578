//! The JSON payloads of ABI v1 (sections 5 and 6 of abi/README.md) as serde types.
//!
//! Optional fields are `Option`s (absent and `null` read as `None`, `None` is not written) or
//! default to empty; unknown fields are ignored, as the ABI asks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::Error;

/// A JSON value passed through unchanged (a bridge request or response, a context).
pub type Raw = Box<RawValue>;

/// Answers to a form, by field var.
pub type Values = BTreeMap<String, String>;

// ---- Common objects (5.2) ----

/// The conversation an event is about: for a direct chat, the contact's legacy id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    pub id: String,
    #[serde(default)]
    pub kind: String,
}

/// A form the user fills (registration).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub instructions: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

/// One field of a form (after XEP-0004).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub var: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// "text-single" (default), "text-private", "boolean", "list-single", "fixed".
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub desc: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The default value.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
}

/// A contact's presence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// `online`, `chat`, `away`, `xa`, `dnd` or `offline`.
    pub show: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Unix time in seconds the contact was last active; `None`: unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<i64>,
}

impl Presence {
    pub fn new(show: &str) -> Presence {
        Presence { show: show.to_string(), ..Presence::default() }
    }
}

/// What the host serves as the contact's vCard.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VCard {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A contact's picture: a file handle, or inline base64 `data` (see [`crate::base64`]). An
/// Avatar with neither removes the picture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Avatar {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The image, base64 with padding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// MIME type, e.g. `image/png`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// A stable id of the picture on the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A file handle the host holds for the plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    pub handle: String,
    pub size: i64,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The host's record of a contact (`contact.get`, `contact.list`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub legacy_id: String,
    pub jid: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub client_type: Option<String>,
    #[serde(default)]
    pub friend: bool,
    #[serde(default)]
    pub presence: Option<Presence>,
    #[serde(default)]
    pub vcard: Option<VCard>,
    #[serde(default)]
    pub avatar_id: Option<String>,
    #[serde(default)]
    pub ready: bool,
}

// ---- Events (5.3): payloads and replies ----

/// `init`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Init {
    /// The component JID.
    #[serde(default)]
    pub gateway: String,
    /// The host's ABI version, e.g. "1.0".
    #[serde(default)]
    pub abi: String,
    /// The gateway's `[gateway.config]` table.
    #[serde(default)]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    /// The bridges this gateway is granted.
    #[serde(default)]
    pub bridges: Option<Vec<String>>,
}

/// `init`'s reply.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InitReply {
    pub name: String,
    pub registration: Form,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

/// `session.login`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Login {
    #[serde(default)]
    pub registration: Values,
}

/// `session.input`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Input {
    pub prompt: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub expired: Option<bool>,
}

/// `registration.validate`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Validate {
    pub request: String,
    #[serde(default)]
    pub values: Values,
}

/// `search`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Search {
    pub request: String,
    #[serde(default)]
    pub query: String,
}

/// `contact.jid_username_to_legacy_id`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JidToLegacy {
    pub username: String,
}

/// `contact.jid_username_to_legacy_id`'s reply.
#[derive(Clone, Debug, Default, Serialize)]
pub struct JidToLegacyReply {
    pub legacy_id: String,
}

/// `contact.legacy_id_to_jid_username`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LegacyToJid {
    pub legacy_id: String,
}

/// `contact.legacy_id_to_jid_username`'s reply.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LegacyToJidReply {
    pub username: String,
}

/// The payload of `contact.update_info` and `contact.friend_request`, and the request of
/// `contact.add`, `contact.ready` and `contact.get` (without username).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ContactRef {
    pub legacy_id: String,
}

/// `message.text`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Text {
    pub id: String,
    #[serde(default)]
    pub origin_id: Option<String>,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub thread: Option<String>,
}

/// `message.file`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FileMessage {
    pub id: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub mime: Option<String>,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// `message.correct`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Correct {
    pub id: String,
    pub target: String,
    #[serde(default)]
    pub text: String,
}

/// `message.retract`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Retract {
    pub id: String,
    pub target: String,
}

/// `message.react`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct React {
    pub id: String,
    pub target: String,
    #[serde(default)]
    pub reactions: Vec<String>,
}

/// `message.displayed`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Displayed {
    pub target: String,
}

/// `chat.state`'s payload.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ChatState {
    pub state: String,
}

/// `bridge.response`'s payload: exactly one of `response` and `error`.
#[derive(Debug, Deserialize)]
pub struct BridgeResponse {
    pub token: String,
    #[serde(default)]
    pub context: Option<Raw>,
    #[serde(default)]
    pub response: Option<Raw>,
    #[serde(default)]
    pub error: Option<Error>,
}

/// `bridge.event`'s payload.
#[derive(Debug, Deserialize)]
pub struct BridgeEvent {
    pub bridge: String,
    pub event: Raw,
}

/// `timer.fired`'s payload.
#[derive(Debug, Deserialize)]
pub struct TimerFired {
    pub timer: String,
    #[serde(default)]
    pub context: Option<Raw>,
}

/// `file.fetched`'s payload: exactly one of `file` and `error`.
#[derive(Debug, Deserialize)]
pub struct FileFetched {
    pub token: String,
    #[serde(default)]
    pub context: Option<Raw>,
    #[serde(default)]
    pub file: Option<File>,
    #[serde(default)]
    pub error: Option<Error>,
}

// ---- Host calls (6): requests and responses ----

/// `contact.get`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContactGet {
    pub legacy_id: String,
    /// The puppet JID's local part, when the plugin maps legacy ids itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// `contact.list`'s response.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContactList {
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// `contact.update`'s request: only the fields that are `Some` change.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContactUpdate {
    pub legacy_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<Avatar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vcard: Option<VCard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<Presence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub friend: Option<bool>,
}

/// `contact.failed`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContactFailed {
    pub legacy_id: String,
    pub error: String,
}

/// The fields every contact action (`contact.text` ... `contact.state`) shares.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MsgMeta {
    /// The contact (the conversation).
    pub legacy_id: String,
    /// The user did it, from another client of the network.
    #[serde(skip_serializing_if = "is_false")]
    pub carbon: bool,
    /// Unix time in milliseconds, for anything not live; 0: now.
    #[serde(skip_serializing_if = "is_zero")]
    pub when: i64,
}

impl MsgMeta {
    pub fn new(legacy_id: &str) -> MsgMeta {
        MsgMeta { legacy_id: legacy_id.to_string(), ..MsgMeta::default() }
    }
}

/// `contact.text`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContactText {
    #[serde(flatten)]
    pub meta: MsgMeta,
    pub id: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_text: Option<String>,
}

/// `contact.file`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContactFile {
    #[serde(flatten)]
    pub meta: MsgMeta,
    pub id: String,
    pub file: File,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// `contact.correct`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContactCorrect {
    #[serde(flatten)]
    pub meta: MsgMeta,
    pub id: String,
    pub text: String,
}

/// The request of `contact.retract`, `contact.displayed` and `contact.received`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContactMsgRef {
    #[serde(flatten)]
    pub meta: MsgMeta,
    pub id: String,
}

/// `contact.react`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContactReact {
    #[serde(flatten)]
    pub meta: MsgMeta,
    pub id: String,
    pub reactions: Vec<String>,
}

/// `contact.state`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ContactState {
    #[serde(flatten)]
    pub meta: MsgMeta,
    pub state: String,
}

/// `message.sent`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MessageSent {
    /// The XMPP id, from the event.
    pub id: String,
    /// The network's id of the message.
    pub legacy_id: String,
}

/// `message.failed`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MessageFailed {
    pub id: String,
    pub error: String,
}

/// The request of `session.logged_in` and `session.status`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SessionStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show: Option<String>,
}

/// The request of `session.login_failed` and `session.logout`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SessionError {
    pub error: String,
}

/// `session.message`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GatewayMessage {
    pub text: String,
}

/// `session.prompt`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Prompt {
    pub prompt: String,
    pub text: String,
    #[serde(skip_serializing_if = "is_false")]
    pub secret: bool,
}

/// `registration.result`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RegistrationResult {
    pub request: String,
    /// Why the form is refused; `None`: accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `search.result`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SearchResult {
    pub request: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The request of `kv.get`, `kv.delete` and `kv.keys` (a prefix).
#[derive(Clone, Debug, Default, Serialize)]
pub struct KvKey {
    pub key: String,
}

/// `kv.set`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct KvSet {
    pub key: String,
    pub value: String,
}

/// `kv.get`'s response.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct KvValue {
    #[serde(default)]
    pub value: String,
}

/// `kv.keys`' response.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct KvKeys {
    #[serde(default)]
    pub keys: Vec<String>,
}

/// `timer.set`'s request.
#[derive(Debug, Default, Serialize)]
pub struct TimerSet {
    pub timer: String,
    pub after_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Raw>,
}

/// `timer.cancel`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TimerCancel {
    pub timer: String,
}

/// `bridge.call`'s request.
#[derive(Debug, Serialize)]
pub struct BridgeCall {
    pub bridge: String,
    pub request: Raw,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Raw>,
}

/// `file.fetch`'s request.
#[derive(Debug, Default, Serialize)]
pub struct FileFetch {
    pub url: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub max_size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Raw>,
}

/// The response of `bridge.call` and `file.fetch`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Token {
    pub token: String,
}

/// `file.release`'s request.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileRef {
    pub handle: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}
