//! `gateway-plugin`: the Rust binding of the gateway's plugin ABI v1.0 (abi/README.md).
//!
//! A plugin is a `cdylib` crate built for `wasm32-wasi`. It implements [`Plugin`] and names it
//! once with [`plugin!`], which generates the exports the host needs (`gw_abi_v1_0`,
//! `gw_alloc`, `gw_free`, `gw_event`); host calls are the functions of [`host`], and the JSON
//! payloads are the serde types of [`types`].
//!
//! ```ignore
//! use gateway_plugin::{host, plugin, Error, Event, InitReply, Plugin, Status};
//!
//! #[derive(Default)]
//! struct Echo;
//!
//! impl Plugin for Echo {
//!     fn init(&mut self, _init: gateway_plugin::types::Init) -> Result<InitReply, Error> {
//!         Ok(InitReply { name: "Echo".into(), ..Default::default() })
//!     }
//!     fn event(&mut self, _session: &str, ev: Event) -> Result<Status, Error> {
//!         match ev {
//!             Event::Login(_) => host::logged_in("echoing")?,
//!             Event::Text(chat, m) => {
//!                 host::message_sent(&m.id, &format!("in-{}", m.id))?;
//!                 host::contact_text(&chat.id, &format!("out-{}", m.id), &m.text)?;
//!             }
//!             _ => return Ok(Status::Unhandled),
//!         }
//!         Ok(Status::Ok)
//!     }
//! }
//!
//! plugin!(Echo::default());
//! ```
//!
//! Build it with Debian's toolchain, offline (RECIPES.md section 3):
//! `RUSTC=/usr/bin/rustc /usr/bin/cargo build --release --target wasm32-wasi`.
//!
//! One instance serves many sessions, one event at a time: keep per-user state keyed by the
//! session the handler gets. The host is the source of truth (contacts, `kv`), and the plugin's
//! memory is a cache that may be lost with its instance (`session.restored` follows).

pub mod error;
pub mod host;
#[doc(hidden)]
pub mod rt;
mod sys;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod types;

pub use error::{Code, Error};
pub use types::InitReply;
/// The serde crates the SDK is built with, for plugins that need them directly.
pub use serde;
pub use serde_json;

use types::*;

/// What `gw_event` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Handled; its reply, if the event has one, was given with [`host::reply`].
    Ok = 0,
    /// Not implemented: the host applies its default (section 8).
    Unhandled = 1,
    /// Failed. Returning `Err` from a handler does this with an error reply; use this status
    /// directly only after [`host::reply_error`].
    Error = 2,
}

/// An event other than `init`, with its payload decoded. The message events carry the chat
/// (the contact's legacy id in `chat.id`); the SDK fails them with `bad_request` when the
/// envelope has none.
#[derive(Debug)]
pub enum Event {
    /// `session.login`: log in, then [`host::logged_in`] or [`host::login_failed`].
    Login(Login),
    /// `session.logout`: forget the session's cached state.
    Logout,
    /// `session.unregister`: log out and forget the account.
    Unregister,
    /// `session.restored`: the session moved to this fresh instance; rebuild caches from the
    /// host.
    Restored,
    /// `session.input`: the answer to [`host::prompt`].
    Input(Input),
    /// `registration.validate`: answer with [`host::registration_result`].
    Validate(Validate),
    /// `search`: answer with [`host::search_result`].
    Search(Search),
    /// `roster.fill`: [`host::contact_get`] / [`host::contact_update`] / [`host::contact_add`]
    /// each contact.
    Fill,
    /// `contact.jid_username_to_legacy_id`: reply with [`types::JidToLegacyReply`].
    JidUsernameToLegacyId(JidToLegacy),
    /// `contact.legacy_id_to_jid_username`: reply with [`types::LegacyToJidReply`].
    LegacyIdToJidUsername(LegacyToJid),
    /// `contact.update_info`: set the contact's info, then [`host::contact_ready`].
    UpdateInfo(ContactRef),
    /// `contact.friend_request`: accept with `friend: Some(true)` in [`host::contact_update`].
    FriendRequest(ContactRef),
    /// `message.text`: send it, then [`host::message_sent`] or [`host::message_failed`].
    Text(Chat, Text),
    /// `message.file`: as `Text`.
    File(Chat, FileMessage),
    /// `message.correct`.
    Correct(Chat, Correct),
    /// `message.retract`.
    Retract(Chat, Retract),
    /// `message.react`.
    React(Chat, React),
    /// `message.displayed`.
    Displayed(Chat, Displayed),
    /// `chat.state`.
    ChatState(Chat, ChatState),
    /// `bridge.response`: the answer to [`host::bridge_call`].
    BridgeResponse(BridgeResponse),
    /// `bridge.event`.
    BridgeEvent(BridgeEvent),
    /// `timer.fired`.
    TimerFired(TimerFired),
    /// `file.fetched`: the answer to [`host::file_fetch`].
    FileFetched(FileFetched),
    /// An event type this SDK does not know (a newer minor version): return
    /// `Ok(Status::Unhandled)` unless you know it.
    Other { kind: String, chat: Option<Chat>, payload: Option<Raw> },
}

