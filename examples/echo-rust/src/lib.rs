//! The echo network in Rust: the same network as plugins/echo (Go), on sdk/rust. Every contact
//! echoes what the user says.
//!
//! - registration asks for a name (1 to 64 characters); login accepts any name.
//! - the roster has five friends: eve (online, phone), dora (away, "out for lunch"), liam (xa,
//!   last seen 7 days ago), bot (online, a bot) and plain (online); each has an avatar and a
//!   vCard. Any other legacy id is a valid contact too, named after its id.
//! - a text to any contact but plain is reported sent (legacy id u-N), then the contact types,
//!   marks it displayed and answers "echo: <text>" (legacy id e-N); the reply's id is kept in the
//!   plugin's storage (kv "reply/u-N"), so that a correction of the user's message corrects the
//!   reply, a retraction retracts it (even after an instance restart), and reactions are echoed
//!   on the user's message. A file is echoed as "echo: <url>".
//! - the text "file <url>" makes the contact download the URL (file.fetch) and send it back as
//!   a file (contact.file) with the caption "echo: file"; a failed download is answered
//!   "echo: could not fetch <url>: <reason>".
//! - plain only answers "echo: <text>": no typing, no markers, no corrections.
//! - the text "fail" is refused with "the echo network refuses this message".
//! - search finds a roster contact by id or name.
//! - [gateway.config] contacts = N adds N generated contacts (c0, c1, ..., online) to every
//!   roster, for benchmarks of large rosters.
//!
//! Build: `RUSTC=/usr/bin/rustc /usr/bin/cargo build --release --target wasm32-wasi` here
//! (scripts/build-examples.sh does it).

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use gateway_plugin::host;
use gateway_plugin::types::*;
use gateway_plugin::{base64, plugin, Code, Error, Event, InitReply, Plugin, Status};

mod sha256;

/// A contact of the fixed roster.
struct Person {
    id: &'static str,
    name: &'static str,
    given: &'static str,
    family: &'static str,
    note: &'static str,
    show: &'static str,
    status: &'static str,
    last_seen_ago: i64, // seconds, 0: unknown
    client: &'static str,
    avatar: &'static [u8],
}

const ROSTER: [Person; 5] = [
    Person {
        id: "eve",
        name: "Eve Echo",
        given: "Eve",
        family: "Echo",
        note: "Echoes everything you say, from her phone.",
        show: "online",
        status: "",
        last_seen_ago: 0,
        client: "phone",
        avatar: include_bytes!("../../../plugins/echo/avatars/eve.png"),
    },
    Person {
        id: "dora",
        name: "Dora Away",
        given: "Dora",
        family: "Away",
        note: "Echoes you, even while away.",
        show: "away",
        status: "out for lunch",
        last_seen_ago: 0,
        client: "",
        avatar: include_bytes!("../../../plugins/echo/avatars/dora.png"),
    },
    Person {
        id: "liam",
        name: "Liam Lastweek",
        given: "Liam",
        family: "Lastweek",
        note: "Has not been around for a week, but still echoes.",
        show: "xa",
        status: "",
        last_seen_ago: 7 * 24 * 3600,
        client: "",
        avatar: include_bytes!("../../../plugins/echo/avatars/liam.png"),
    },
    Person {
        id: "bot",
        name: "Helper Bot",
        given: "Helper",
        family: "Bot",
        note: "A bot that echoes.",
        show: "online",
        status: "",
        last_seen_ago: 0,
        client: "bot",
        avatar: include_bytes!("../../../plugins/echo/avatars/bot.png"),
    },
    Person {
        id: "plain",
        name: "Plain Echo",
        given: "Plain",
        family: "Echo",
        note: "Answers with a plain echo: no typing, no markers.",
        show: "online",
        status: "",
        last_seen_ago: 0,
        client: "",
        avatar: include_bytes!("../../../plugins/echo/avatars/plain.png"),
    },
];

fn lookup(id: &str) -> Option<&'static Person> {
    ROSTER.iter().find(|p| p.id == id)
}

// Errors the user sees.
const ERR_REFUSED: &str = "the echo network refuses this message";
const ERR_NO_SUCH_USER: &str = "no such echo user";
const ERR_EMPTY_NAME: &str = "Your name on the echo network cannot be empty.";
const ERR_LONG_NAME: &str = "Your name on the echo network is too long: at most 64 characters.";
const MAX_NAME_RUNES: usize = 64;
const SEQ_BLOCK: i64 = 100; // message ids reserved in storage at a time
const KEY_SEQ: &str = "seq";
const KEY_REPLY_PREFIX: &str = "reply/";

