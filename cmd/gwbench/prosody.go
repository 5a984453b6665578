package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// xmppServer is where the clients and the component connect.
type xmppServer struct {
	domain    string
	c2s       string // host:port
	component string // host:port
	secret    string // of the component
	proc      *proc  // nil when the driver was pointed at a running server
	dir       string
	cfg       string // prosody.cfg.lua
	env       []string
}

// startProsody writes a fresh Prosody folder under dir (config from cfgFile, a certificate
// generated here, free loopback ports), registers users with prosodyctl and starts the server.
// With noMAM, "mam" is removed from the configuration's modules.
func startProsody(dir, cfgFile, domain string, users []string, password string, noMAM bool) (*xmppServer, error) {
	bin, err := exec.LookPath("prosody")
	if err != nil {
		return nil, fmt.Errorf("prosody is not installed (make deps): %w", err)
	}
	ctl, err := exec.LookPath("prosodyctl")
	if err != nil {
		return nil, fmt.Errorf("prosodyctl is not installed (make deps): %w", err)
	}
	cfgText, err := os.ReadFile(cfgFile)
	if err != nil {
		return nil, fmt.Errorf("prosody configuration: %w", err)
	}
	if noMAM {
		cfgText = bytes.ReplaceAll(cfgText, []byte(`"mam";`), nil)
		if bytes.Contains(cfgText, []byte(`"mam"`)) {
			return nil, errors.New("-no-mam: cannot remove \"mam\" from the modules of " + cfgFile)
		}
	}
	s := &xmppServer{domain: domain, dir: dir, secret: randomHex(16), cfg: filepath.Join(dir, "prosody.cfg.lua")}
	for _, d := range []string{filepath.Join(dir, "certs"), filepath.Join(dir, "data")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, err
		}
	}
	cert, key, err := selfSigned(domain)
	if err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{
		filepath.Join(dir, "certs", domain+".crt"): cert,
		filepath.Join(dir, "certs", domain+".key"): key,
		s.cfg: cfgText,
	} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return nil, err
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	s.c2s = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	s.component = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	s.env = append(os.Environ(),
		"GW_XMPP_DIR="+dir,
		"GW_C2S_PORT="+strconv.Itoa(ports[0]),
		"GW_COMPONENT_PORT="+strconv.Itoa(ports[1]),
		"GW_HTTP_PORT="+strconv.Itoa(ports[2]),
		"GW_SECRET="+s.secret,
	)

	// prosodyctl takes about 0.15 s per user: a few at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	errs := make(chan error, len(users))
	for _, u := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cmd := exec.Command(ctl, "--config", s.cfg, "register", u, domain, password)
			cmd.Env, cmd.Dir = s.env, dir
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("prosodyctl register %s@%s: %v\n%s", u, domain, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}

	cmd := exec.Command(bin, "-F", "--config", s.cfg)
	cmd.Env, cmd.Dir = s.env, dir
	if s.proc, err = startProc("prosody", cmd, filepath.Join(dir, "prosody.stdout")); err != nil {
		return nil, err
	}
	for _, a := range []string{s.c2s, s.component} {
		if err := waitPort(a, s.proc, 15*time.Second); err != nil {
			s.stop()
			return nil, fmt.Errorf("prosody: %w\n%s", err, tail(filepath.Join(dir, "prosody.log"), 30))
		}
	}
	return s, nil
}

func (s *xmppServer) stop() {
	if s.proc != nil {
		s.proc.stop(5 * time.Second)
	}
}

// selfSigned returns a PEM certificate and key for domain and *.domain. RSA, because Prosody
// 0.12's default cipher list excludes ECDSA authentication for TLS 1.2.
func selfSigned(domain string) (certPEM, keyPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: domain},
		DNSNames:              []string{domain, "*." + domain},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
