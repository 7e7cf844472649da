package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/notify"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
)

// The Standard Webhooks test vector: a receiver that follows the
// specification computes this signature for this message.
func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	const (
		secretText = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id         = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		body       = `{"test": 2432232314}`
		want       = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	ts := time.Unix(1614265330, 0)
	got, err := notify.Sign(secretText, id, ts, []byte(body))
	if err != nil || got != want {
		t.Fatalf("Sign = %q, %v; want %q", got, err, want)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,bm90LXRoaXM= "+want)
	if err := notify.Verify(secretText, h, []byte(body), ts.Add(time.Minute)); err != nil {
		t.Errorf("Verify: %v", err)
	}
	for name, c := range map[string]struct {
		body string
		now  time.Time
	}{
		"tampered body": {body + " ", ts},
		"replayed late": {body, ts.Add(notify.Tolerance + time.Second)},
	} {
		if err := notify.Verify(secretText, h, []byte(c.body), c.now); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if err := notify.Verify(notify.NewSecret(), h, []byte(body), ts); err == nil {
		t.Error("another secret verified")
	}
}

// ExampleVerify is how a receiver checks a PhantomOS webhook: read the
// raw body, then verify it with the endpoint's secret before trusting it.
func ExampleVerify() {
	secretText := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // shown once when the rule was made
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if err := notify.Verify(secretText, r.Header, body, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Deliveries are retried: drop a webhook-id already handled.
		fmt.Println("verified", r.Header.Get("webhook-id"))
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	notify.Sender{AllowPrivate: true}.SendWebhook(context.Background(), srv.URL, secretText, "01-example", time.Now(), map[string]any{"alerts": []any{}})
	// Output: verified 01-example
}

func TestCheckTargetRefusesPrivateAddressesInProduction(t *testing.T) {
	prod := notify.Sender{}
	for _, u := range []string{"https://127.0.0.1/x", "https://localhost/x", "https://10.1.2.3/x", "https://192.168.0.1/", "https://[::1]/",
		"https://169.254.169.254/latest", "http://hooks.example.com/x", "ftp://x", "https://user:pw@example.com/", "https://example.com/" + strings.Repeat("a", 600)} {
		if _, err := prod.CheckTarget(u); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("CheckTarget(%.60q) = %v, want EINVALID", u, err)
		}
	}
	if _, err := prod.CheckTarget("https://hooks.example.com/x"); err != nil {
		t.Errorf("public URL refused: %v", err)
	}
	if _, err := (notify.Sender{AllowPrivate: true}).CheckTarget("http://127.0.0.1:8080/x"); err != nil {
		t.Errorf("loopback refused with AllowPrivate: %v", err)
	}
}

func TestPostReadsABoundedResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write(bytes.Repeat([]byte("x"), 1<<20))
	}))
	defer srv.Close()
	err := notify.Sender{AllowPrivate: true}.Post(context.Background(), srv.URL+"/secret-path", nil, []byte("{}"))
	if err == nil || !strings.Contains(err.Error(), "502") || len(err.Error()) > 400 || strings.Contains(err.Error(), "secret-path") {
		t.Errorf("error %.300q", err)
	}
}

func TestMatches(t *testing.T) {
	asset, ip := phantomos.NewID(), phantomos.NewID()
	p := &store.NotifyPref{Kinds: []string{"risk"}, MinConfidence: 0.6}
	cases := []struct {
		name  string
		p     *store.NotifyPref
		typ   string
		conf  float64
		subj  notify.Subject
		match bool
	}{
		{"risk above the bar", p, store.InsightRisk, 0.7, notify.Subject{}, true},
		{"risk below the bar", p, store.InsightRisk, 0.5, notify.Subject{}, false},
		{"trend not chosen", p, store.InsightTrend, 0.9, notify.Subject{}, false},
		{"asset in scope", &store.NotifyPref{Kinds: []string{"risk"}, Assets: []string{asset}}, store.InsightRisk, 1, notify.Subject{Assets: []string{asset}}, true},
		{"asset's game IP in scope", &store.NotifyPref{Kinds: []string{"risk"}, GameIPs: []string{ip}}, store.InsightRisk, 1, notify.Subject{Assets: []string{asset}, GameIPs: []string{ip}}, true},
		{"out of scope", &store.NotifyPref{Kinds: []string{"risk"}, GameIPs: []string{ip}}, store.InsightRisk, 1, notify.Subject{}, false},
		{"opportunity covers recommendations", &store.NotifyPref{Kinds: []string{"opportunity"}}, store.InsightRecommendation, 1, notify.Subject{}, true},
	}
	for _, c := range cases {
		if got := notify.Matches(c.p, c.typ, c.conf, c.subj); got != c.match {
			t.Errorf("%s: %v, want %v", c.name, got, c.match)
		}
	}
}