/// One user's session. Message ids: `next` is the last one used, `limit` the end of the block
/// reserved in storage (so an instance restart never reuses an id).
#[derive(Default)]
struct Session {
    next: i64,
    limit: i64,
    loaded: bool,
    /// The contacts this session already knows of (from an event about them or a contact.get),
    /// as the Go SDK caches them: a contact.get is made only for the others.
    known: HashSet<String>,
}

impl Session {
    /// Reserves a block of message ids in storage.
    fn load_seq(&mut self) -> Result<(), Error> {
        let v = host::kv_get(KEY_SEQ)?.unwrap_or_default();
        let n = v.parse::<i64>().unwrap_or(0);
        self.next = n;
        self.limit = n;
        self.loaded = true;
        self.reserve()
    }

    fn reserve(&mut self) -> Result<(), Error> {
        self.limit += SEQ_BLOCK;
        host::kv_set(KEY_SEQ, &self.limit.to_string())
    }

    /// A fresh message number, unique for the user across restarts.
    fn next_id(&mut self) -> Result<i64, Error> {
        if !self.loaded {
            self.load_seq()?;
        }
        if self.next >= self.limit {
            self.reserve()?;
        }
        self.next += 1;
        Ok(self.next)
    }
}

#[derive(Default)]
struct Echo {
    /// The number of generated contacts added to every roster ([gateway.config] "contacts").
    extra_contacts: i64,
    sessions: HashMap<String, Session>,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn online() -> Presence {
    Presence::new("online")
}

/// The contact.update with everything the network knows of a roster contact.
fn describe(p: &Person) -> ContactUpdate {
    let hash = sha256::digest(p.avatar);
    let id: String = hash[..8].iter().map(|b| format!("{:02x}", b)).collect();
    let opt = |s: &str| if s.is_empty() { None } else { Some(s.to_string()) };
    ContactUpdate {
        legacy_id: p.id.to_string(),
        name: Some(p.name.to_string()),
        avatar: Some(Avatar { handle: None, data: Some(base64(p.avatar)), mime: Some("image/png".into()), id: Some(id) }),
        vcard: Some(VCard {
            full_name: opt(p.name),
            given: opt(p.given),
            family: opt(p.family),
            note: opt(p.note),
            ..VCard::default()
        }),
        presence: Some(Presence {
            show: p.show.to_string(),
            status: opt(p.status),
            last_seen: if p.last_seen_ago > 0 { Some(now() - p.last_seen_ago) } else { None },
        }),
        client_type: opt(p.client),
        friend: Some(true),
    }
}

/// Go's strings.TrimSpace (Rust's trim uses the same White_Space property).
fn trim(s: &str) -> &str {
    s.trim()
}

/// Go's strings.EqualFold for what can equal the roster's ASCII ids and names: simple case
/// folding (char::to_lowercase of one char, plus the Kelvin sign and long s).
fn equal_fold(a: &str, b: &str) -> bool {
    fn fold(c: char) -> char {
        match c {
            '\u{212A}' => 'k',
            '\u{17F}' => 's',
            c => c.to_ascii_lowercase(),
        }
    }
    a.chars().count() == b.chars().count() && a.chars().zip(b.chars()).all(|(x, y)| fold(x) == fold(y))
}

/// The context of a "file <url>" download: who sends it back, with which id.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct FetchContext {
    #[serde(default)]
    contact: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

impl Session {
    /// Looks the contact up unless the session knows it already; logs a failure.
    fn contact_get(&mut self, id: &str) {
        if self.known.contains(id) {
            return;
        }
        match host::contact_get(id) {
            Ok(_) => {
                self.known.insert(id.to_string());
            }
            Err(e) => host::log(host::LOG_WARN, &format!("gateway: contact.get {:?}: {}", id, e)),
        }
    }
}

impl Echo {
    fn session(&mut self, jid: &str) -> &mut Session {
        self.sessions.entry(jid.to_string()).or_default()
    }

