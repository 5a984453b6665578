//! The raw imports of module `gateway_v1` (section 3 of abi/README.md). On wasm32 they are the
//! host's; elsewhere (the SDK's and a plugin's native unit tests) they are a fake host that
//! [`crate::testing`] drives.

#[cfg(target_arch = "wasm32")]
mod imp {
    #[link(wasm_import_module = "gateway_v1")]
    extern "C" {
        /// `call(method_ptr, method_len, req_ptr, req_len) -> n`: n >= 0 is the length of the
        /// pending response, n < 0 the negated error code.
        #[link_name = "call"]
        fn gw_call(method_ptr: *const u8, method_len: i32, req_ptr: *const u8, req_len: i32) -> i32;
        /// `result(ptr, cap) -> len`: copies up to cap bytes of the pending response.
        #[link_name = "result"]
        fn gw_result(ptr: *mut u8, cap: i32) -> i32;
        /// `reply(ptr, len)`: sets the event's reply.
        #[link_name = "reply"]
        fn gw_reply(ptr: *const u8, len: i32);
        /// `log(level, ptr, len)`: one line to the gateway's log.
        #[link_name = "log"]
        fn gw_log(level: i32, ptr: *const u8, len: i32);
    }

    pub fn call(method: &str, req: &[u8]) -> i32 {
        // Safety: the host copies both slices at once and keeps no pointer.
        unsafe { gw_call(method.as_ptr(), method.len() as i32, req.as_ptr(), req.len() as i32) }
    }

    pub fn result(buf: &mut [u8]) -> i32 {
        // Safety: the host writes at most buf.len() bytes into buf.
        unsafe { gw_result(buf.as_mut_ptr(), buf.len() as i32) }
    }

    pub fn reply(json: &[u8]) {
        unsafe { gw_reply(json.as_ptr(), json.len() as i32) }
    }

    pub fn log(level: i32, msg: &str) {
        unsafe { gw_log(level, msg.as_ptr(), msg.len() as i32) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use crate::testing::with_host;

    pub fn call(method: &str, req: &[u8]) -> i32 {
        with_host(|h| h.call(method, req))
    }

    pub fn result(buf: &mut [u8]) -> i32 {
        with_host(|h| {
            let n = buf.len().min(h.pending.len());
            buf[..n].copy_from_slice(&h.pending[..n]);
            h.pending.len() as i32
        })
    }

    pub fn reply(json: &[u8]) {
        with_host(|h| h.reply = Some(json.to_vec()))
    }

    pub fn log(level: i32, msg: &str) {
        with_host(|h| h.logs.push((level, msg.to_string())))
    }
}

pub use imp::*;
