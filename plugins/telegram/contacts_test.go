package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
)

func online(d time.Duration) string {
	return fmt.Sprintf(`{"@type":"userStatusOnline","expires":%d}`, clock.Add(d).Unix())
}

// updateUser is TDLib's updateUser.
func userUpdate(u string) string { return `{"@type":"updateUser","user":` + u + `}` }

// fill logs in and fills the roster with the demo's people.
func (f *fx) fill() {
	f.t.Helper()
	f.login()
	f.check(f.s.Fill())
	f.event(userUpdate(userJSON(1001, "Eve", "Echo", "", "15550001001", online(time.Hour), true, false, photoJSON("4294968297", 5, ""))))
	f.event(userUpdate(userJSON(1002, "Dora", "", "dora", "15550001002", online(time.Hour), true, false, "")))
	f.event(userUpdate(userJSON(1003, "Liam", "Lastweek", "", "15550001003", `{"@type":"userStatusLastWeek"}`, true, false, "")))
	f.event(userUpdate(userJSON(1004, "Helper", "Bot", "helper_bot", "", "", true, true, "")))
	f.event(userUpdate(userJSON(777000, "Telegram", "", "", "42777", "", true, false, "")))
	f.answer("getContacts", `{"@type":"users","total_count":5,"user_ids":[1001,1002,1003,1004,777000]}`)
}

func TestFillAndUpdateInfo(t *testing.T) {
	f := newFx(t)
	f.fill()
	for id, want := range map[string]struct {
		name, client string
		show         abi.Show
	}{
		"1001": {"Eve Echo", "phone", abi.ShowOnline}, "1002": {"dora", "phone", abi.ShowOnline},
		"1003": {"Liam Lastweek", "phone", abi.ShowXA}, "1004": {"Helper Bot", "bot", abi.ShowOffline},
		"777000": {"Telegram", "bot", abi.ShowOffline},
	} {
		c, ok := f.s.Contact(id)
		if !ok || c.Name != want.name || c.ClientType != want.client || !c.Friend || c.Presence == nil || c.Presence.Show != want.show {
			t.Errorf("%s: %+v %+v", id, c, c.Presence)
		}
		if !f.s.InRoster(id) {
			t.Errorf("%s not added to the roster", id)
		}
	}
	if c, _ := f.s.Contact("1003"); c.Presence.LastSeen != clock.Add(-7*24*time.Hour).Unix() {
		t.Errorf("liam last seen %d", c.Presence.LastSeen)
	}
	// Eve's avatar is downloaded through the bridge, then set from the handle.
	dl := request(f.pending("downloadFile"))
	if dl["file_id"] != float64(5) || dl["synchronous"] != true {
		t.Fatalf("download: %v", dl)
	}
	res := f.answer("downloadFile", fileJSON(5, 1234, "handle:f-3"))
	ups := calls[abi.ContactUpdate](res, abi.CallContactUpdate)
	if len(ups) != 1 || ups[0].Avatar == nil || ups[0].Avatar.Handle != "f-3" || ups[0].Avatar.ID != "4294968297" {
		t.Fatalf("avatar update: %v", res.Calls)
	}
	// An unchanged photo is not downloaded again.
	f.event(userUpdate(userJSON(1001, "Eve", "Echo", "", "15550001001", online(time.Hour), true, false, photoJSON("4294968297", 5, ""))))
	if f.hasPending("downloadFile") {
		t.Fatal("unchanged avatar downloaded again")
	}

	// update_info: the bio completes the vCard, then the contact is ready.
	res = f.s.UpdateInfo("1001")
	if len(res.Filter(abi.CallContactReady)) != 0 {
		t.Fatal("ready before the bio")
	}
	res = f.answer("getUserFullInfo", `{"@type":"userFullInfo","bio":{"@type":"formattedText","text":"I repeat whatever you say.","entities":[]},"can_be_called":true}`)
	if len(res.Filter(abi.CallContactReady)) != 1 {
		t.Fatalf("not ready: %v", res.Methods())
	}
	c, _ := f.s.Contact("1001")
	want := abi.VCard{FullName: "Eve Echo", Given: "Eve", Family: "Echo", Phone: "+15550001001", Note: "I repeat whatever you say."}
	if c.VCard == nil || *c.VCard != want || !c.Ready {
		t.Fatalf("eve: %+v %+v", c, c.VCard)
	}
	// A bot has no bio: still ready; dora's vCard has her username as nickname.
	f.s.UpdateInfo("1004")
	res = f.answer("getUserFullInfo", `{"@type":"userFullInfo","bio":null}`)
	if len(res.Filter(abi.CallContactReady)) != 1 {
		t.Fatalf("bot not ready: %v", res.Methods())
	}
	f.s.UpdateInfo("1002")
	f.answer("getUserFullInfo", `{"@type":"userFullInfo","bio":{"@type":"formattedText","text":"Explorer.","entities":[]}}`)
	if c, _ := f.s.Contact("1002"); c.VCard == nil || c.VCard.Nickname != "dora" || c.VCard.FullName != "Dora" || c.VCard.Note != "Explorer." {
		t.Fatalf("dora: %+v", c.VCard)
	}

	// A contact the plugin never heard of: getUser, and a failure when Telegram does not know it.
	f.s.UpdateInfo("4242")
	res = f.refuse("getUser", 400, "User not found")
	if fl := calls[abi.ContactFailed](res, abi.CallContactFailed); len(fl) != 1 || !contains(fl[0].Error, "User not found") {
		t.Fatalf("failed: %v", res.Calls)
	}
	// One it can ask about: getUser, then the full info.
	f.s.UpdateInfo("4243")
	f.answer("getUser", userJSON(4243, "Ann", "", "", "", `{"@type":"userStatusRecently"}`, false, false, photoJSON("77", 9, "handle:f-9")))
	f.answer("getUserFullInfo", `{"@type":"userFullInfo","bio":{"@type":"formattedText","text":"","entities":[]}}`)
	c, _ = f.s.Contact("4243")
	if !c.Ready || c.Name != "Ann" || c.Friend || c.AvatarID != "77" || c.Presence.Show != abi.ShowAway || c.Presence.LastSeen != clock.Unix() {
		t.Fatalf("ann: %+v %+v", c, c.Presence)
	}
	if f.hasPending("downloadFile") {
		t.Fatal("a downloaded avatar was downloaded again")
	}
}

