//! Errors (section 7 of abi/README.md).

use std::fmt;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

/// An error code. In JSON it is its name (`"not_found"`); `call` returns it negated. A code this
/// SDK does not know reads as [`Code::Internal`], as the ABI asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// 1: the request was not valid JSON or lacked a required field.
    BadRequest = 1,
    /// 2: the contact, key, message, timer or handle does not exist.
    NotFound = 2,
    /// 3: the host does not know this method.
    UnknownMethod = 3,
    /// 4: the gateway's config does not grant this (a bridge, a URL).
    Forbidden = 4,
    /// 5: a storage quota or size cap would be exceeded.
    Quota = 5,
    /// 6: the resource is down for now; retry later.
    Unavailable = 6,
    /// 7: the call needs a session and the event had none.
    NoSession = 7,
    /// 8: the host (or the plugin) failed.
    Internal = 8,
    /// 9: the input is invalid (a JID, a form value).
    Invalid = 9,
    /// 10: the legacy network refused or failed.
    Network = 10,
}

impl Code {
    /// The code of a number; `Internal` for a number it does not know.
    pub fn from_i32(n: i32) -> Code {
        match n {
            1 => Code::BadRequest,
            2 => Code::NotFound,
            3 => Code::UnknownMethod,
            4 => Code::Forbidden,
            5 => Code::Quota,
            6 => Code::Unavailable,
            7 => Code::NoSession,
            9 => Code::Invalid,
            10 => Code::Network,
            _ => Code::Internal,
        }
    }

    /// The code's name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Code::BadRequest => "bad_request",
            Code::NotFound => "not_found",
            Code::UnknownMethod => "unknown_method",
            Code::Forbidden => "forbidden",
            Code::Quota => "quota",
            Code::Unavailable => "unavailable",
            Code::NoSession => "no_session",
            Code::Internal => "internal",
            Code::Invalid => "invalid",
            Code::Network => "network",
        }
    }

    /// The code of a name; `Internal` for a name it does not know.
    pub fn from_name(name: &str) -> Code {
        (1..=10).map(Code::from_i32).find(|c| c.name() == name).unwrap_or(Code::Internal)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(Code::from_name(&name))
    }
}

/// An error: a stable code and a human-readable message. It is what a failed host call returns,
/// what a handler returns to fail its event (status 2, with this as the error reply), and the
/// `error` of `bridge.response` and `file.fetched`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Error {
    pub code: Code,
    pub message: String,
}

impl Error {
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    /// Whether the error has this code.
    pub fn is(&self, code: Code) -> bool {
        self.code == code
    }
}

/// "code: message", as the Go SDK's abi.Error prints.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::new(Code::BadRequest, e.to_string())
    }
}

/// The error reply, `{"error": {...}}`.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct ErrorReply {
    pub error: Option<Error>,
}