    /// "file <url>": reports the user's message sent and starts downloading url (file.fetch);
    /// the answer comes as file.fetched.
    fn file_back(&mut self, session: &str, chat: &str, xmpp_id: &str, url: &str) -> Result<Status, Error> {
        let n = match self.session(session).next_id() {
            Ok(n) => n,
            Err(e) => {
                host::message_failed(xmpp_id, &e.to_string())?;
                return Ok(Status::Ok);
            }
        };
        let eid = format!("e-{}", n);
        host::message_sent(xmpp_id, &format!("u-{}", n))?;
        let ctx = FetchContext { contact: Some(chat.to_string()), id: Some(eid.clone()), url: Some(url.to_string()) };
        let ctx = serde_json::to_string(&ctx).map_err(|e| Error::new(Code::Internal, e.to_string()))?;
        if let Err(e) = host::file_fetch(url, 0, Some(&ctx)) {
            host::contact_text(chat, &eid, &format!("echo: could not fetch {}: {}", url, e))?;
        }
        Ok(Status::Ok)
    }

    /// file.fetched: sends the downloaded file back from the contact and releases the handle, or
    /// tells why the download failed.
    fn file_fetched(&mut self, session: &str, r: FileFetched) -> Result<Status, Error> {
        let mut raw = r.context.as_ref().map(|c| c.get().to_string());
        // A context made by the Go SDK wraps the plugin's own in "c".
        if let Some(c) = &raw {
            if let Ok(v) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(c) {
                if v.contains_key("gw") {
                    raw = v.get("c").map(|c| c.to_string());
                }
            }
        }
        let ctx = raw.as_deref().and_then(|c| serde_json::from_str::<Option<FetchContext>>(c).ok()).map(Option::unwrap_or_default);
        let ctx = match ctx {
            Some(c) if c.contact.as_deref().unwrap_or("") != "" => c,
            _ => {
                return Err(Error::new(Code::Network, format!("file.fetched with an unknown context {}", raw.unwrap_or_default())));
            }
        };
        let contact = ctx.contact.unwrap_or_default();
        let id = ctx.id.unwrap_or_default();
        self.session(session).contact_get(&contact);
        if let Some(e) = r.error {
            host::contact_text(&contact, &id, &format!("echo: could not fetch {}: {}", ctx.url.unwrap_or_default(), e))?;
            return Ok(Status::Ok);
        }
        let file = r.file.ok_or_else(|| Error::new(Code::Internal, "file.fetched: neither a file nor an error"))?;
        let handle = file.handle.clone();
        let file = File {
            mime: file.mime.filter(|m| !m.is_empty()),
            name: file.name.filter(|n| !n.is_empty()),
            ..file
        };
        host::call0(
            "contact.file",
            &ContactFile { meta: MsgMeta::new(&contact), id, file, caption: Some("echo: file".into()), reply_to: None },
        )?;
        host::file_release(&handle)?;
        Ok(Status::Ok)
    }

    /// Reports the user's message sent and answers it; errors before message.sent become
    /// message.failed, after it they fail the event (as the Go SDK does).
    fn echo(&mut self, session: &str, chat: &str, xmpp_id: &str, text: &str) -> Result<Status, Error> {
        if text == "fail" {
            host::message_failed(xmpp_id, ERR_REFUSED)?;
            return Ok(Status::Ok);
        }
        let n = match self.session(session).next_id() {
            Ok(n) => n,
            Err(e) => {
                host::message_failed(xmpp_id, &e.to_string())?;
                return Ok(Status::Ok);
            }
        };
        let (uid, eid) = (format!("u-{}", n), format!("e-{}", n));
        host::message_sent(xmpp_id, &uid)?;
        let reply = format!("echo: {}", text);
        if chat == "plain" {
            host::contact_text(chat, &eid, &reply)?;
            return Ok(Status::Ok);
        }
        host::contact_state(chat, "composing")?;
        host::contact_displayed(chat, &uid)?;
        host::contact_text(chat, &eid, &reply)?;
        host::kv_set(&format!("{}{}", KEY_REPLY_PREFIX, uid), &eid)?;
        Ok(Status::Ok)
    }
}

impl Plugin for Echo {
    fn init(&mut self, init: Init) -> Result<InitReply, Error> {
        let n = match init.config.as_ref().and_then(|c| c.get("contacts")) {
            None | Some(serde_json::Value::Null) => 0,
            Some(v) => v.as_i64().ok_or_else(|| Error::new(Code::Internal, "[gateway.config]: contacts: expected an integer"))?,
        };
        if !(0..=100000).contains(&n) {
            return Err(Error::new(Code::Internal, format!("[gateway.config] contacts = {}: expected 0 to 100000", n)));
        }
        self.extra_contacts = n;
        Ok(InitReply {
            name: "Echo".into(),
            registration: Form {
                instructions: "Pick any name: everyone on the echo network echoes what you say.".into(),
                fields: vec![Field { var: "name".into(), label: "Your name on the echo network".into(), required: true, ..Field::default() }],
            },
            reactions: vec![],
            features: ["search", "files", "corrections", "retractions", "reactions"].iter().map(|s| s.to_string()).collect(),
        })
    }