func TestNewContactsAndChats(t *testing.T) {
	f := newFx(t)
	f.fill()
	// A new contact (added from another app) joins the roster.
	f.event(userUpdate(userJSON(1010, "New", "Friend", "", "", "", true, false, "")))
	if !f.s.InRoster("1010") {
		t.Fatal("new contact not in roster")
	}
	// Someone who is not a contact is only remembered...
	f.event(userUpdate(userJSON(2000, "Stranger", "", "", "", "", false, false, "")))
	if _, ok := f.s.Contact("2000"); ok {
		t.Fatal("a stranger became a contact")
	}
	// ...until a private chat with them appears: a subscription request.
	f.event(`{"@type":"updateNewChat","chat":{"@type":"chat","id":2000,"type":{"@type":"chatTypePrivate","user_id":2000},"title":"Stranger"}}`)
	c, ok := f.s.Contact("2000")
	if !ok || !f.s.InRoster("2000") || c.Name != "Stranger" {
		t.Fatalf("stranger: %v %+v", f.s.InRoster("2000"), c)
	}
	// Groups are not handled.
	res := f.event(`{"@type":"updateNewChat","chat":{"@type":"chat","id":-100,"type":{"@type":"chatTypeBasicGroup","basic_group_id":100},"title":"G"}}`)
	if len(res.Calls) != 0 {
		t.Fatalf("group chat: %v", res.Methods())
	}
}

func presence(f *fx, id string) abi.Presence {
	c, _ := f.s.Contact(id)
	if c.Presence == nil {
		return abi.Presence{}
	}
	return *c.Presence
}

func status(user int64, st string) string {
	return fmt.Sprintf(`{"@type":"updateUserStatus","user_id":%d,"status":%s}`, user, st)
}

