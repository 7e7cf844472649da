package platform

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
)

// nonces is a NonceStore in memory.
type nonces struct {
	mu  sync.Mutex
	m   map[string]time.Time
	now func() time.Time
}

func (n *nonces) PutOAuthNonce(_ context.Context, pub phantomos.PublisherID, nonce string, exp time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.m[string(pub)+"|"+nonce] = exp
	return nil
}

func (n *nonces) ConsumeOAuthNonce(_ context.Context, pub phantomos.PublisherID, nonce string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	exp, ok := n.m[string(pub)+"|"+nonce]
	delete(n.m, string(pub)+"|"+nonce)
	return ok && !n.now().After(exp), nil
}

// clockHost is the part of Host the state functions use.
type clockHost struct {
	Host
	now    time.Time
	nonces *nonces
}

func (h *clockHost) Now() time.Time     { return h.now }
func (h *clockHost) Nonces() NonceStore { return h.nonces }

func TestOAuthStateSignedSingleUseAndExpiring(t *testing.T) {
	ctx := context.Background()
	h := &clockHost{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	h.nonces = &nonces{m: map[string]time.Time{}, now: func() time.Time { return h.now }}
	key := StateKey("amazon", "app-secret")
	want := OAuthState{Publisher: "pub-a", UserID: "user-1", ConnectorID: "c-9", Data: "EU"}
	issue := func() string {
		t.Helper()
		s, err := IssueState(ctx, h, key, want)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	s := issue()
	st, err := OpenState(ctx, h, key, "Amazon", s)
	if err != nil || st.Publisher != want.Publisher || st.UserID != want.UserID || st.ConnectorID != want.ConnectorID || st.Data != want.Data {
		t.Fatalf("OpenState = %+v, %v", st, err)
	}
	if _, err := OpenState(ctx, h, key, "Amazon", s); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
		t.Errorf("a used state opened again: %v", err)
	}

	// Forged: the payload changed (another publisher), the signature of
	// another platform's key, garbage.
	s = issue()
	p64, sig, _ := strings.Cut(s, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(p64)
	forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "pub-a", "pub-b", 1))) + "." + sig
	other, _ := IssueState(ctx, h, StateKey("shopify", "app-secret"), want)
	for name, bad := range map[string]string{"payload changed": forged, "other platform": other, "garbage": "abc", "empty": "", "long": strings.Repeat("a.", 2000)} {
		if _, err := OpenState(ctx, h, key, "Amazon", bad); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The refused attempts did not use up the genuine state.
	if _, err := OpenState(ctx, h, key, "Amazon", s); err != nil {
		t.Errorf("genuine state after forgeries: %v", err)
	}

	s = issue()
	h.now = h.now.Add(StateTTL + time.Second)
	if _, err := OpenState(ctx, h, key, "Amazon", s); phantomos.ErrorCode(err) != phantomos.EUNAUTHORIZED || !strings.Contains(phantomos.ErrorMessage(err), "took too long") {
		t.Errorf("expired state: %v", err)
	}

	a := &phantomos.Actor{PublisherID: "pub-a", UserID: "user-1", Role: phantomos.RoleAdmin}
	if err := want.CheckActor(a, "Amazon"); err != nil {
		t.Errorf("the starter: %v", err)
	}
	for name, tc := range map[string]struct {
		a    *phantomos.Actor
		code string
	}{
		"signed out": {nil, phantomos.EUNAUTHORIZED},
		"analyst":    {&phantomos.Actor{PublisherID: "pub-a", UserID: "user-1", Role: phantomos.RoleAnalyst}, phantomos.EFORBIDDEN},
		"colleague":  {&phantomos.Actor{PublisherID: "pub-a", UserID: "user-2", Role: phantomos.RoleOwner}, phantomos.EINVALID},
		"other org":  {&phantomos.Actor{PublisherID: "pub-b", UserID: "user-1", Role: phantomos.RoleOwner}, phantomos.EINVALID},
	} {
		if err := want.CheckActor(tc.a, "Amazon"); phantomos.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}