    fn event(&mut self, session: &str, ev: Event) -> Result<Status, Error> {
        if session.is_empty() {
            return Ok(Status::Unhandled); // only init comes without a session in ABI v1
        }
        // The session's state is made at its first event (but for registration and search,
        // which may come before the user registers); it knows the contacts events are about.
        match &ev {
            Event::Validate(_) | Event::Search(_) | Event::Logout | Event::Unregister => {}
            Event::Text(c, _) | Event::File(c, _) | Event::Correct(c, _) | Event::Retract(c, _) => {
                self.session(session).known.insert(c.id.clone());
            }
            Event::React(c, _) | Event::Displayed(c, _) | Event::ChatState(c, _) => {
                self.session(session).known.insert(c.id.clone());
            }
            Event::UpdateInfo(c) | Event::FriendRequest(c) => {
                self.session(session).known.insert(c.legacy_id.clone());
            }
            _ => {
                self.session(session);
            }
        }
        match ev {
            Event::Validate(v) => {
                let name = trim(v.values.get("name").map(String::as_str).unwrap_or(""));
                let err = if name.is_empty() {
                    Some(ERR_EMPTY_NAME)
                } else if name.chars().count() > MAX_NAME_RUNES {
                    Some(ERR_LONG_NAME)
                } else {
                    None
                };
                host::registration_result(&v.request, err)?;
            }
            Event::Login(l) => {
                let name = l.registration.get("name").cloned().unwrap_or_default();
                match self.session(session).load_seq() {
                    Ok(()) => host::logged_in(&format!("Echo network: logged in as {}", name))?,
                    Err(e) => host::login_failed(&e.to_string())?,
                }
            }
            Event::Restored => self.session(session).load_seq()?,
            Event::Logout | Event::Unregister => {
                self.sessions.remove(session);
            }
            Event::Fill => {
                for p in ROSTER.iter() {
                    self.session(session).contact_get(p.id);
                    host::contact_update(&describe(p))?;
                    host::contact_add(p.id)?;
                }
                for i in 0..self.extra_contacts {
                    let id = format!("c{}", i);
                    self.session(session).contact_get(&id);
                    host::contact_update(&ContactUpdate {
                        legacy_id: id.clone(),
                        name: Some(format!("Contact {}", i)),
                        presence: Some(online()),
                        ..ContactUpdate::default()
                    })?;
                    host::contact_add(&id)?;
                }
            }
            Event::UpdateInfo(c) => {
                let u = match lookup(&c.legacy_id) {
                    Some(p) => describe(p),
                    // Anyone else is an echo contact too, known by their id only.
                    None => ContactUpdate {
                        legacy_id: c.legacy_id.clone(),
                        name: Some(c.legacy_id.clone()),
                        vcard: Some(VCard {
                            full_name: Some(c.legacy_id.clone()),
                            note: Some("An echo network user.".into()),
                            ..VCard::default()
                        }),
                        presence: Some(online()),
                        ..ContactUpdate::default()
                    },
                };
                host::contact_update(&u)?;
                host::contact_ready(&c.legacy_id)?;
            }
            Event::FriendRequest(c) => {
                let u = ContactUpdate { legacy_id: c.legacy_id, friend: Some(true), ..ContactUpdate::default() };
                if let Err(e) = host::contact_update(&u) {
                    host::log(host::LOG_WARN, &format!("gateway: contact.update {:?}: {}", u.legacy_id, e));
                }
            }
            Event::Search(s) => {
                let q = trim(&s.query);
                match ROSTER.iter().find(|p| equal_fold(q, p.id) || equal_fold(q, p.name)) {
                    Some(p) => host::search_result(&s.request, Some(p.id), None)?,
                    None => host::search_result(&s.request, None, Some(ERR_NO_SUCH_USER))?,
                }
            }
            Event::Text(chat, m) => {
                if let Some(url) = m.text.strip_prefix("file ") {
                    return self.file_back(session, &chat.id, &m.id, trim(url));
                }
                return self.echo(session, &chat.id, &m.id, &m.text);
            }
            Event::FileFetched(r) => return self.file_fetched(session, r),
            Event::File(chat, m) => return self.echo(session, &chat.id, &m.id, &m.url),
            Event::Correct(chat, m) => {
                if chat.id != "plain" {
                    if let Some(eid) = host::kv_get(&format!("{}{}", KEY_REPLY_PREFIX, m.target))? {
                        host::contact_correct(&chat.id, &eid, &format!("echo: {}", m.text))?;
                    }
                }
            }
            Event::Retract(chat, m) => {
                let key = format!("{}{}", KEY_REPLY_PREFIX, m.target);
                if chat.id != "plain" {
                    if let Some(eid) = host::kv_get(&key)? {
                        host::contact_retract(&chat.id, &eid)?;
                        host::kv_delete(&key)?;
                    }
                }
            }
            Event::React(chat, m) => {
                if chat.id != "plain" {
                    host::contact_react(&chat.id, &m.target, &m.reactions)?;
                }
            }
            Event::Displayed(..) | Event::ChatState(..) | Event::Input(_) => {}
            // The JID mappings (XEP-0106 by default), bridges, timers, newer events.
            _ => return Ok(Status::Unhandled),
        }
        Ok(Status::Ok)
    }
}

plugin!(Echo::default());

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_plugin::testing::{event, reset, take_calls};

