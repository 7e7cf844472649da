package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/phantomos/phantomos"
)

// Outbound webhooks follow the Standard Webhooks specification
// (standardwebhooks.com): three headers,
//
//	webhook-id:        the message's stable id (the same on every retry)
//	webhook-timestamp: seconds since the Unix epoch of this attempt
//	webhook-signature: "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body))
//
// where key is the base64 part of the endpoint's secret "whsec_…". A
// receiver recomputes the signature over the raw body, compares in
// constant time and refuses timestamps far from its clock (see Verify).

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh signing secret: whsec_ and 32 random bytes in
// base64.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || !strings.HasPrefix(secret, SecretPrefix) || len(key) < 24 {
		return nil, errors.New("notify: signing secret must be whsec_ and base64")
	}
	return key, nil
}

// Sign returns the webhook-signature header of body sent as message id
// at ts.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.", id, ts.Unix())
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}

// Tolerance is how far a webhook's timestamp may be from the receiver's
// clock before Verify refuses it as a replay.
const Tolerance = 5 * time.Minute

// Verify is what a receiver does with a delivery: it checks the
// signature of body under headers h with secret, and that the timestamp
// is within Tolerance of now. The header may hold several space-separated
// signatures (during a secret rotation); one match is enough.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, tsText, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsText == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return errors.New("bad webhook-timestamp")
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > Tolerance || d < -Tolerance {
		return errors.New("webhook-timestamp too far from now")
	}
	want, err := Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("no signature matches")
}

// Sender posts webhooks. AllowPrivate lets it reach loopback and private
// addresses, which production refuses (a webhook URL must not reach the
// server's own network); only tests set it.
type Sender struct {
	AllowPrivate bool
	Timeout      time.Duration // per request (default 10s)
}

// maxResponse is how much of a receiver's response is read: enough for
// an error message on the settings page.
const maxResponse = 2048

// CheckTarget checks a webhook URL: absolute http(s), at most
// MaxURLLength, and (unless s.AllowPrivate) https to a host that is not
// an IP literal of loopback or a private network.
func (s Sender) CheckTarget(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLength {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The URL is longer than %d characters.", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, phantomos.Errorf(phantomos.EINVALID, "%q is not an http or https URL.", truncate(raw, 80))
	}
	if s.AllowPrivate {
		return u, nil
	}
	if u.Scheme != "https" {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The URL must use https.")
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".internal") || strings.HasSuffix(host, ".local") {
		return nil, phantomos.Errorf(phantomos.EINVALID, "%s is a local address: webhooks go to public addresses only.", host)
	}
	if ip, err := netip.ParseAddr(host); err == nil && !public(ip) {
		return nil, phantomos.Errorf(phantomos.EINVALID, "%s is a loopback or private address: webhooks go to public addresses only.", host)
	}
	return u, nil
}

// public reports whether ip is a public unicast address.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(ip) && !netip.MustParsePrefix("fc00::/7").Contains(ip)
}

// client returns the HTTP client of s: no redirects, a timeout, and
// (unless AllowPrivate) a dialer that refuses non-public addresses after
// DNS resolution, so that a name resolving to a private address is
// refused too.
func (s Sender) client() *http.Client {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	d := &net.Dialer{Timeout: timeout}
	if !s.AllowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !public(ap.Addr()) {
				return fmt.Errorf("notify: %s is not a public address", address)
			}
			return nil
		}
	}
	return &http.Client{
		Timeout:       timeout,
		Transport:     &http.Transport{DialContext: d.DialContext, Proxy: nil, MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Post sends body to target as JSON with headers, and returns an error
// naming the status and the start of the response unless it is 2xx.
func (s Sender) Post(ctx context.Context, target string, headers map[string]string, body []byte) error {
	if _, err := s.CheckTarget(target); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "PhantomOS-Webhooks/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", redact(target), errors.Unwrap(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", redact(target), resp.Status, truncate(strings.TrimSpace(string(b)), 200))
	}
	return nil
}

// redact returns target without its path and query (a Slack URL's path
// is its secret).
func redact(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return "webhook"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// SendWebhook posts the alerts as a signed Standard Webhooks message:
// {"type": "insights.alert", "timestamp": …, "data": {"alerts": […]}}.
// msgID is the delivery's stable id, the same on every retry, so that a
// receiver can drop a repeat.
func (s Sender) SendWebhook(ctx context.Context, target, secret, msgID string, now time.Time, data any) error {
	body, err := webhookBody(now, data)
	if err != nil {
		return err
	}
	sig, err := Sign(secret, msgID, now, body)
	if err != nil {
		return err
	}
	return s.Post(ctx, target, map[string]string{
		"webhook-id": msgID, "webhook-timestamp": strconv.FormatInt(now.Unix(), 10), "webhook-signature": sig,
	}, body)
}
