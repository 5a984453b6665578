// The JSON payloads of ABI v1 (sections 5 and 6 of abi/README.md) as json-as classes. Field
// names are the JSON names (snake_case). Optional strings are `string | null` and are left out
// when null; unknown fields are ignored when parsing.
import { JSON } from "json-as";

// ---- Common objects (5.2) ----

/** The conversation an event is about: for a direct chat, the contact's legacy id. */
@json
export class Chat {
  id: string = "";
  kind: string = "";
}

/** One field of a form (after XEP-0004). */
@json
export class Field {
  var: string = "";
  @omitif((self: Field) => self.label.length == 0)
  label: string = "";
  /** "text-single" (default), "text-private", "boolean", "list-single", "fixed". */
  @omitif((self: Field) => self.type.length == 0)
  type: string = "";
  @omitif((self: Field) => !self.required)
  required: bool = false;
  @omitif((self: Field) => self.desc.length == 0)
  desc: string = "";
  @omitnull()
  options: string[] | null = null;
  /** The default value. */
  @omitif((self: Field) => self.value.length == 0)
  value: string = "";
}

/** A form the user fills (registration). */
@json
export class Form {
  @omitif((self: Form) => self.instructions.length == 0)
  instructions: string = "";
  @omitif((self: Form) => self.fields.length == 0)
  fields: Field[] = [];
}

/** A contact's presence. */
@json
export class Presence {
  /** `online`, `chat`, `away`, `xa`, `dnd` or `offline`. */
  show: string = "online";
  @omitnull()
  status: string | null = null;
  /** Unix time in seconds the contact was last active; 0: unknown. */
  @omitif((self: Presence) => self.last_seen == 0)
  last_seen: i64 = 0;
}

/** What the host serves as the contact's vCard. */
@json
export class VCard {
  @omitnull() full_name: string | null = null;
  @omitnull() given: string | null = null;
  @omitnull() family: string | null = null;
  @omitnull() nickname: string | null = null;
  @omitnull() phone: string | null = null;
  @omitnull() email: string | null = null;
  @omitnull() url: string | null = null;
  @omitnull() note: string | null = null;
}

/** A contact's picture: a file handle, or inline base64 data. Neither removes it. */
@json
export class Avatar {
  @omitnull() handle: string | null = null;
  /** The image, base64 with padding. */
  @omitnull() data: string | null = null;
  /** MIME type. */
  @omitnull() type: string | null = null;
  /** A stable id of the picture on the network. */
  @omitnull() id: string | null = null;
}

/** A file handle the host holds for the plugin. */
@json
export class File {
  handle: string = "";
  size: i64 = 0;
  @omitnull() type: string | null = null;
  @omitnull() name: string | null = null;
}

/** The host's record of a contact (`contact.get`). */
@json
export class Contact {
  legacy_id: string = "";
  jid: string = "";
  @omitnull() name: string | null = null;
  @omitnull() client_type: string | null = null;
  friend: bool = false;
  @omitnull() presence: Presence | null = null;
  @omitnull() vcard: VCard | null = null;
  @omitnull() avatar_id: string | null = null;
  ready: bool = false;
}

/** An error (section 7): in `bridge.response`, `file.fetched` and error replies. */
@json
export class ErrorObject {
  code: string = "internal";
  message: string = "";
}

// ---- Events (5.3) ----

/** `init`'s payload. `config` is the `[gateway.config]` table, as raw JSON. */
@json
export class Init {
  gateway: string = "";
  abi: string = "";
  @omitnull() config: JSON.Raw | null = null;
  @omitnull() bridges: string[] | null = null;
}

/** `init`'s reply. */
@json
export class InitReply {
  name: string = "";
  registration: Form = new Form();
  @omitif((self: InitReply) => self.reactions.length == 0)
  reactions: string[] = [];
  @omitif((self: InitReply) => self.features.length == 0)
  features: string[] = [];
}

@json
export class Login {
  registration: Map<string, string> = new Map<string, string>();
}

@json
export class Input {
  prompt: string = "";
  text: string = "";
  expired: bool = false;
}

@json
export class Validate {
  request: string = "";
  values: Map<string, string> = new Map<string, string>();
}

@json
export class Search {
  request: string = "";
  query: string = "";
}

@json
export class JidToLegacy {
  username: string = "";
}

@json
export class JidToLegacyReply {
  legacy_id: string = "";
}

@json
export class LegacyToJid {
  legacy_id: string = "";
}

@json
export class LegacyToJidReply {
  username: string = "";
}

/** `contact.update_info`, `contact.friend_request`; `contact.add` / `ready` / `get`. */
@json
export class ContactRef {
  legacy_id: string = "";
}

@json
export class Text {
  id: string = "";
  @omitnull() origin_id: string | null = null;
  text: string = "";
  @omitnull() reply_to: string | null = null;
  @omitnull() thread: string | null = null;
}

@json
export class FileMessage {
  id: string = "";
  url: string = "";
  @omitnull() name: string | null = null;
  @omitnull() type: string | null = null;
  size: i64 = 0;
  @omitnull() caption: string | null = null;
  @omitnull() reply_to: string | null = null;
}

@json
export class Correct {
  id: string = "";
  target: string = "";
  text: string = "";
}

@json
export class Retract {
  id: string = "";
  target: string = "";
}

@json
export class React {
  id: string = "";
  target: string = "";
  reactions: string[] = [];
}

@json
export class Displayed {
  target: string = "";
}

@json
export class ChatState {
  state: string = "";
}

@json
export class BridgeResponse {
  token: string = "";
  @omitnull() context: JSON.Raw | null = null;
  @omitnull() response: JSON.Raw | null = null;
  @omitnull() error: ErrorObject | null = null;
}

@json
export class BridgeEvent {
  bridge: string = "";
  @omitnull() event: JSON.Raw | null = null;
}

@json
export class TimerFired {
  timer: string = "";
  @omitnull() context: JSON.Raw | null = null;
}

@json
export class FileFetched {
  token: string = "";
  @omitnull() context: JSON.Raw | null = null;
  @omitnull() file: File | null = null;
  @omitnull() error: ErrorObject | null = null;
}

// ---- Host calls (6): requests ----

/** `contact.update`: only the fields set (not null) change. */
@json
export class ContactUpdate {
  legacy_id: string = "";
  @omitnull() name: string | null = null;
  @omitnull() avatar: Avatar | null = null;
  @omitnull() vcard: VCard | null = null;
  @omitnull() presence: Presence | null = null;
  @omitnull() client_type: string | null = null;
  /** 0: unchanged, 1: a friend, -1: not a friend. */
  @omit
  friendship: i32 = 0;
  @omitif((self: ContactUpdate) => self.friendship == 0)
  friend: bool = false;

  constructor(legacy_id: string = "") {
    this.legacy_id = legacy_id;
  }

  /** Sets whether the contact is the user's friend. */
  setFriend(friend: bool): ContactUpdate {
    this.friendship = friend ? 1 : -1;
    this.friend = friend;
    return this;
  }
}