func TestSlackMessageIsBlockKitWithEvidenceLinks(t *testing.T) {
	b, err := notify.SlackMessage("", []notify.Alert{{Kind: "risk", Title: "Wren <declines>", Description: "Down 30%.", Confidence: 0.8, Link: "https://app.test/intelligence#i1"}})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type      string `json:"type"`
			Text      struct{ Type, Text string }
			Accessory struct{ Type, URL string }
		} `json:"blocks"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Text != "Wren <declines>" || len(m.Blocks) != 3 || m.Blocks[0].Type != "header" || m.Blocks[1].Type != "section" ||
		m.Blocks[1].Accessory.URL != "https://app.test/intelligence#i1" || !strings.Contains(m.Blocks[1].Text.Text, "Wren &lt;declines&gt;") {
		t.Errorf("message %s", b)
	}
}

func TestUnsubscribeToken(t *testing.T) {
	keys, err := secret.Parse(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	pub, user := phantomos.PublisherID(phantomos.NewID()), phantomos.NewID()
	tok, err := notify.UnsubscribeToken(keys, pub, user)
	if err != nil {
		t.Fatal(err)
	}
	gp, gu, err := notify.OpenUnsubscribeToken(keys, tok)
	if err != nil || gp != pub || gu != user {
		t.Errorf("open: %v %v %v", gp, gu, err)
	}
	other, _ := secret.Parse(secret.Generate())
	flipped := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
	for name, c := range map[string]struct {
		keys *secret.Keyring
		tok  string
	}{"other keys": {other, tok}, "tampered": {keys, flipped}, "empty": {keys, ""}, "garbage": {keys, "x.y"}} {
		if _, _, err := notify.OpenUnsubscribeToken(c.keys, c.tok); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWeeklyEmailHasTextHTMLAndPNG(t *testing.T) {
	p := &notify.Payload{To: "a@b.test", Unsubscribe: "https://app.test/unsubscribe?t=x", Settings: "https://app.test/settings/notifications",
		Weekly: &notify.Weekly{Publisher: "Nebula", Currency: "USD", From: "2026-11-30", To: "2026-12-06", Net: 123456, PrevNet: 100000,
			Days: []notify.DayAmount{{"2026-11-30", 100}, {"2026-12-01", 0}, {"2026-12-02", 300}}, TopAssets: []notify.Named{{Name: "Wren", Amount: 5000, Link: "https://app.test/assets/1"}}}}
	m, err := notify.WeeklyEmail(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Body, "USD 1,234.56 (+23.5% on the week before)") || !strings.Contains(m.HTML, `src="cid:chart"`) ||
		!strings.Contains(m.Body, p.Unsubscribe) || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Errorf("email:\n%s\n%s", m.Body, m.HTML)
	}
	img, err := png.Decode(bytes.NewReader(m.Parts[0].Data))
	if err != nil || img.Bounds().Dx() != 480 {
		t.Fatalf("chart: %v", err)
	}
	// The tallest bar (day 3) reaches higher than day 1's.
	top := func(x0, x1 int) int {
		for y := 0; y < 160; y++ {
			for x := x0; x < x1; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x3000 {
					return y
				}
			}
		}
		return 160
	}
	if !(top(320, 470) < top(8, 160)) || top(160, 320) != 160 {
		t.Errorf("bars: day1 top %d, day2 %d, day3 %d", top(8, 160), top(160, 320), top(320, 470))
	}
}