/// A network plugin: one value per instance, made by [`plugin!`] at the first event.
pub trait Plugin {
    /// `init`: the first event of the instance. It has no session (host calls fail with
    /// `no_session`; [`host::log`] works). Return the network's name and registration form.
    fn init(&mut self, init: Init) -> Result<InitReply, Error>;

    /// Every other event, for the session `session` (the user's bare JID; empty for the rare
    /// events without one). `Ok(Status::Unhandled)` lets the host apply its default; `Err(e)`
    /// fails the event with `e` (the user sees its message when they caused the event).
    fn event(&mut self, session: &str, ev: Event) -> Result<Status, Error>;
}

/// Generates the exports of the plugin made by `$make` (an expression of a type implementing
/// [`Plugin`], evaluated once per instance at the first event):
///
/// - `gw_abi_v1_0`, the version marker;
/// - `gw_alloc` and `gw_free` on Rust's allocator;
/// - `gw_event`, which decodes the envelope, calls [`Plugin::init`] or [`Plugin::event`],
///   replies, and returns the status.
///
/// Use it once, at the crate's root.
#[macro_export]
macro_rules! plugin {
    ($make:expr) => {
        /// The ABI version marker (never called).
        #[no_mangle]
        pub extern "C" fn gw_abi_v1_0() {}

        /// Allocates a block for the host to write an event into.
        #[no_mangle]
        pub extern "C" fn gw_alloc(size: i32) -> *mut u8 {
            $crate::rt::gw_alloc(size)
        }

        /// Releases a block from gw_alloc.
        ///
        /// # Safety
        /// Called by the host only, with a block from gw_alloc.
        #[no_mangle]
        pub unsafe extern "C" fn gw_free(ptr: *mut u8, size: i32) {
            $crate::rt::gw_free(ptr, size)
        }

        /// Handles one event envelope.
        ///
        /// # Safety
        /// Called by the host only, with an envelope it wrote into a block from gw_alloc.
        #[no_mangle]
        pub unsafe extern "C" fn gw_event(ptr: *const u8, len: i32) -> i32 {
            $crate::rt::gw_event(ptr, len, || ::std::boxed::Box::new($make))
        }
    };
}

/// Encodes bytes as base64 with padding (RFC 4648 section 4), as `Avatar.data` wants.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity((data.len() + 2) / 3 * 4);
    for c in data.chunks(3) {
        let v = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        out.push(A[(v >> 18) as usize & 63] as char);
        out.push(A[(v >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 { A[(v >> 6) as usize & 63] as char } else { '=' });
        out.push(if c.len() > 2 { A[v as usize & 63] as char } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests;
