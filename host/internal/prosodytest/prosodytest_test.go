package prosodytest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stream"
)

// loginAndPing logs in user over c2s and pings the server.
func loginAndPing(t *testing.T, s *Server, user, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := Dial(ctx, t, s.C2SAddr, user+"@"+s.Domain, password)
	if err != nil {
		t.Fatalf("Dial: %v\n%s", err, s.logTail(30))
	}
	if got := sess.LocalAddr(); got.Localpart() != user || got.Resourcepart() == "" {
		t.Errorf("bound JID = %v, want %s@%s/<resource>", got, user, s.Domain)
	}
	served := make(chan error, 1)
	go func() { served <- sess.Serve(nil) }()
	if err := ping.Send(ctx, sess, jid.MustParse(s.Domain)); err != nil {
		t.Fatalf("ping %s: %v", s.Domain, err)
	}
	if err := sess.Close(); err != nil {
		t.Errorf("close session: %v", err)
	}
	select {
	case <-served:
	case <-ctx.Done():
		t.Errorf("Serve did not return after Close")
	}
}

// stanzaCatcher records the first stanza a component receives.
type stanzaCatcher chan string

func (c stanzaCatcher) HandleXMPP(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	if err := enc.EncodeToken(*start); err != nil {
		return err
	}
	if _, err := xmlstream.Copy(enc, r); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	select {
	case c <- buf.String():
	default:
	}
	return nil
}

// dialComponent performs the XEP-0114 handshake for c.
func dialComponent(ctx context.Context, t *testing.T, s *Server, c Component) (*xmpp.Session, error) {
	t.Helper()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.ComponentAddr)
	if err != nil {
		t.Fatalf("dial component port: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return component.NewSession(ctx, jid.MustParse(c.JID), []byte(c.Secret), conn)
}

func TestServer(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	s := Start(t, Options{})
	t.Logf("Start took %v", time.Since(begin))

	if s.Domain != "localhost" || len(s.Components) != 1 || s.Components[0].JID != "telegram.localhost" ||
		!s.Components[0].Privileged || s.Components[0].Secret == "" {
		t.Fatalf("unexpected defaults: %+v", s)
	}
	if _, err := os.Stat(s.ConfigPath()); err != nil {
		t.Fatal(err)
	}

	t.Run("c2s", func(t *testing.T) {
		loginAndPing(t, s, "alice", "alice")
	})
	t.Run("c2s wrong password", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := Dial(ctx, t, s.C2SAddr, "bob@localhost", "wrong")
		if err == nil {
			t.Fatal("login with a wrong password succeeded")
		}
		t.Logf("wrong password error: %v", err)
	})

	t.Run("component", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := s.Components[0]
		sess, err := dialComponent(ctx, t, s, c)
		if err != nil {
			t.Fatalf("component handshake: %v\n%s", err, s.logTail(30))
		}
		// The XEP-0356 advertisement arrives right after the handshake.
		got := make(stanzaCatcher, 1)
		served := make(chan error, 1)
		go func() { served <- sess.Serve(got) }()
		select {
		case m := <-got:
			t.Logf("first stanza: %s", m)
			if !strings.Contains(m, "urn:xmpp:privilege:") || !strings.Contains(m, "roster") {
				t.Errorf("first stanza is not a privilege advertisement: %s", m)
			}
		case <-ctx.Done():
			t.Fatalf("no privilege advertisement\n%s", s.logTail(30))
		}
		if err := sess.Close(); err != nil {
			t.Errorf("close component session: %v", err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("component Serve: %v", err)
			}
		case <-ctx.Done():
			t.Errorf("component Serve did not return after Close")
		}
	})

	t.Run("component wrong secret", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := s.Components[0]
		c.Secret = "wrong"
		_, err := dialComponent(ctx, t, s, c)
		if err == nil {
			t.Fatal("handshake with a wrong secret succeeded")
		}
		t.Logf("wrong secret error: %q (%T)", err, err)
		var se stream.Error
		if !errors.As(err, &se) || !errors.Is(err, stream.NotAuthorized) {
			t.Errorf("wrong secret: got %v (%T), want stream error not-authorized", err, err)
		}
	})

	t.Run("restart", func(t *testing.T) {
		s.Stop()
		s.Stop() // idempotent
		if c, err := net.DialTimeout("tcp", s.C2SAddr, time.Second); err == nil {
			c.Close()
			t.Fatal("c2s port still accepts after Stop")
		}
		s.Register("carol", "carol") // while down
		begin := time.Now()
		s.Start()
		t.Logf("restart took %v", time.Since(begin))
		loginAndPing(t, s, "alice", "alice")
		s.Register("dave", "dave") // while up
		loginAndPing(t, s, "carol", "carol")
		loginAndPing(t, s, "dave", "dave")
		s.Restart()
		loginAndPing(t, s, "bob", "bob")
	})
}

func TestServerOptions(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{
		Domain: "gw.test",
		Components: []Component{
			{JID: "plain.gw.test", Secret: `se"cr\et`},
			{JID: "priv.gw.test", Privileged: true},
		},
		Users:  map[string]string{"eve": "pa ss"},
		Upload: true,
	})
	if s.UploadJID != "upload.gw.test" {
		t.Errorf("UploadJID = %q", s.UploadJID)
	}
	loginAndPing(t, s, "eve", "pa ss")
	for _, c := range s.Components {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		sess, err := dialComponent(ctx, t, s, c)
		cancel()
		if err != nil {
			t.Fatalf("component %s handshake: %v\n%s", c.JID, err, s.logTail(30))
		}
		_ = sess.Close()
	}
	// The HTTP port serves http_file_share.
	c, err := net.DialTimeout("tcp", s.HTTPAddr, time.Second)
	if err != nil {
		t.Fatalf("HTTP port: %v", err)
	}
	c.Close()
}
