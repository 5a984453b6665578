package files

import (
	"context"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults of [FetchOptions].
const (
	DefaultFetchTimeout = 2 * time.Minute
	DefaultMaxRedirects = 5
)

// FetchOptions configures a [Fetcher].
type FetchOptions struct {
	// AllowPrivate lets downloads reach loopback, private, link-local and other non-public
	// addresses (tests and demos that run everything on one machine). Never in production: a
	// plugin would reach the gateway's own network.
	AllowPrivate bool
	// Timeout bounds a whole download, body included; default DefaultFetchTimeout.
	Timeout time.Duration
	// MaxRedirects is how many redirects a download follows; default DefaultMaxRedirects.
	MaxRedirects int
	// UserAgent is sent with each request; default "xmppgw".
	UserAgent string
}

// Fetcher downloads URLs into a [Store] for file.fetch. It is safe for concurrent use.
type Fetcher struct {
	o            FetchOptions
	allowPrivate atomic.Bool
	dialer       *net.Dialer
	transport    *http.Transport
	client       *http.Client
}

// NewFetcher returns a Fetcher.
func NewFetcher(o FetchOptions) *Fetcher {
	if o.Timeout <= 0 {
		o.Timeout = DefaultFetchTimeout
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.UserAgent == "" {
		o.UserAgent = "xmppgw"
	}
	f := &Fetcher{o: o}
	f.allowPrivate.Store(o.AllowPrivate)
	dialer := &net.Dialer{
		Timeout:   15 * time.Second,
		KeepAlive: 30 * time.Second,
		// Every address actually dialled is checked, after name resolution: a name that resolves
		// to a private address, a redirect to one, and DNS rebinding are all refused here.
		Control: func(network, address string, _ syscall.RawConn) error {
			if f.allowPrivate.Load() {
				return nil
			}
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return errorf(ErrForbidden, "%s is not an address", address)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return errorf(ErrForbidden, "%s is not an address", address)
			}
			if why := nonPublic(ip); why != "" {
				return errorf(ErrForbidden, "%s is %s", ip.Unmap(), why)
			}
			return nil
		},
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would be dialled instead of the checked address
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          32,
	}
	f.dialer, f.transport = dialer, tr
	f.client = &http.Client{
		Transport: tr,
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > f.o.MaxRedirects {
				return errorf(ErrUnavailable, "more than %d redirects", f.o.MaxRedirects)
			}
			if _, err := f.CheckURL(req.URL.String()); err != nil {
				return err
			}
			return nil
		},
	}
	return f
}

// SetAllowPrivate changes FetchOptions.AllowPrivate for the downloads that start after it.
func (f *Fetcher) SetAllowPrivate(allow bool) { f.allowPrivate.Store(allow) }

// AllowPrivate reports whether non-public addresses are allowed.
func (f *Fetcher) AllowPrivate() bool { return f.allowPrivate.Load() }

// CheckURL parses raw and checks what can be checked before any name resolution: the scheme
// (ErrBadURL) and an address written in the URL (ErrForbidden). file.fetch runs it at call time.
func (f *Fetcher) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errorf(ErrBadURL, "bad URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errorf(ErrBadURL, "%q is not an http or https URL", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, errorf(ErrBadURL, "no host in %q", raw)
	}
	if f.allowPrivate.Load() {
		return u, nil
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if why := nonPublic(ip); why != "" {
			return nil, errorf(ErrForbidden, "%s is %s", ip.Unmap(), why)
		}
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return nil, errorf(ErrForbidden, "%s is a loopback name", host)
	}
	return u, nil
}

// Fetch downloads rawURL into a new handle of user in st, reading at most max bytes (0: the
// user's quota only). The name comes from Content-Disposition or the URL's last path element,
// the type from Content-Type, or from the content when the server gives none or a generic one.
func (f *Fetcher) Fetch(ctx context.Context, st *Store, user, rawURL string, max int64) (File, error) {
	u, err := f.CheckURL(rawURL)
	if err != nil {
		return File{}, err
	}
	if _, err := st.Room(user); err != nil {
		return File{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return File{}, errorf(ErrBadURL, "bad URL: %v", err)
	}
	req.Header.Set("User-Agent", f.o.UserAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		return File{}, f.wrap(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return File{}, errorf(ErrUnavailable, "%s answered %s", u.Host, resp.Status)
	}
	if max > 0 && resp.ContentLength > max {
		return File{}, errorf(ErrTooLarge, "the file has %d bytes, more than the %d byte cap", resp.ContentLength, max)
	}
	meta := Meta{Type: resp.Header.Get("Content-Type"), Name: fileName(resp)}
	file, err := st.Create(user, resp.Body, meta, max)
	if err != nil {
		if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrQuota) {
			return File{}, err
		}
		return File{}, f.wrap(err)
	}
	return file, nil
}

// wrap classifies a download error: a refused address stays ErrForbidden, a bad redirect
// ErrBadURL, anything else (refused connection, timeout, broken stream) is ErrUnavailable.
func (f *Fetcher) wrap(err error) error {
	var ke *kindError
	if errors.As(err, &ke) {
		return ke // drop the method, URL and dial details around it: the plugin knows them
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return errorf(ErrUnavailable, "timed out (the limit is %s)", f.o.Timeout)
	}
	return errorf(ErrUnavailable, "download failed: %v", err)
}

// fileName is the name a download is known by.
func fileName(resp *http.Response) string {
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		return CleanName(params["filename"])
	}
	p := resp.Request.URL.Path
	if p == "" || strings.HasSuffix(p, "/") {
		return ""
	}
	return CleanName(path.Base(p))
}

// Address ranges that are not the public internet, with what the error calls them.
var nonPublicRanges = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
}

// nonPublic says why ip is not a public unicast address, or "" if it is. An IPv4 address
// embedded in IPv6 (mapped, NAT64, 6to4) is judged as the IPv4 address.
func nonPublic(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case netip.MustParsePrefix("64:ff9b::/96").Contains(ip): // NAT64
			return nonPublic(netip.AddrFrom4([4]byte(b[12:16])))
		case netip.MustParsePrefix("2002::/16").Contains(ip): // 6to4
			return nonPublic(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	switch {
	case !ip.IsValid():
		return "not an address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	case ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	}
	for _, r := range nonPublicRanges {
		if r.prefix.Contains(ip) {
			return r.what
		}
	}
	return ""
}
