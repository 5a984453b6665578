// Package sim is a simulated Telegram: a bridge backend ("sim") that answers the TDLib JSON
// requests a plugin sends with the objects TDLib 1.8.40 would send (go-tdlib v0.7.6's types are
// the reference, and a test in host/bridge/tdlib decodes them with those types), and emits the
// same updates. Its world comes from a fixture file; a control API injects what remote people do
// and what the account owner does from the official app. Nothing leaves the process.
//
// # What it answers
//
// Authorization, as TDLib: the first request makes the client send
// updateAuthorizationState{authorizationStateWaitTdlibParameters}; setTdlibParameters (its
// folders, key and api id are ignored: the session's DataDir and Key are used) leads to
// WaitPhoneNumber, or straight to Ready when the session's folder holds a login (as a TDLib
// database would; a different Key starts afresh); setAuthenticationPhoneNumber (an unknown
// number: error 400 PHONE_NUMBER_INVALID) to WaitCode; checkAuthenticationCode (wrong: 400
// PHONE_CODE_INVALID) to WaitPassword when the account has a password
// (checkAuthenticationPassword, wrong: 400 PASSWORD_HASH_INVALID), then Ready (after
// updateOption my_id and updateUser of the account's own user); each state update comes before
// the request's answer, as in TDLib. logOut: LoggingOut, the answer, Closed, and the login is
// forgotten; close: the answer, Closing, Closed (both as TDLib 1.8.40 does them). After Closed
// the client's stream ends. Requests before setTdlibParameters get 400 "Initialization
// parameters are needed: call setTdlibParameters first", other requests before Ready 401
// "Unauthorized".
//
// Then: getMe, getUser, getUserFullInfo (bio), getContacts, searchUserByPhoneNumber,
// importContacts, addContact, removeContacts, searchPublicChat (a username), createPrivateChat
// (the chat id of a private chat is the user id), getChat, getChats, loadChats, getChatHistory,
// getMessage, sendMessage (inputMessageText with reply_to, inputMessagePhoto, -Document, -Video,
// -Audio, -VoiceNote with inputFileLocal or inputFileId), editMessageText, deleteMessages,
// viewMessages, sendChatAction, addMessageReaction, removeMessageReaction,
// getMessageAvailableReactions, downloadFile, getFile, openChat, closeChat, getOption,
// setOption, getAuthorizationState. Anything else: error 400 `sim: unsupported request "..."`.
//
// Like TDLib, a client gets updateUser before a user id appears in anything it receives, and
// updateNewChat before a chat id does. A user is reachable by id (getUser, createPrivateChat)
// once it is a contact, has a chat, or was seen by the client; a chat must exist (a contact's
// chat is made by createPrivateChat) before sendMessage. Message ids are TDLib's: the server
// id shifted left by 20, increasing per chat. sendMessage answers with a temporary id and
// messageSendingStatePending (after updateNewMessage with the same), then sends
// updateMessageSendSucceeded with the final id and old_message_id; a local file that cannot be
// read ends in updateMessageSendFailed. Other sessions of the same account see the message as a
// new outgoing message, as another device would. downloadFile writes the file below
// DataDir/files/ and sends updateFile with local.path and is_downloading_completed.
//
// # Behaviours
//
// A user's behaviour says what it does with the owner's messages:
//
//   - echo: after a text, updateUserStatus (online again, if its status is online),
//     updateChatAction (chatActionTyping; chatActionUploadingPhoto for the text "photo"),
//     updateChatReadOutbox (it read the message), and after the user's delay chatActionCancel
//     and an answer "echo: <text>" (for "photo": a messagePhoto with a small picture). It follows
//     the owner's edits (edits its answer) and deletions with revoke (deletes its answer), and
//     answers a reaction with the same reaction on the same message (and takes it back). It
//     reads other messages without answering.
//   - plain: answers a text with "echo: <text>" after its delay, nothing else.
//   - silent (default): nothing.
//
// # Fixture
//
// A TOML file (strict: an unknown key is an error, reported with file:line). Files it names
// are relative to it. Example (the built-in demo fixture, demo/demo.toml, is a complete one):
//
//	reactions = ["👍", "❤", "😂"]  # the reactions chats allow; absent: any
//	max_reactions = 1              # reactions per person per message (default 1)
//	history = 1000                 # messages kept per chat (default 1000)
//
//	[[account]]                    # an account sessions log in to
//	phone = "+15550000001"
//	code = "12345"
//	password = "hunter2"           # optional: two-step verification
//	password_hint = ""
//	contacts = [1001, 1002]        # user ids (is_contact is per account)
//	chats = [1001]                 # chats listed from the start (others appear with messages)
//	[account.me]                   # the account's own user: the keys of [[user]]
//	id = 9000001
//	first_name = "Alice"
//
//	[[user]]
//	id = 1001                      # > 0, unique
//	first_name = "Eve"             # required
//	last_name = "Echo"
//	usernames = ["eve"]            # active usernames, the first is the main one
//	phone = "+15550001001"
//	bio = "..."
//	bot = false
//	verified = false
//	status = "online"              # online, offline, recently, last_week, last_month, empty (default)
//	online_for = "1h"              # online: until start + online_for (renewed when it writes)
//	last_seen = "2h"               # offline: was_online = start - last_seen
//	avatar = "avatars/eve.png"     # profile photo (PNG, JPEG or GIF)
//	behaviour = "echo"             # echo, plain, silent (default)
//	delay = "1s"                   # echo, plain: time before answering (default 0)
//	photo = "pictures/x.png"       # echo: the picture answered to "photo" (default built in)
//
//	[[bulk]]                       # many accounts for benchmarks
//	accounts = 1000                # phones phone_from, phone_from+1, ...
//	phone_from = "+16660000000"
//	code = "12345"
//	me_id_from = 20000000          # their own users' ids count up from here
//	contacts = 200                 # shared contacts contact_id_from, ..., named "Contact <id>"
//	contact_id_from = 30000000
//	behaviour = "plain"            # of the contacts (default plain)
//	status = "online"              # of the contacts (default online)
//	delay = "0s"
//
// # Control API
//
// [Backend.Handler] serves JSON over HTTP to loopback clients only (403 otherwise); the host
// mounts it on its admin listener at /sim/. Every POST takes a JSON object (unknown fields are
// refused) and answers {"ok":true,"chat_id":...,"message_id":...} or {"error":"..."} with 400 or
// 404. "account" is an account's phone number; "from" the remote user acting; "chat" the peer of
// the owner's chat. What remote people do:
//
//	POST /sim/message  {"account":"+15550000001","from":1001,"text":"hi","reply_to":0}
//	                   ("photo":true sends the user's picture, "text" is then its caption)
//	POST /sim/edit     {"account":...,"from":1001,"message_id":...,"text":"..."}
//	POST /sim/delete   {"account":...,"from":1001,"message_ids":[...]}
//	POST /sim/read     {"account":...,"from":1001,"message_id":0}   (0: up to the last)
//	POST /sim/typing   {"account":...,"from":1001,"action":"typing"} (typing, cancel,
//	                   recording_voice, uploading_photo, uploading_document)
//	POST /sim/reaction {"account":...,"from":1001,"message_id":...,"reaction":"👍","remove":false}
//	POST /sim/status   {"user":1001,"status":"online","expires_in":"30s"}
//	                   (offline: "last_seen":"5m" ago; recently, last_week, last_month, empty)
//	POST /sim/profile  {"user":1001,"first_name":"...","last_name":"...","bio":"..."}
//
// What the account owner does from the official app (the gateway shows these as carbons):
//
//	POST /sim/own/message  {"account":...,"chat":1001,"text":"...","reply_to":0}
//	POST /sim/own/edit     {"account":...,"chat":1001,"message_id":...,"text":"..."}
//	POST /sim/own/delete   {"account":...,"chat":1001,"message_ids":[...],"revoke":true}
//	POST /sim/own/read     {"account":...,"chat":1001,"message_id":0}
//	POST /sim/own/reaction {"account":...,"chat":1001,"message_id":...,"reaction":"👍","remove":false}
//
// And:
//
//	POST /sim/revoke {"account":...}  terminate its sessions from another device:
//	                                  LoggingOut, Closed; the logins are forgotten
//	GET  /sim/state                   accounts, their sessions and chats
//
// The same actions are available in Go as [Backend.Do].
//
// # Determinism
//
// Message ids increase per chat from 1<<20; dates and statuses come from the clock given with
// bridge.WithClock; with delay 0 (the default) every consequence of a request (an echo, a
// read) is queued before the request's handling ends. Delays use real timers.
package sim
