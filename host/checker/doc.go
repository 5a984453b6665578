// Package checker is the plugin conformance checker behind "gateway plugin check": it checks a
// WebAssembly module against ABI v1 (abi/README.md) and then runs a short conformance scenario
// against it, with a recording host that answers host calls from memory the way the gateway
// would.
//
// # The scenario
//
// Run reports the module first (step "module": plugin.Check's ABI version, exports, imports and
// memory), loads it with one instance, then sends these events to one session, in order. Each
// step passes or fails on its own; a step waits for the asynchronous answer it expects by
// delivering what the host would deliver next (queued contact.update_info events, bridge
// responses and events, session.input answers to prompts, and timers, fired in virtual time when
// nothing else is pending), up to Options.MaxEvents events.
//
//   - init: the reply decodes into abi.InitReply with a non-empty name; every registration field
//     (except "fixed" ones) has a unique var.
//   - validate: registration.validate with a value for each required field: the fixture's, else
//     the field's default value, else the first option of a list, "true" for a boolean,
//     "+15550000001" for a field named phone, "checker" otherwise. The plugin must answer with
//     registration.result for the same request (accepted or refused), or return unhandled.
//   - login: session.login with the same values; the plugin must end with session.logged_in or
//     session.login_failed. Prompts (session.prompt) are answered from the fixture; a prompt the
//     fixture cannot answer fails the step with the prompt's text.
//   - fill: roster.fill; the contacts created are reported.
//   - update_info: contact.update_info for the fixture's contact, or else the first contact
//     created; it must end with contact.ready or contact.failed, or be unhandled.
//   - text: message.text to that contact; the plugin must call message.sent or message.failed
//     with the message's id.
//   - jid_mapping: contact.jid_username_to_legacy_id and contact.legacy_id_to_jid_username, if
//     handled, must reply with a decodable, non-empty answer that maps back to the contact.
//   - logout: session.logout is handled or unhandled, without error.
//
// A trap, a deadline overrun, an out-of-memory, or status 2 (error) on any event of a step fails
// that step with the runtime's reason. After a crash the runtime starts a fresh instance and sends
// session.restored, as the gateway does, and the next steps go on.
//
// # The recording host
//
// The host keeps everything in memory: contacts (contact.get creates a contact whose JID is
// "<XEP-0106 escaped legacy id>@checker.invalid", or the plugin's username, and queues
// contact.update_info once), key-value storage under a quota, pending messages (message.sent
// for an id the host never sent is not_found), pending registration requests, timers, and bridge
// calls. bridge.call to a bridge that is not granted fails with forbidden; a granted one returns a
// token at once and its Bridge's answer arrives later as bridge.response (and bridge.event).
// file.fetch always fails with forbidden: the checker fetches nothing.
//
// # The fixture
//
// A fixture supplies what the scenario cannot guess: registration values, answers to prompts,
// the contact to test, and canned bridge responses. It is a JSON file, or a TOML file when its
// name ends in ".toml" (the same keys; TOML tables become JSON objects). Every key is optional:
//
//	{
//	  "config": {"api_id": 12345},          // init's config object (the [gateway.config] table)
//	  "bridges": ["tdlib"],                 // the bridges granted in init (also: those named below)
//	  "registration": {"phone": "+15550000001"},   // registration values, by field var
//	  "prompts": [                          // answers to session.prompt, first match wins:
//	    {"id": "login-code", "answer": "12345"},   //   by prompt id,
//	    {"match": "password", "answer": "hunter2"} //   or by a substring of its text
//	  ],
//	  "contact": "123456",                  // the legacy id for update_info, text, jid_mapping
//	  "text": "hello",                      // the body of the test message
//	  "bridge": [                           // canned bridge answers, first match wins:
//	    {
//	      "bridge": "tdlib",                // the bridge's name; absent: any
//	      "type": "sendMessage",            // matches the request's "@type" (or "type") field
//	      "contains": "\"chat_id\":123456", // and/or a substring of the request's JSON
//	      "response": {"@type": "message", "id": 1},   // the bridge.response; absent: {}
//	      "error": {"code": "unavailable", "message": "down"},   // or an error instead
//	      "events": [{"@type": "updateUser"}],   // bridge.event payloads delivered after it
//	      "once": true                      // used for one call only (then the next match)
//	    }
//	  ]
//	}
//
// (JSON has no comments: they are here for the reader only.) A bridge call that matches no entry
// is answered with a bridge.response error "unavailable", and the failing step names it. Run's
// Options.Bridge replaces the fixture's canned answers with any Bridge, such as a simulated
// bridge.
package checker