    #[test]
    fn avatar_ids_as_go() {
        // plugins/echo: hex of the first 8 bytes of the SHA-256 of the PNG.
        let u = describe(&ROSTER[0]);
        assert_eq!(u.avatar.unwrap().id.unwrap().len(), 16);
        assert_eq!(
            sha256::digest(b"abc").iter().map(|b| format!("{:02x}", b)).collect::<String>(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let long = vec![b'a'; 1000];
        assert_eq!(
            sha256::digest(&long).iter().map(|b| format!("{:02x}", b)).collect::<String>(),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        );
    }

    #[test]
    fn text_and_fail() {
        let store = std::rc::Rc::new(std::cell::RefCell::new(HashMap::<String, String>::new()));
        let kv = store.clone();
        reset(move |method, req| {
            let v: serde_json::Value = serde_json::from_str(req).unwrap();
            let key = v["key"].as_str().unwrap_or("").to_string();
            match method {
                "kv.get" => match kv.borrow().get(&key) {
                    Some(val) => Ok(serde_json::json!({ "value": val }).to_string()),
                    None => Err((Code::NotFound, "no key".into())),
                },
                "kv.set" => {
                    kv.borrow_mut().insert(key, v["value"].as_str().unwrap().to_string());
                    Ok("{}".into())
                }
                _ => Ok("{}".into()),
            }
        });
        let mut p = Echo::default();
        let env = |t: &str| {
            format!(r#"{{"type":"message.text","session":"a@b","chat":{{"id":"eve","kind":"direct"}},"payload":{{"id":"m","text":"{}"}}}}"#, t)
        };
        assert_eq!(event(&mut p, &env("hi")), 0);
        let calls: Vec<String> = take_calls().into_iter().map(|(m, r)| format!("{} {}", m, r)).collect();
        assert_eq!(
            calls,
            vec![
                r#"kv.get {"key":"seq"}"#,
                r#"kv.set {"key":"seq","value":"100"}"#,
                r#"message.sent {"id":"m","legacy_id":"u-1"}"#,
                r#"contact.state {"legacy_id":"eve","state":"composing"}"#,
                r#"contact.displayed {"legacy_id":"eve","id":"u-1"}"#,
                r#"contact.text {"legacy_id":"eve","id":"e-1","text":"echo: hi"}"#,
                r#"kv.set {"key":"reply/u-1","value":"e-1"}"#,
            ]
        );
        assert_eq!(event(&mut p, &env("fail")), 0);
        assert_eq!(take_calls(), vec![("message.failed".to_string(), format!(r#"{{"id":"m","error":"{}"}}"#, ERR_REFUSED))]);
        assert_eq!(store.borrow().get("reply/u-1").map(String::as_str), Some("e-1"));
    }

    #[test]
    fn search_folds_case() {
        assert!(equal_fold("helper BOT", "Helper Bot"));
        assert!(equal_fold("\u{212A}", "k"));
        assert!(!equal_fold("eve", "eva"));
    }
}
