//! The SDK's own tests, natively against the fake host of [`crate::testing`]:
//! `RUSTC=/usr/bin/rustc /usr/bin/cargo test` in sdk/rust.

use crate::testing::{event, reset, take_calls, take_logs, take_reply};
use crate::types::*;
use crate::{base64, host, Code, Error, Event, Plugin, Status};

/// A plugin that records what it got and does what the test asks.
#[derive(Default)]
struct Probe {
    seen: Vec<String>,
}

impl Plugin for Probe {
    fn init(&mut self, init: Init) -> Result<InitReply, Error> {
        if init.config.as_ref().and_then(|c| c.get("fail")).is_some() {
            return Err(Error::new(Code::Internal, "bad config"));
        }
        host::log(host::LOG_INFO, &format!("abi {}", init.abi));
        Ok(InitReply {
            name: "Probe".into(),
            registration: Form {
                instructions: String::new(),
                fields: vec![Field { var: "name".into(), required: true, ..Default::default() }],
            },
            features: vec!["search".into()],
            ..Default::default()
        })
    }

    fn event(&mut self, session: &str, ev: Event) -> Result<Status, Error> {
        self.seen.push(format!("{}:{:?}", session, ev).chars().take(60).collect());
        match ev {
            Event::Text(chat, m) => {
                host::message_sent(&m.id, "L1")?;
                host::contact_text(&chat.id, "L2", &format!("echo: {}", m.text))?;
                Ok(Status::Ok)
            }
            Event::Search(s) => {
                let v = host::kv_get(&s.query)?;
                host::search_result(&s.request, v.as_deref(), None)?;
                Ok(Status::Ok)
            }
            Event::JidUsernameToLegacyId(j) => {
                host::reply(&JidToLegacyReply { legacy_id: j.username.to_uppercase() })?;
                Ok(Status::Ok)
            }
            Event::Other { kind, .. } if kind == "boom" => Err(Error::new(Code::Network, "the network is down")),
            _ => Ok(Status::Unhandled),
        }
    }
}