func TestStatusMapping(t *testing.T) {
	f := newFx(t)
	f.fill()
	// Online until it expires: a timer then makes the contact away, last seen at the expiry.
	tm, ok := f.s.Timer("online:1001")
	if !ok || tm.AfterMS != time.Hour.Milliseconds() {
		t.Fatalf("online timer: %+v %v (timers %v)", tm, ok, f.s.Timers())
	}
	expires := clock.Add(time.Minute).Unix()
	f.event(status(1001, online(time.Minute)))
	if p := presence(f, "1001"); p.Show != abi.ShowOnline {
		t.Fatalf("online: %+v", p)
	}
	if tm, _ := f.s.Timer("online:1001"); tm.AfterMS != 60000 {
		t.Fatalf("timer not reset: %+v", tm)
	}
	if f.s.KV()["online/1001"] != fmt.Sprint(expires) {
		t.Fatalf("storage: %v", f.s.KV())
	}
	// Offline while the online status has not expired: ignored.
	f.event(status(1001, fmt.Sprintf(`{"@type":"userStatusOffline","was_online":%d}`, clock.Unix()-5)))
	if p := presence(f, "1001"); p.Show != abi.ShowOnline {
		t.Fatalf("offline while online: %+v", p)
	}
	f.check(f.s.FireTimer("online:1001"))
	if p := presence(f, "1001"); p.Show != abi.ShowAway || p.LastSeen != expires {
		t.Fatalf("expired: %+v", p)
	}
	if _, ok := f.s.KV()["online/1001"]; ok {
		t.Fatal("expired timer left in storage")
	}
	// Now offline counts.
	f.event(status(1001, fmt.Sprintf(`{"@type":"userStatusOffline","was_online":%d}`, clock.Unix()-300)))
	if p := presence(f, "1001"); p.Show != abi.ShowAway || p.LastSeen != clock.Unix()-300 {
		t.Fatalf("offline: %+v", p)
	}
	for st, want := range map[string]abi.Presence{
		`{"@type":"userStatusRecently"}`:           {Show: abi.ShowAway, LastSeen: clock.Unix()},
		`{"@type":"userStatusLastWeek"}`:           {Show: abi.ShowXA, LastSeen: clock.Add(-7 * 24 * time.Hour).Unix()},
		`{"@type":"userStatusLastMonth"}`:          {Show: abi.ShowXA, LastSeen: clock.Add(-31 * 24 * time.Hour).Unix()},
		`{"@type":"userStatusEmpty"}`:              {Show: abi.ShowOffline},
		online(-time.Second):                       {Show: abi.ShowAway, LastSeen: clock.Unix() - 1},
		`{"@type":"userStatusOnline","expires":1}`: {Show: abi.ShowAway, LastSeen: 1},
	} {
		f.event(status(1002, st))
		if p := presence(f, "1002"); p != want {
			t.Errorf("%s: %+v, want %+v", st, p, want)
		}
	}
	// Another status than offline ends a pending online timer.
	f.event(status(1002, online(time.Minute)))
	f.event(status(1002, `{"@type":"userStatusRecently"}`))
	if _, ok := f.s.Timer("online:1002"); ok {
		t.Fatal("online timer left after recently")
	}
	// Statuses of users that are not contacts change nothing.
	if res := f.event(status(5555, online(time.Minute))); len(res.Calls) != 0 {
		t.Fatalf("unknown user: %v", res.Methods())
	}
}

// The pending online timers survive an instance crash: their meaning is in storage.
func TestOnlineTimerAfterCrash(t *testing.T) {
	f := newFx(t)
	f.fill()
	expires := clock.Add(time.Hour).Unix()
	f.h.Restart()
	f.event(status(1001, fmt.Sprintf(`{"@type":"userStatusOffline","was_online":%d}`, clock.Unix())))
	if p := presence(f, "1001"); p.Show != abi.ShowOnline {
		t.Fatalf("offline while online, after a crash: %+v", p)
	}
	f.check(f.s.FireTimer("online:1001"))
	if p := presence(f, "1001"); p.Show != abi.ShowAway || p.LastSeen != expires {
		t.Fatalf("expired after a crash: %+v", p)
	}
}

func TestSearch(t *testing.T) {
	f := newFx(t)
	f.login()
	res := f.s.Search("+1 555 000 1005")
	if res.Status != abi.StatusOK || request(f.pending("searchUserByPhoneNumber"))["phone_number"] != "+15550001005" {
		t.Fatalf("search: %v", res.Methods())
	}
	res = f.answer("searchUserByPhoneNumber", userJSON(1005, "Plain", "Echo", "", "15550001005", "", true, false, ""))
	if rs := calls[abi.SearchResult](res, abi.CallSearchResult); len(rs) != 1 || rs[0].LegacyID != "1005" {
		t.Fatalf("result: %v", res.Calls)
	}
	f.s.Search("@dora")
	if request(f.pending("searchPublicChat"))["username"] != "dora" {
		t.Fatal("username")
	}
	res = f.answer("searchPublicChat", `{"@type":"chat","id":1002,"type":{"@type":"chatTypePrivate","user_id":1002}}`)
	if rs := calls[abi.SearchResult](res, abi.CallSearchResult); len(rs) != 1 || rs[0].LegacyID != "1002" {
		t.Fatalf("result: %v", res.Calls)
	}
	f.s.Search("+15559999999")
	res = f.refuse("searchUserByPhoneNumber", 404, "Not Found")
	if rs := calls[abi.SearchResult](res, abi.CallSearchResult); len(rs) != 1 || rs[0].LegacyID != "" || !contains(rs[0].Error, "Not Found") {
		t.Fatalf("not found: %v", res.Calls)
	}
	res = f.s.Search("x!")
	if rs := calls[abi.SearchResult](res, abi.CallSearchResult); len(rs) != 1 || !contains(rs[0].Error, "@username") {
		t.Fatalf("bad query: %v", res.Calls)
	}
}
