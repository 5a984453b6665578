package vcard

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/xmppgw/gateway/host/xmpp/xmpptest"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		v    VCard
	}{
		{"empty", VCard{}},
		{"name only", VCard{FullName: "Peter Saint-Andre"}},
		{"full", VCard{
			FullName: "Peter Saint-Andre", Given: "Peter", Family: "Saint-Andre", Nickname: "stpeter",
			Phone: "+1 303 308 3282", Email: "stpeter@jabber.org", URL: "https://stpeter.im/",
			Note:  "More information about me is located on my\npersonal website & <blog>.",
			Photo: []byte("\x89PNG\r\n\x1a\n\x00\x01\x02binary"), PhotoType: "image/png",
		}},
		{"family without given", VCard{Family: "O'Brien"}},
		{"photo without type", VCard{Photo: []byte{0, 1, 2, 3, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(xmpptest.Parse(t, tt.v.Element().String()))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.v) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.v)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		xml     string
		want    VCard
		wantErr bool
	}{
		{"xep-0054 style", `<vCard xmlns='vcard-temp'>
  <FN>Peter Saint-Andre</FN>
  <N><FAMILY>Saint-Andre</FAMILY><GIVEN>Peter</GIVEN><MIDDLE/></N>
  <NICKNAME>stpeter</NICKNAME>
  <URL>http://www.xmpp.org/xsf/people/stpeter.shtml</URL>
  <TEL><WORK/><FAX/><NUMBER/></TEL>
  <TEL><WORK/><VOICE/><NUMBER>303-308-3282</NUMBER></TEL>
  <EMAIL><INTERNET/><PREF/><USERID>stpeter@jabber.org</USERID></EMAIL>
  <EMAIL><INTERNET/><USERID>other@example.org</USERID></EMAIL>
  <DESC>More information about me is located on my personal website.</DESC>
  <PHOTO><TYPE>image/png</TYPE><BINVAL>
AAEC
AwQ=
</BINVAL></PHOTO>
</vCard>`, VCard{
			FullName: "Peter Saint-Andre", Given: "Peter", Family: "Saint-Andre", Nickname: "stpeter",
			URL: "http://www.xmpp.org/xsf/people/stpeter.shtml", Phone: "303-308-3282", Email: "stpeter@jabber.org",
			Note: "More information about me is located on my personal website.", Photo: []byte{0, 1, 2, 3, 4}, PhotoType: "image/png",
		}, false},
		{"empty card", `<vCard xmlns='vcard-temp'/>`, VCard{}, false},
		{"NOTE when no DESC", `<vCard xmlns='vcard-temp'><NOTE>hi</NOTE></vCard>`, VCard{Note: "hi"}, false},
		{"DESC wins over NOTE", `<vCard xmlns='vcard-temp'><NOTE>n</NOTE><DESC>d</DESC></vCard>`, VCard{Note: "d"}, false},
		{"external photo ignored", `<vCard xmlns='vcard-temp'><PHOTO><EXTVAL>http://example.org/a.png</EXTVAL></PHOTO></vCard>`, VCard{}, false},
		{"empty BINVAL", `<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL/></PHOTO></vCard>`, VCard{}, false},
		{"foreign children ignored", `<vCard xmlns='vcard-temp'><FN xmlns='urn:other'>x</FN></vCard>`, VCard{}, false},
		{"bad base64", `<vCard xmlns='vcard-temp'><PHOTO><BINVAL>!!notbase64</BINVAL></PHOTO></vCard>`, VCard{}, true},
		{"wrong namespace", `<vCard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>`, VCard{}, true},
		{"wrong name", `<vcard xmlns='vcard-temp'/>`, VCard{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(xmpptest.Parse(t, tt.xml))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := Parse(nil); err == nil {
		t.Fatal("Parse(nil): no error")
	}
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		name        string
		xml         string
		wantPhoto   string
		wantPresent bool
		wantErr     bool
	}{
		{"hash", `<x xmlns='vcard-temp:x:update'><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x>`, "01b87fcd030b72895ff8e88db57ec525450f000d", true, false},
		{"no avatar", `<x xmlns='vcard-temp:x:update'><photo/></x>`, "", true, false},
		{"not ready", `<x xmlns='vcard-temp:x:update'/>`, "", false, false},
		{"wrong namespace", `<x xmlns='jabber:x:avatar'><hash>ab</hash></x>`, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			photo, present, err := ParseUpdate(xmpptest.Parse(t, tt.xml))
			if (err != nil) != tt.wantErr || photo != tt.wantPhoto || present != tt.wantPresent {
				t.Fatalf("got %q %v %v, want %q %v err %v", photo, present, err, tt.wantPhoto, tt.wantPresent, tt.wantErr)
			}
		})
	}
	for _, h := range []string{"", "01b87fcd030b72895ff8e88db57ec525450f000d"} {
		photo, present, err := ParseUpdate(xmpptest.Parse(t, Update(h).String()))
		if err != nil || !present || photo != h {
			t.Fatalf("round trip %q: got %q %v %v", h, photo, present, err)
		}
	}
	if _, _, err := ParseUpdate(nil); err == nil {
		t.Fatal("ParseUpdate(nil): no error")
	}
}

func ExampleVCard_Element() {
	v := VCard{
		FullName: "Juliet Capulet", Given: "Juliet", Family: "Capulet", Nickname: "JuliC",
		Phone: "+44 20 7946 0000", Email: "juliet@capulet.lit", URL: "https://capulet.lit/",
		Note: "Wherefore art thou?", Photo: []byte("PNG"), PhotoType: "image/png",
	}
	fmt.Println(v.Element())
	// Output:
	// <vCard xmlns="vcard-temp"><FN>Juliet Capulet</FN><N><FAMILY>Capulet</FAMILY><GIVEN>Juliet</GIVEN></N><NICKNAME>JuliC</NICKNAME><PHOTO><TYPE>image/png</TYPE><BINVAL>UE5H</BINVAL></PHOTO><TEL><VOICE/><NUMBER>+44 20 7946 0000</NUMBER></TEL><EMAIL><INTERNET/><USERID>juliet@capulet.lit</USERID></EMAIL><URL>https://capulet.lit/</URL><DESC>Wherefore art thou?</DESC></vCard>
}

func ExampleUpdate() {
	fmt.Println(Update("01b87fcd030b72895ff8e88db57ec525450f000d"))
	fmt.Println(Update(""))
	// Output:
	// <x xmlns="vcard-temp:x:update"><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x>
	// <x xmlns="vcard-temp:x:update"><photo/></x>
}
