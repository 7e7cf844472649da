package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func notifyUser(t *testing.T, s *store.Store, pub *phantomos.Publisher, email string) *phantomos.User {
	t.Helper()
	u := &phantomos.User{Email: email, Name: email, Role: phantomos.RoleMember}
	if err := s.CreateUser(context.Background(), pub.ID, u, ""); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNotifyPrefsDeliveriesAndTenancy(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newInsightPublisher(t, s, "alpha")
		b := newInsightPublisher(t, s, "beta")
		ua := notifyUser(t, s, a, "ann@alpha.test")
		ub := notifyUser(t, s, b, "bob@beta.test")

		p := &store.NotifyPref{UserID: ua.ID, Kinds: []string{"risk", "trend"}, Assets: []string{phantomos.NewID()}, MinConfidence: 0.5,
			Channel: store.ChannelWebhook, Target: "https://hooks.example/x", Secret: []byte{1, 2, 3}, SecretKeyID: "k1", Rhythm: store.RhythmImmediate}
		if err := s.CreateNotifyPref(ctx, a.ID, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.NotifyPref(ctx, a.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(p, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("pref (-want +got):\n%s", diff)
		}
		if _, err := s.NotifyPref(ctx, b.ID, p.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's rule as B: %v, want not found", err)
		}
		if err := s.DeleteNotifyPref(ctx, b.ID, ub.ID, p.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("delete A's rule as B: %v, want not found", err)
		}
		if l, _ := s.NotifyPrefs(ctx, b.ID, ""); len(l) != 0 {
			t.Errorf("B's rules: %d, want none", len(l))
		}
		for i := 1; i < store.MaxNotifyPrefsPerUser; i++ {
			q := *p
			if err := s.CreateNotifyPref(ctx, a.ID, &q); err != nil {
				t.Fatal(err)
			}
		}
		q := *p
		if err := s.CreateNotifyPref(ctx, a.ID, &q); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			t.Errorf("rule past the bound: %v, want conflict", err)
		}

		// One delivery per key; a fingerprint is covered once per rule.
		d := &store.Delivery{PrefID: p.ID, UserID: ua.ID, DedupKey: "alert:" + p.ID + ":fp1", Kind: store.DeliveryAlert, Channel: p.Channel, Payload: json.RawMessage(`{"a":1}`)}
		if added, err := s.AddDelivery(ctx, a.ID, d, []string{"fp1"}); err != nil || !added {
			t.Fatalf("first delivery: %v %v", added, err)
		}
		again := &store.Delivery{PrefID: p.ID, UserID: ua.ID, DedupKey: d.DedupKey, Kind: store.DeliveryAlert, Channel: p.Channel, Payload: json.RawMessage(`{}`)}
		if added, err := s.AddDelivery(ctx, a.ID, again, []string{"fp1"}); err != nil || added {
			t.Errorf("same key again: added %v %v", added, err)
		}
		digest := &store.Delivery{PrefID: p.ID, UserID: ua.ID, DedupKey: "digest:x", Kind: store.DeliveryDigest, Channel: p.Channel, Payload: json.RawMessage(`{}`)}
		if added, err := s.AddDelivery(ctx, a.ID, digest, []string{"fp2", "fp1"}); err != nil || added {
			t.Errorf("digest repeating fp1: added %v %v", added, err)
		}
		cov, err := s.CoveredAlerts(ctx, a.ID, p.ID)
		if err != nil || !cmp.Equal(cov, map[string]bool{"fp1": true}) {
			t.Errorf("covered %v %v", cov, err)
		}
		if _, err := s.Delivery(ctx, b.ID, d.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's delivery as B: %v", err)
		}
		if err := s.DeliveryAttempt(ctx, a.ID, d.ID, "connection refused", false); err != nil {
			t.Fatal(err)
		}
		if err := s.DeliveryAttempt(ctx, a.ID, d.ID, "", false); err != nil {
			t.Fatal(err)
		}
		// A late failure does not undo a success.
		if err := s.DeliveryAttempt(ctx, a.ID, d.ID, "late", true); err != nil {
			t.Fatal(err)
		}
		got2, _ := s.Delivery(ctx, a.ID, d.ID)
		if got2.Status != store.DeliverySent || got2.Attempts != 2 || got2.SentAt == nil {
			t.Errorf("delivery after retry: %+v", got2)
		}
		if l, _ := s.UserDeliveries(ctx, b.ID, ua.ID, 10); len(l) != 0 {
			t.Errorf("A's user's deliveries as B: %d", len(l))
		}

		// Weekly digest subscription.
		if err := s.SetWeeklyDigest(ctx, a.ID, ua.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetWeeklyDigest(ctx, b.ID, ua.ID, true); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's user subscribed through B: %v", err)
		}
		if l, _ := s.WeeklyDigestUsers(ctx, a.ID); len(l) != 1 || l[0].Email != ua.Email {
			t.Errorf("digest users: %+v", l)
		}
		if l, _ := s.WeeklyDigestUsers(ctx, b.ID); len(l) != 0 {
			t.Errorf("B's digest users: %+v", l)
		}
		if err := s.SetWeeklyDigest(ctx, a.ID, ua.ID, false); err != nil {
			t.Fatal(err)
		}
		if nu, _ := s.NotifyUser(ctx, a.ID, ua.ID); nu.WeeklyDigest || nu.UnsubscribedAt == nil {
			t.Errorf("after unsubscribe: %+v", nu)
		}

		// Reports.
		rp := &store.Report{CreatedBy: ua.ID, Name: "Weekly assets", View: "assets", Query: "period=last_30_days", Schedule: "weekly", Recipients: []string{ua.Email}}
		if err := s.CreateReport(ctx, a.ID, rp); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.Reports(ctx, b.ID); len(l) != 0 {
			t.Errorf("B's reports: %d", len(l))
		}
		if err := s.DeleteReport(ctx, b.ID, rp.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("delete A's report as B: %v", err)
		}
		if l, _ := s.Reports(ctx, a.ID); len(l) != 1 || l[0].Name != rp.Name {
			t.Errorf("A's reports: %+v", l)
		}
	})
}
