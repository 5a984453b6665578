package sim

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// TDLib's JSON objects, as TDLib 1.8.40 (go-tdlib v0.7.6, client/type.go) writes them. Fields
// of TDLib type int64 are JSON strings, int53 and int32 are numbers, bytes are base64. Only the
// objects and fields the simulation produces are declared; the shape test in host/bridge/tdlib
// decodes them with go-tdlib's types.

// int64s is a TDLib int64, written as a string.
type int64s int64

func (v int64s) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(v), 10) + `"`), nil
}

type typed struct {
	Type string `json:"@type"`
}

func t(name string) typed { return typed{name} }

type tdError struct {
	typed
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type tdUser struct {
	typed
	ID                             int64           `json:"id"`
	FirstName                      string          `json:"first_name"`
	LastName                       string          `json:"last_name"`
	Usernames                      *tdUsernames    `json:"usernames"`
	PhoneNumber                    string          `json:"phone_number"`
	Status                         any             `json:"status"`
	ProfilePhoto                   *tdProfilePhoto `json:"profile_photo"`
	AccentColorID                  int32           `json:"accent_color_id"`
	BackgroundCustomEmojiID        int64s          `json:"background_custom_emoji_id"`
	ProfileAccentColorID           int32           `json:"profile_accent_color_id"`
	ProfileBackgroundCustomEmojiID int64s          `json:"profile_background_custom_emoji_id"`
	EmojiStatus                    *struct{}       `json:"emoji_status"`
	IsContact                      bool            `json:"is_contact"`
	IsMutualContact                bool            `json:"is_mutual_contact"`
	IsCloseFriend                  bool            `json:"is_close_friend"`
	IsVerified                     bool            `json:"is_verified"`
	IsPremium                      bool            `json:"is_premium"`
	IsSupport                      bool            `json:"is_support"`
	RestrictionReason              string          `json:"restriction_reason"`
	IsScam                         bool            `json:"is_scam"`
	IsFake                         bool            `json:"is_fake"`
	HasActiveStories               bool            `json:"has_active_stories"`
	HasUnreadActiveStories         bool            `json:"has_unread_active_stories"`
	RestrictsNewChats              bool            `json:"restricts_new_chats"`
	HaveAccess                     bool            `json:"have_access"`
	Type                           any             `json:"type"`
	LanguageCode                   string          `json:"language_code"`
	AddedToAttachmentMenu          bool            `json:"added_to_attachment_menu"`
}

type tdUsernames struct {
	typed
	ActiveUsernames   []string `json:"active_usernames"`
	DisabledUsernames []string `json:"disabled_usernames"`
	EditableUsername  string   `json:"editable_username"`
}

type tdUserTypeBot struct {
	typed
	CanBeEdited                bool   `json:"can_be_edited"`
	CanJoinGroups              bool   `json:"can_join_groups"`
	CanReadAllGroupMessages    bool   `json:"can_read_all_group_messages"`
	HasMainWebApp              bool   `json:"has_main_web_app"`
	IsInline                   bool   `json:"is_inline"`
	InlineQueryPlaceholder     string `json:"inline_query_placeholder"`
	NeedLocation               bool   `json:"need_location"`
	CanConnectToBusiness       bool   `json:"can_connect_to_business"`
	CanBeAddedToAttachmentMenu bool   `json:"can_be_added_to_attachment_menu"`
	ActiveUserCount            int32  `json:"active_user_count"`
}

type tdStatusOnline struct {
	typed
	Expires int64 `json:"expires"`
}

type tdStatusOffline struct {
	typed
	WasOnline int64 `json:"was_online"`
}

type tdStatusHidden struct {
	typed
	ByMyPrivacySettings bool `json:"by_my_privacy_settings"`
}

type tdProfilePhoto struct {
	typed
	ID            int64s    `json:"id"`
	Small         *tdFile   `json:"small"`
	Big           *tdFile   `json:"big"`
	Minithumbnail *struct{} `json:"minithumbnail"`
	HasAnimation  bool      `json:"has_animation"`
	IsPersonal    bool      `json:"is_personal"`
}

type tdChatPhotoInfo struct {
	typed
	Small         *tdFile   `json:"small"`
	Big           *tdFile   `json:"big"`
	Minithumbnail *struct{} `json:"minithumbnail"`
	HasAnimation  bool      `json:"has_animation"`
	IsPersonal    bool      `json:"is_personal"`
}

type tdFile struct {
	typed
	ID           int32        `json:"id"`
	Size         int64        `json:"size"`
	ExpectedSize int64        `json:"expected_size"`
	Local        tdLocalFile  `json:"local"`
	Remote       tdRemoteFile `json:"remote"`
}

type tdLocalFile struct {
	typed
	Path                   string `json:"path"`
	CanBeDownloaded        bool   `json:"can_be_downloaded"`
	CanBeDeleted           bool   `json:"can_be_deleted"`
	IsDownloadingActive    bool   `json:"is_downloading_active"`
	IsDownloadingCompleted bool   `json:"is_downloading_completed"`
	DownloadOffset         int64  `json:"download_offset"`
	DownloadedPrefixSize   int64  `json:"downloaded_prefix_size"`
	DownloadedSize         int64  `json:"downloaded_size"`
}

type tdRemoteFile struct {
	typed
	ID                   string `json:"id"`
	UniqueID             string `json:"unique_id"`
	IsUploadingActive    bool   `json:"is_uploading_active"`
	IsUploadingCompleted bool   `json:"is_uploading_completed"`
	UploadedSize         int64  `json:"uploaded_size"`
}

type tdFormattedText struct {
	typed
	Text     string     `json:"text"`
	Entities []struct{} `json:"entities"`
}

func ftext(s string) *tdFormattedText {
	return &tdFormattedText{typed: t("formattedText"), Text: s, Entities: []struct{}{}}
}

type tdUserFullInfo struct {
	typed
	PersonalPhoto                          *struct{}        `json:"personal_photo"`
	Photo                                  *struct{}        `json:"photo"`
	PublicPhoto                            *struct{}        `json:"public_photo"`
	BlockList                              *struct{}        `json:"block_list"`
	CanBeCalled                            bool             `json:"can_be_called"`
	SupportsVideoCalls                     bool             `json:"supports_video_calls"`
	HasPrivateCalls                        bool             `json:"has_private_calls"`
	HasPrivateForwards                     bool             `json:"has_private_forwards"`
	HasRestrictedVoiceAndVideoNoteMessages bool             `json:"has_restricted_voice_and_video_note_messages"`
	HasPostedToProfileStories              bool             `json:"has_posted_to_profile_stories"`
	HasSponsoredMessagesEnabled            bool             `json:"has_sponsored_messages_enabled"`
	NeedPhoneNumberPrivacyException        bool             `json:"need_phone_number_privacy_exception"`
	SetChatBackground                      bool             `json:"set_chat_background"`
	Bio                                    *tdFormattedText `json:"bio"`
	Birthdate                              *struct{}        `json:"birthdate"`
	PersonalChatID                         int64            `json:"personal_chat_id"`
	GiftCount                              int32            `json:"gift_count"`
	GroupInCommonCount                     int32            `json:"group_in_common_count"`
	BusinessInfo                           *struct{}        `json:"business_info"`
	BotInfo                                *struct{}        `json:"bot_info"`
}

type tdChat struct {
	typed
	ID                             int64                  `json:"id"`
	Type                           tdChatTypePrivate      `json:"type"`
	Title                          string                 `json:"title"`
	Photo                          *tdChatPhotoInfo       `json:"photo"`
	AccentColorID                  int32                  `json:"accent_color_id"`
	BackgroundCustomEmojiID        int64s                 `json:"background_custom_emoji_id"`
	ProfileAccentColorID           int32                  `json:"profile_accent_color_id"`
	ProfileBackgroundCustomEmojiID int64s                 `json:"profile_background_custom_emoji_id"`
	Permissions                    tdChatPermissions      `json:"permissions"`
	LastMessage                    *tdMessage             `json:"last_message"`
	Positions                      []tdChatPosition       `json:"positions"`
	ChatLists                      []typed                `json:"chat_lists"`
	MessageSenderID                *struct{}              `json:"message_sender_id"`
	BlockList                      *struct{}              `json:"block_list"`
	HasProtectedContent            bool                   `json:"has_protected_content"`
	IsTranslatable                 bool                   `json:"is_translatable"`
	IsMarkedAsUnread               bool                   `json:"is_marked_as_unread"`
	ViewAsTopics                   bool                   `json:"view_as_topics"`
	HasScheduledMessages           bool                   `json:"has_scheduled_messages"`
	CanBeDeletedOnlyForSelf        bool                   `json:"can_be_deleted_only_for_self"`
	CanBeDeletedForAllUsers        bool                   `json:"can_be_deleted_for_all_users"`
	CanBeReported                  bool                   `json:"can_be_reported"`
	DefaultDisableNotification     bool                   `json:"default_disable_notification"`
	UnreadCount                    int32                  `json:"unread_count"`
	LastReadInboxMessageID         int64                  `json:"last_read_inbox_message_id"`
	LastReadOutboxMessageID        int64                  `json:"last_read_outbox_message_id"`
	UnreadMentionCount             int32                  `json:"unread_mention_count"`
	UnreadReactionCount            int32                  `json:"unread_reaction_count"`
	NotificationSettings           tdNotificationSettings `json:"notification_settings"`
	AvailableReactions             any                    `json:"available_reactions"`
	MessageAutoDeleteTime          int32                  `json:"message_auto_delete_time"`
	EmojiStatus                    *struct{}              `json:"emoji_status"`
	Background                     *struct{}              `json:"background"`
	ThemeName                      string                 `json:"theme_name"`
	ActionBar                      *struct{}              `json:"action_bar"`
	BusinessBotManageBar           *struct{}              `json:"business_bot_manage_bar"`
	VideoChat                      tdVideoChat            `json:"video_chat"`
	PendingJoinRequests            *struct{}              `json:"pending_join_requests"`
	ReplyMarkupMessageID           int64                  `json:"reply_markup_message_id"`
	DraftMessage                   *struct{}              `json:"draft_message"`
	ClientData                     string                 `json:"client_data"`
}

type tdChatTypePrivate struct {
	typed
	UserID int64 `json:"user_id"`
}

type tdChatPermissions struct {
	typed
	CanSendBasicMessages bool `json:"can_send_basic_messages"`
	CanSendAudios        bool `json:"can_send_audios"`
	CanSendDocuments     bool `json:"can_send_documents"`
	CanSendPhotos        bool `json:"can_send_photos"`
	CanSendVideos        bool `json:"can_send_videos"`
	CanSendVideoNotes    bool `json:"can_send_video_notes"`
	CanSendVoiceNotes    bool `json:"can_send_voice_notes"`
	CanSendPolls         bool `json:"can_send_polls"`
	CanSendOtherMessages bool `json:"can_send_other_messages"`
	CanAddLinkPreviews   bool `json:"can_add_link_previews"`
	CanChangeInfo        bool `json:"can_change_info"`
	CanInviteUsers       bool `json:"can_invite_users"`
	CanPinMessages       bool `json:"can_pin_messages"`
	CanCreateTopics      bool `json:"can_create_topics"`
}

type tdChatPosition struct {
	typed
	List     typed     `json:"list"`
	Order    int64s    `json:"order"`
	IsPinned bool      `json:"is_pinned"`
	Source   *struct{} `json:"source"`
}

type tdNotificationSettings struct {
	typed
	UseDefaultMuteFor                           bool   `json:"use_default_mute_for"`
	MuteFor                                     int32  `json:"mute_for"`
	UseDefaultSound                             bool   `json:"use_default_sound"`
	SoundID                                     int64s `json:"sound_id"`
	UseDefaultShowPreview                       bool   `json:"use_default_show_preview"`
	ShowPreview                                 bool   `json:"show_preview"`
	UseDefaultMuteStories                       bool   `json:"use_default_mute_stories"`
	MuteStories                                 bool   `json:"mute_stories"`
	UseDefaultStorySound                        bool   `json:"use_default_story_sound"`
	StorySoundID                                int64s `json:"story_sound_id"`
	UseDefaultShowStorySender                   bool   `json:"use_default_show_story_sender"`
	ShowStorySender                             bool   `json:"show_story_sender"`
	UseDefaultDisablePinnedMessageNotifications bool   `json:"use_default_disable_pinned_message_notifications"`
	DisablePinnedMessageNotifications           bool   `json:"disable_pinned_message_notifications"`
	UseDefaultDisableMentionNotifications       bool   `json:"use_default_disable_mention_notifications"`
	DisableMentionNotifications                 bool   `json:"disable_mention_notifications"`
}

type tdVideoChat struct {
	typed
	GroupCallID          int32     `json:"group_call_id"`
	HasParticipants      bool      `json:"has_participants"`
	DefaultParticipantID *struct{} `json:"default_participant_id"`
}

type tdReactionsSome struct {
	typed
	Reactions        []tdReactionType `json:"reactions"`
	MaxReactionCount int              `json:"max_reaction_count"`
}

type tdReactionsAll struct {
	typed
	MaxReactionCount int `json:"max_reaction_count"`
}

type tdReactionType struct {
	typed
	Emoji string `json:"emoji"`
}

func reactionType(emoji string) tdReactionType {
	return tdReactionType{typed: t("reactionTypeEmoji"), Emoji: emoji}
}

type tdAvailableReactions struct {
	typed
	TopReactions         []tdAvailableReaction `json:"top_reactions"`
	RecentReactions      []tdAvailableReaction `json:"recent_reactions"`
	PopularReactions     []tdAvailableReaction `json:"popular_reactions"`
	AllowCustomEmoji     bool                  `json:"allow_custom_emoji"`
	AreTags              bool                  `json:"are_tags"`
	UnavailabilityReason *struct{}             `json:"unavailability_reason"`
}

type tdAvailableReaction struct {
	typed
	Type         tdReactionType `json:"type"`
	NeedsPremium bool           `json:"needs_premium"`
}

type tdSender struct {
	typed
	UserID int64 `json:"user_id"`
}

func sender(id int64) *tdSender { return &tdSender{typed: t("messageSenderUser"), UserID: id} }

type tdMessage struct {
	typed
	ID                      int64              `json:"id"`
	SenderID                *tdSender          `json:"sender_id"`
	ChatID                  int64              `json:"chat_id"`
	SendingState            any                `json:"sending_state"`
	SchedulingState         *struct{}          `json:"scheduling_state"`
	IsOutgoing              bool               `json:"is_outgoing"`
	IsPinned                bool               `json:"is_pinned"`
	IsFromOffline           bool               `json:"is_from_offline"`
	CanBeSaved              bool               `json:"can_be_saved"`
	HasTimestampedMedia     bool               `json:"has_timestamped_media"`
	IsChannelPost           bool               `json:"is_channel_post"`
	IsTopicMessage          bool               `json:"is_topic_message"`
	ContainsUnreadMention   bool               `json:"contains_unread_mention"`
	Date                    int64              `json:"date"`
	EditDate                int64              `json:"edit_date"`
	ForwardInfo             *struct{}          `json:"forward_info"`
	ImportInfo              *struct{}          `json:"import_info"`
	InteractionInfo         *tdInteractionInfo `json:"interaction_info"`
	UnreadReactions         []struct{}         `json:"unread_reactions"`
	FactCheck               *struct{}          `json:"fact_check"`
	ReplyTo                 *tdReplyToMessage  `json:"reply_to"`
	MessageThreadID         int64              `json:"message_thread_id"`
	SavedMessagesTopicID    int64              `json:"saved_messages_topic_id"`
	SelfDestructType        *struct{}          `json:"self_destruct_type"`
	SelfDestructIn          float64            `json:"self_destruct_in"`
	AutoDeleteIn            float64            `json:"auto_delete_in"`
	ViaBotUserID            int64              `json:"via_bot_user_id"`
	SenderBusinessBotUserID int64              `json:"sender_business_bot_user_id"`
	SenderBoostCount        int32              `json:"sender_boost_count"`
	AuthorSignature         string             `json:"author_signature"`
	MediaAlbumID            int64s             `json:"media_album_id"`
	EffectID                int64s             `json:"effect_id"`
	HasSensitiveContent     bool               `json:"has_sensitive_content"`
	RestrictionReason       string             `json:"restriction_reason"`
	Content                 any                `json:"content"`
	ReplyMarkup             *struct{}          `json:"reply_markup"`
}

type tdSendingPending struct {
	typed
	SendingID int32 `json:"sending_id"`
}

type tdSendingFailed struct {
	typed
	Error                 tdError `json:"error"`
	CanRetry              bool    `json:"can_retry"`
	NeedAnotherSender     bool    `json:"need_another_sender"`
	NeedAnotherReplyQuote bool    `json:"need_another_reply_quote"`
	NeedDropReply         bool    `json:"need_drop_reply"`
	RetryAfter            float64 `json:"retry_after"`
}

type tdReplyToMessage struct {
	typed
	ChatID         int64     `json:"chat_id"`
	MessageID      int64     `json:"message_id"`
	Quote          *struct{} `json:"quote"`
	Origin         *struct{} `json:"origin"`
	OriginSendDate int32     `json:"origin_send_date"`
	Content        *struct{} `json:"content"`
}

type tdInteractionInfo struct {
	typed
	ViewCount    int32               `json:"view_count"`
	ForwardCount int32               `json:"forward_count"`
	ReplyInfo    *struct{}           `json:"reply_info"`
	Reactions    *tdMessageReactions `json:"reactions"`
}

type tdMessageReactions struct {
	typed
	Reactions            []tdMessageReaction `json:"reactions"`
	AreTags              bool                `json:"are_tags"`
	PaidReactors         []struct{}          `json:"paid_reactors"`
	CanGetAddedReactions bool                `json:"can_get_added_reactions"`
}

type tdMessageReaction struct {
	typed
	Type            tdReactionType `json:"type"`
	TotalCount      int32          `json:"total_count"`
	IsChosen        bool           `json:"is_chosen"`
	UsedSenderID    *tdSender      `json:"used_sender_id"`
	RecentSenderIDs []*tdSender    `json:"recent_sender_ids"`
}

type tdMessageText struct {
	typed
	Text               *tdFormattedText `json:"text"`
	LinkPreview        *struct{}        `json:"link_preview"`
	LinkPreviewOptions *struct{}        `json:"link_preview_options"`
}

type tdMessagePhoto struct {
	typed
	Photo                 tdPhoto          `json:"photo"`
	Caption               *tdFormattedText `json:"caption"`
	ShowCaptionAboveMedia bool             `json:"show_caption_above_media"`
	HasSpoiler            bool             `json:"has_spoiler"`
	IsSecret              bool             `json:"is_secret"`
}

type tdPhoto struct {
	typed
	HasStickers   bool          `json:"has_stickers"`
	Minithumbnail *struct{}     `json:"minithumbnail"`
	Sizes         []tdPhotoSize `json:"sizes"`
}

type tdPhotoSize struct {
	typed
	Type             string  `json:"type"`
	Photo            *tdFile `json:"photo"`
	Width            int32   `json:"width"`
	Height           int32   `json:"height"`
	ProgressiveSizes []int32 `json:"progressive_sizes"`
}

type tdMessageDocument struct {
	typed
	Document tdDocument       `json:"document"`
	Caption  *tdFormattedText `json:"caption"`
}

type tdDocument struct {
	typed
	FileName      string    `json:"file_name"`
	MimeType      string    `json:"mime_type"`
	Minithumbnail *struct{} `json:"minithumbnail"`
	Thumbnail     *struct{} `json:"thumbnail"`
	Document      *tdFile   `json:"document"`
}

type tdMessageVideo struct {
	typed
	Video                 tdVideo          `json:"video"`
	AlternativeVideos     []struct{}       `json:"alternative_videos"`
	Caption               *tdFormattedText `json:"caption"`
	ShowCaptionAboveMedia bool             `json:"show_caption_above_media"`
	HasSpoiler            bool             `json:"has_spoiler"`
	IsSecret              bool             `json:"is_secret"`
}

type tdVideo struct {
	typed
	Duration          int32     `json:"duration"`
	Width             int32     `json:"width"`
	Height            int32     `json:"height"`
	FileName          string    `json:"file_name"`
	MimeType          string    `json:"mime_type"`
	HasStickers       bool      `json:"has_stickers"`
	SupportsStreaming bool      `json:"supports_streaming"`
	Minithumbnail     *struct{} `json:"minithumbnail"`
	Thumbnail         *struct{} `json:"thumbnail"`
	Video             *tdFile   `json:"video"`
}

type tdMessageAudio struct {
	typed
	Audio   tdAudio          `json:"audio"`
	Caption *tdFormattedText `json:"caption"`
}

type tdAudio struct {
	typed
	Duration                int32      `json:"duration"`
	Title                   string     `json:"title"`
	Performer               string     `json:"performer"`
	FileName                string     `json:"file_name"`
	MimeType                string     `json:"mime_type"`
	AlbumCoverMinithumbnail *struct{}  `json:"album_cover_minithumbnail"`
	AlbumCoverThumbnail     *struct{}  `json:"album_cover_thumbnail"`
	ExternalAlbumCovers     []struct{} `json:"external_album_covers"`
	Audio                   *tdFile    `json:"audio"`
}

type tdMessageVoiceNote struct {
	typed
	VoiceNote  tdVoiceNote      `json:"voice_note"`
	Caption    *tdFormattedText `json:"caption"`
	IsListened bool             `json:"is_listened"`
}

type tdVoiceNote struct {
	typed
	Duration                int32     `json:"duration"`
	Waveform                []byte    `json:"waveform"`
	MimeType                string    `json:"mime_type"`
	SpeechRecognitionResult *struct{} `json:"speech_recognition_result"`
	Voice                   *tdFile   `json:"voice"`
}

type tdChatAction struct {
	typed
	Progress *int32 `json:"progress,omitempty"`
}

// Updates.

type updateAuthorizationState struct {
	typed
	AuthorizationState any `json:"authorization_state"`
}

type tdWaitCode struct {
	typed
	CodeInfo tdCodeInfo `json:"code_info"`
}

type tdCodeInfo struct {
	typed
	PhoneNumber string     `json:"phone_number"`
	Type        tdCodeType `json:"type"`
	NextType    *struct{}  `json:"next_type"`
	Timeout     int32      `json:"timeout"`
}

type tdCodeType struct {
	typed
	Length int32 `json:"length"`
}

type tdWaitPassword struct {
	typed
	PasswordHint                string `json:"password_hint"`
	HasRecoveryEmailAddress     bool   `json:"has_recovery_email_address"`
	HasPassportData             bool   `json:"has_passport_data"`
	RecoveryEmailAddressPattern string `json:"recovery_email_address_pattern"`
}

type updateOption struct {
	typed
	Name  string `json:"name"`
	Value any    `json:"value"`
}

type tdOptionInteger struct {
	typed
	Value int64s `json:"value"`
}

type updateUser struct {
	typed
	User *tdUser `json:"user"`
}

type updateUserStatus struct {
	typed
	UserID int64 `json:"user_id"`
	Status any   `json:"status"`
}

type updateUserFullInfo struct {
	typed
	UserID       int64           `json:"user_id"`
	UserFullInfo *tdUserFullInfo `json:"user_full_info"`
}

type updateNewChat struct {
	typed
	Chat *tdChat `json:"chat"`
}

type updateNewMessage struct {
	typed
	Message *tdMessage `json:"message"`
}

type updateMessageSendSucceeded struct {
	typed
	Message      *tdMessage `json:"message"`
	OldMessageID int64      `json:"old_message_id"`
}

type updateMessageSendFailed struct {
	typed
	Message      *tdMessage `json:"message"`
	OldMessageID int64      `json:"old_message_id"`
	Error        tdError    `json:"error"`
}

type updateMessageContent struct {
	typed
	ChatID     int64 `json:"chat_id"`
	MessageID  int64 `json:"message_id"`
	NewContent any   `json:"new_content"`
}

type updateMessageEdited struct {
	typed
	ChatID      int64     `json:"chat_id"`
	MessageID   int64     `json:"message_id"`
	EditDate    int64     `json:"edit_date"`
	ReplyMarkup *struct{} `json:"reply_markup"`
}

type updateDeleteMessages struct {
	typed
	ChatID      int64   `json:"chat_id"`
	MessageIDs  []int64 `json:"message_ids"`
	IsPermanent bool    `json:"is_permanent"`
	FromCache   bool    `json:"from_cache"`
}

type updateChatReadInbox struct {
	typed
	ChatID                 int64 `json:"chat_id"`
	LastReadInboxMessageID int64 `json:"last_read_inbox_message_id"`
	UnreadCount            int32 `json:"unread_count"`
}

type updateChatReadOutbox struct {
	typed
	ChatID                  int64 `json:"chat_id"`
	LastReadOutboxMessageID int64 `json:"last_read_outbox_message_id"`
}

type updateChatAction struct {
	typed
	ChatID          int64        `json:"chat_id"`
	MessageThreadID int64        `json:"message_thread_id"`
	SenderID        *tdSender    `json:"sender_id"`
	Action          tdChatAction `json:"action"`
}

type updateMessageInteractionInfo struct {
	typed
	ChatID          int64              `json:"chat_id"`
	MessageID       int64              `json:"message_id"`
	InteractionInfo *tdInteractionInfo `json:"interaction_info"`
}

type updateFile struct {
	typed
	File *tdFile `json:"file"`
}

type tdUsers struct {
	typed
	TotalCount int32   `json:"total_count"`
	UserIDs    []int64 `json:"user_ids"`
}

type tdChats struct {
	typed
	TotalCount int32   `json:"total_count"`
	ChatIDs    []int64 `json:"chat_ids"`
}

type tdMessages struct {
	typed
	TotalCount int32        `json:"total_count"`
	Messages   []*tdMessage `json:"messages"`
}

type tdImportedContacts struct {
	typed
	UserIDs       []int64 `json:"user_ids"`
	ImporterCount []int32 `json:"importer_count"`
}

// encode writes v as JSON without HTML escaping and, for an answer, with "@extra".
func encode(v any, extra json.RawMessage) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("sim: encoding " + err.Error()) // only our own types are encoded
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(extra) == 0 {
		return out
	}
	// {"@type":...} -> {"@type":...,"@extra":X}
	res := make([]byte, 0, len(out)+len(extra)+12)
	res = append(res, out[:len(out)-1]...)
	res = append(res, `,"@extra":`...)
	res = append(res, extra...)
	res = append(res, '}')
	return res
}
