// Package vcard implements XEP-0054: vcard-temp and XEP-0153: vCard-Based Avatars, gateway
// side.
//
// A puppet answers vCard requests with what the legacy network knows of the contact, and
// advertises the SHA-1 of its avatar in every available presence (vcard-temp:x:update) so that
// clients fetch the vCard photo only when it changed.
package vcard

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/xmppgw/gateway/host/xmpp"
)

// Namespaces of XEP-0054 and XEP-0153.
const (
	NS       = "vcard-temp"
	NSUpdate = "vcard-temp:x:update"
)

// VCard is the part of a vcard-temp card that a gateway fills in for a contact. Empty fields
// are left out of the card.
type VCard struct {
	FullName, Given, Family, Nickname string
	Phone, Email, URL                 string
	// Note is the free-text description (the legacy network's "bio" or "about"), sent as DESC.
	Note string
	// Photo is the avatar image and PhotoType its MIME type (e.g. "image/png").
	Photo     []byte
	PhotoType string
}

// Element returns the <vCard xmlns='vcard-temp'/> payload of an IQ result. The phone number is
// marked VOICE and the photo is sent inline (BINVAL, base64 without line breaks).
func (v VCard) Element() *xmpp.Element {
	c := xmpp.Elem(NS, "vCard")
	text := func(parent *xmpp.Element, local, s string) {
		if s != "" {
			parent.Add(xmpp.Elem(NS, local).WithText(s))
		}
	}
	text(c, "FN", v.FullName)
	if v.Given != "" || v.Family != "" {
		n := xmpp.Elem(NS, "N")
		text(n, "FAMILY", v.Family)
		text(n, "GIVEN", v.Given)
		c.Add(n)
	}
	text(c, "NICKNAME", v.Nickname)
	if len(v.Photo) > 0 {
		p := xmpp.Elem(NS, "PHOTO")
		text(p, "TYPE", v.PhotoType)
		text(p, "BINVAL", base64.StdEncoding.EncodeToString(v.Photo))
		c.Add(p)
	}
	if v.Phone != "" {
		c.Add(xmpp.Elem(NS, "TEL").Add(xmpp.Elem(NS, "VOICE"), xmpp.Elem(NS, "NUMBER").WithText(v.Phone)))
	}
	if v.Email != "" {
		c.Add(xmpp.Elem(NS, "EMAIL").Add(xmpp.Elem(NS, "INTERNET"), xmpp.Elem(NS, "USERID").WithText(v.Email)))
	}
	text(c, "URL", v.URL)
	text(c, "DESC", v.Note)
	return c
}

// Parse reads a <vCard xmlns='vcard-temp'/> element; an empty card gives the zero VCard. Of
// repeated TEL and EMAIL entries the first with a value is kept. NOTE is read when DESC is
// absent. An external photo (EXTVAL) is ignored; an undecodable BINVAL is an error.
func Parse(e *xmpp.Element) (VCard, error) {
	var v VCard
	if e == nil || e.Name.Space != NS || e.Name.Local != "vCard" {
		return v, errors.New("vcard: not a <vCard xmlns='" + NS + "'/> element")
	}
	var note string
	for c := range e.ChildrenNS(NS) {
		switch c.Name.Local {
		case "FN":
			v.FullName = c.Text
		case "N":
			v.Given = childText(c, "GIVEN")
			v.Family = childText(c, "FAMILY")
		case "NICKNAME":
			v.Nickname = c.Text
		case "TEL":
			if v.Phone == "" {
				v.Phone = childText(c, "NUMBER")
			}
		case "EMAIL":
			if v.Email == "" {
				v.Email = childText(c, "USERID")
			}
		case "URL":
			v.URL = c.Text
		case "DESC":
			v.Note = c.Text
		case "NOTE":
			note = c.Text
		case "PHOTO":
			bin := c.Child(NS, "BINVAL")
			if bin == nil {
				continue
			}
			// Line breaks SHOULD NOT be sent but are common; strip all white space.
			data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(bin.Text), ""))
			if err != nil {
				return VCard{}, fmt.Errorf("vcard: PHOTO/BINVAL: %w", err)
			}
			v.Photo = data
			v.PhotoType = strings.TrimSpace(childText(c, "TYPE"))
		}
	}
	if v.Note == "" {
		v.Note = note
	}
	if len(v.Photo) == 0 {
		v.Photo, v.PhotoType = nil, ""
	}
	return v, nil
}

func childText(e *xmpp.Element, local string) string {
	if c := e.Child(NS, local); c != nil {
		return c.Text
	}
	return ""
}

// Update returns the XEP-0153 <x xmlns='vcard-temp:x:update'/> presence payload announcing the
// avatar whose SHA-1 (hex) is photoSHA1Hex. An empty hash writes an empty <photo/>, which tells
// clients the contact has no avatar.
func Update(photoSHA1Hex string) *xmpp.Element {
	return xmpp.Elem(NSUpdate, "x").Add(xmpp.Elem(NSUpdate, "photo").WithText(photoSHA1Hex))
}

// ParseUpdate reads an <x xmlns='vcard-temp:x:update'/> element from a presence. present is
// false when it has no <photo/> child: the sender is not ready to advertise an avatar and the
// cached one must be kept. Otherwise photo is the hash, empty meaning "no avatar".
func ParseUpdate(e *xmpp.Element) (photo string, present bool, err error) {
	if e == nil || e.Name.Space != NSUpdate || e.Name.Local != "x" {
		return "", false, errors.New("vcard: not an <x xmlns='" + NSUpdate + "'/> element")
	}
	p := e.Child(NSUpdate, "photo")
	if p == nil {
		return "", false, nil
	}
	return strings.TrimSpace(p.Text), true, nil
}
