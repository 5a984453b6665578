//! A fake host for native unit tests of a plugin (and of this SDK): on targets other than wasm32
//! the imports of `gateway_v1` go to it. It records every host call and answers from a handler
//! the test sets; [`event`] delivers an envelope through the same path as `gw_event`.
//!
//! ```ignore
//! gateway_plugin::testing::reset(|method, req| match method {
//!     "kv.get" => Err((gateway_plugin::Code::NotFound, "no such key".into())),
//!     _ => Ok("{}".into()),
//! });
//! let status = gateway_plugin::testing::event(&mut MyPlugin::default(), r#"{"type":"init","payload":{}}"#);
//! ```

use std::cell::RefCell;

use crate::error::Code;
use crate::Plugin;

/// Answers a host call: the response JSON, or an error code and message.
pub type Handler = Box<dyn FnMut(&str, &str) -> Result<String, (Code, String)>>;

/// The fake host's state.
pub struct FakeHost {
    handler: Option<Handler>,
    /// The pending response of the last call.
    pub pending: Vec<u8>,
    /// The calls made, as (method, request JSON).
    pub calls: Vec<(String, String)>,
    /// The last reply given.
    pub reply: Option<Vec<u8>>,
    /// The lines logged, with their levels.
    pub logs: Vec<(i32, String)>,
}

impl FakeHost {
    pub(crate) fn call(&mut self, method: &str, req: &[u8]) -> i32 {
        let req = String::from_utf8_lossy(req).into_owned();
        self.calls.push((method.to_string(), req.clone()));
        let answer = match self.handler.as_mut() {
            Some(h) => h(method, &req),
            None => Ok("{}".to_string()),
        };
        match answer {
            Ok(resp) => {
                self.pending = resp.into_bytes();
                self.pending.len() as i32
            }
            Err((code, message)) => {
                let e = crate::error::ErrorReply { error: Some(crate::Error::new(code, message)) };
                self.pending = serde_json::to_vec(&e).unwrap_or_default();
                -(code as i32)
            }
        }
    }
}

thread_local! {
    static HOST: RefCell<FakeHost> = RefCell::new(FakeHost {
        handler: None,
        pending: Vec::new(),
        calls: Vec::new(),
        reply: None,
        logs: Vec::new(),
    });
}

pub(crate) fn with_host<T>(f: impl FnOnce(&mut FakeHost) -> T) -> T {
    HOST.with(|h| f(&mut h.borrow_mut()))
}

/// Clears the fake host and sets how it answers calls.
pub fn reset(handler: impl FnMut(&str, &str) -> Result<String, (Code, String)> + 'static) {
    with_host(|h| {
        h.handler = Some(Box::new(handler));
        h.pending.clear();
        h.calls.clear();
        h.reply = None;
        h.logs.clear();
    })
}

/// Takes the calls recorded so far, as (method, request JSON).
pub fn take_calls() -> Vec<(String, String)> {
    with_host(|h| std::mem::take(&mut h.calls))
}

/// Takes the last reply, as a string.
pub fn take_reply() -> Option<String> {
    with_host(|h| h.reply.take().map(|r| String::from_utf8_lossy(&r).into_owned()))
}

/// Takes the lines logged.
pub fn take_logs() -> Vec<(i32, String)> {
    with_host(|h| std::mem::take(&mut h.logs))
}

/// Delivers one event envelope to a plugin, as `gw_event` does, and returns the status.
pub fn event(p: &mut dyn Plugin, envelope: &str) -> i32 {
    with_host(|h| h.pending.clear());
    crate::rt::dispatch(p, envelope.as_bytes())
}