#[test]
fn init_reply() {
    reset(|_, _| Ok("{}".into()));
    let mut p = Probe::default();
    assert_eq!(event(&mut p, r#"{"type":"init","payload":{"gateway":"g","abi":"1.0","config":{}}}"#), 0);
    assert_eq!(
        take_reply().unwrap(),
        r#"{"name":"Probe","registration":{"fields":[{"var":"name","required":true}]},"features":["search"]}"#
    );
    assert_eq!(take_logs(), vec![(0, "abi 1.0".to_string())]);

    assert_eq!(event(&mut p, r#"{"type":"init","payload":{"config":{"fail":1}}}"#), 2);
    assert_eq!(take_reply().unwrap(), r#"{"error":{"code":"internal","message":"bad config"}}"#);
}

#[test]
fn text_makes_calls() {
    reset(|_, _| Ok("{}".into()));
    let mut p = Probe::default();
    let st = event(
        &mut p,
        r#"{"type":"message.text","session":"a@b","chat":{"id":"eve","kind":"direct"},"payload":{"id":"m1","text":"hé \"x\"","unknown":[1]}}"#,
    );
    assert_eq!(st, 0);
    assert_eq!(
        take_calls(),
        vec![
            ("message.sent".to_string(), r#"{"id":"m1","legacy_id":"L1"}"#.to_string()),
            ("contact.text".to_string(), r#"{"legacy_id":"eve","id":"L2","text":"echo: hé \"x\""}"#.to_string()),
        ]
    );
    assert!(p.seen[0].starts_with("a@b:Text("));
}

#[test]
fn message_without_chat_is_bad_request() {
    reset(|_, _| Ok("{}".into()));
    let mut p = Probe::default();
    assert_eq!(event(&mut p, r#"{"type":"message.text","session":"a@b","payload":{"id":"m1","text":"x"}}"#), 2);
    assert_eq!(take_reply().unwrap(), r#"{"error":{"code":"bad_request","message":"message.text: the envelope has no chat"}}"#);
    assert!(take_calls().is_empty());
}

#[test]
fn bad_envelopes() {
    reset(|_, _| Ok("{}".into()));
    let mut p = Probe::default();
    assert_eq!(event(&mut p, "not json"), 2);
    assert!(take_reply().unwrap().contains(r#""code":"bad_request""#));
    assert_eq!(event(&mut p, r#"{"session":"a@b"}"#), 2);
    assert_eq!(event(&mut p, r#"{"type":"session.input","session":"a@b","payload":{"text":1}}"#), 2);
    assert!(take_reply().unwrap().contains("session.input: "));
}

#[test]
fn errors_and_results() {
    reset(|method, req| match (method, req) {
        ("kv.get", r#"{"key":"missing"}"#) => Err((Code::NotFound, "no such key".into())),
        ("kv.get", r#"{"key":"down"}"#) => Err((Code::Unavailable, "store down".into())),
        ("kv.get", _) => Ok(format!(r#"{{"value":"{}"}}"#, "x".repeat(1000))),
        _ => Ok("{}".into()),
    });
    let mut p = Probe::default();
    assert_eq!(event(&mut p, r#"{"type":"search","session":"a@b","payload":{"request":"s1","query":"missing"}}"#), 0);
    assert_eq!(take_calls()[1], ("search.result".to_string(), r#"{"request":"s1"}"#.to_string()));
    assert_eq!(event(&mut p, r#"{"type":"search","session":"a@b","payload":{"request":"s2","query":"big"}}"#), 0);
    assert!(take_calls()[1].1.contains(&"x".repeat(1000)));
    assert_eq!(event(&mut p, r#"{"type":"search","session":"a@b","payload":{"request":"s3","query":"down"}}"#), 2);
    assert_eq!(take_reply().unwrap(), r#"{"error":{"code":"unavailable","message":"store down"}}"#);

    let e = host::kv_get("down").unwrap_err();
    assert_eq!(e, Error::new(Code::Unavailable, "store down"));
    assert_eq!(e.to_string(), "unavailable: store down");
}

#[test]
fn unknown_code_reads_as_internal() {
    reset(|_, _| Err((Code::Internal, "x".into())));
    assert_eq!(Code::from_i32(42), Code::Internal);
    assert_eq!(Code::from_name("nope"), Code::Internal);
    assert_eq!(Code::from_name("quota"), Code::Quota);
    let e: Error = serde_json::from_str(r#"{"code":"brand_new","message":"m"}"#).unwrap();
    assert_eq!(e.code, Code::Internal);
}

#[test]
fn statuses() {
    reset(|_, _| Ok("{}".into()));
    let mut p = Probe::default();
    assert_eq!(event(&mut p, r#"{"type":"roster.fill","session":"a@b"}"#), 1);
    assert_eq!(event(&mut p, r#"{"type":"some.future.event","session":"a@b","payload":{"x":1}}"#), 1);
    assert_eq!(event(&mut p, r#"{"type":"boom","session":"a@b"}"#), 2);
    assert_eq!(take_reply().unwrap(), r#"{"error":{"code":"network","message":"the network is down"}}"#);
    assert_eq!(event(&mut p, r#"{"type":"contact.jid_username_to_legacy_id","session":"a@b","payload":{"username":"bob"}}"#), 0);
    assert_eq!(take_reply().unwrap(), r#"{"legacy_id":"BOB"}"#);
}

#[test]
fn payload_types() {
    let u = ContactUpdate {
        legacy_id: "eve".into(),
        name: Some("Eve".into()),
        avatar: Some(Avatar { data: Some(base64(b"png")), mime: Some("image/png".into()), id: Some("1".into()), handle: None }),
        presence: Some(Presence { show: "xa".into(), status: None, last_seen: Some(5) }),
        friend: Some(true),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_string(&u).unwrap(),
        r#"{"legacy_id":"eve","name":"Eve","avatar":{"data":"cG5n","type":"image/png","id":"1"},"presence":{"show":"xa","last_seen":5},"friend":true}"#
    );
    let t = ContactText { meta: MsgMeta { legacy_id: "eve".into(), carbon: true, when: 7 }, id: "1".into(), text: "t".into(), ..Default::default() };
    assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"legacy_id":"eve","carbon":true,"when":7,"id":"1","text":"t"}"#);
    let c: Contact = serde_json::from_str(r#"{"legacy_id":"x","jid":"x@g","friend":true,"ready":false,"presence":null,"new":1}"#).unwrap();
    assert!(c.friend && c.presence.is_none());
    let r: BridgeResponse = serde_json::from_str(r#"{"token":"b-1","context":{"op":"send"},"response":{"@type":"ok"}}"#).unwrap();
    assert_eq!(r.context.unwrap().get(), r#"{"op":"send"}"#);
}

#[test]
fn base64_vectors() {
    for (i, o) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")] {
        assert_eq!(base64(i.as_bytes()), o);
    }
}

#[test]
fn alloc_and_free() {
    let p = crate::rt::gw_alloc(10);
    assert!(!p.is_null());
    unsafe { crate::rt::gw_free(p, 10) };
    let z = crate::rt::gw_alloc(0);
    assert!(!z.is_null());
    unsafe { crate::rt::gw_free(z, 0) };
    assert!(crate::rt::gw_alloc(-1).is_null());
}
