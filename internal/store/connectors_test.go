package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func TestConnectorCredentialsAndStatus(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Shop"}
		if err := s.CreateConnector(ctx, a.pub.ID, c); err != nil {
			t.Fatal(err)
		}

		if _, _, err := s.ConnectorCredentials(ctx, a.pub.ID, c.ID); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("credentials before connecting: got %v, want invalid", err)
		}
		ct := []byte{1, 0, 0xff, 7, 42}
		if err := s.SaveConnectorCredentials(ctx, a.pub.ID, c.ID, ct, "k1"); err != nil {
			t.Fatal(err)
		}
		got, keyID, err := s.ConnectorCredentials(ctx, a.pub.ID, c.ID)
		if err != nil || !bytes.Equal(got, ct) || keyID != "k1" {
			t.Fatalf("ConnectorCredentials = %v, %q, %v", got, keyID, err)
		}

		// Status and error.
		if err := s.SetConnectorStatus(ctx, a.pub.ID, c.ID, store.ConnectorError, "Shopify rejected the access token (401): reconnect the store."); err != nil {
			t.Fatal(err)
		}
		gc, err := s.Connector(ctx, a.pub.ID, c.ID)
		if err != nil || gc.Status != store.ConnectorError || gc.LastError == "" || gc.Name != "Shop" || gc.Type != phantomos.ConnectorShopify {
			t.Fatalf("Connector = %+v, %v", gc, err)
		}
		if err := s.SetConnectorStatus(ctx, a.pub.ID, c.ID, "bogus", ""); err == nil {
			t.Error("bogus status accepted")
		}
		// Reconnecting (new credentials) clears the error until tested.
		if err := s.SaveConnectorCredentials(ctx, a.pub.ID, c.ID, []byte{9, 9}, "k2"); err != nil {
			t.Fatal(err)
		}
		if gc, _ := s.Connector(ctx, a.pub.ID, c.ID); gc.Status != store.ConnectorPending || gc.LastError != "" {
			t.Errorf("after reconnect: %+v", gc)
		}

		// Cursor.
		if cur, err := s.ConnectorCursor(ctx, a.pub.ID, c.ID); err != nil || string(cur) != "{}" {
			t.Errorf("initial cursor = %s, %v", cur, err)
		}
		want := map[string]any{"orders": map[string]any{"page": "abc", "since": "2026-01-01T00:00:00Z"}}
		wb, _ := json.Marshal(want)
		if err := s.SaveConnectorCursor(ctx, a.pub.ID, c.ID, wb); err != nil {
			t.Fatal(err)
		}
		cur, err := s.ConnectorCursor(ctx, a.pub.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var gotCur map[string]any
		if err := json.Unmarshal(cur, &gotCur); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, gotCur); diff != "" {
			t.Errorf("cursor (-want +got):\n%s", diff)
		}
		if err := s.SaveConnectorCursor(ctx, a.pub.ID, c.ID, []byte("{not json")); err == nil {
			t.Error("invalid cursor accepted")
		}

		// Tenant isolation: B sees none of A's connector.
		ctB := []byte("B")
		for name, err := range map[string]error{
			"Connector":                func() error { _, err := s.Connector(ctx, b.pub.ID, c.ID); return err }(),
			"ConnectorCredentials":     func() error { _, _, err := s.ConnectorCredentials(ctx, b.pub.ID, c.ID); return err }(),
			"SaveConnectorCredentials": s.SaveConnectorCredentials(ctx, b.pub.ID, c.ID, ctB, "k1"),
			"SetConnectorStatus":       s.SetConnectorStatus(ctx, b.pub.ID, c.ID, store.ConnectorActive, ""),
			"ConnectorCursor":          func() error { _, err := s.ConnectorCursor(ctx, b.pub.ID, c.ID); return err }(),
			"SaveConnectorCursor":      s.SaveConnectorCursor(ctx, b.pub.ID, c.ID, []byte(`{}`)),
			"DisconnectConnector":      s.DisconnectConnector(ctx, b.pub.ID, c.ID),
			"StartSyncRun":             func() error { _, err := s.StartSyncRun(ctx, b.pub.ID, c.ID); return err }(),
			"SyncRuns":                 nil,
			"malformed id":             func() error { _, err := s.Connector(ctx, a.pub.ID, "x"); return err }(),
		} {
			if name == "SyncRuns" {
				runs, err := s.SyncRuns(ctx, b.pub.ID, c.ID, 0)
				if err != nil || len(runs) != 0 {
					t.Errorf("SyncRuns as B = %v, %v", runs, err)
				}
				continue
			}
			if phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
				t.Errorf("%s as B: got %v, want not found", name, err)
			}
		}
		// …and A's row is unchanged by B's attempts.
		if got, keyID, _ := s.ConnectorCredentials(ctx, a.pub.ID, c.ID); !bytes.Equal(got, []byte{9, 9}) || keyID != "k2" {
			t.Errorf("A's credentials changed by B: %v %q", got, keyID)
		}

		// Disconnect wipes credentials and cursor.
		if err := s.DisconnectConnector(ctx, a.pub.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ConnectorCredentials(ctx, a.pub.ID, c.ID); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("credentials after disconnect: %v", err)
		}
		var raw []byte
		var rawKey string
		if err := s.DB().QueryRowContext(ctx, `SELECT credentials, credentials_key_id FROM connectors WHERE id = $1`, c.ID).Scan(&raw, &rawKey); err != nil {
			t.Fatal(err)
		}
		if raw != nil || rawKey != "" {
			t.Errorf("credentials not wiped: %v %q", raw, rawKey)
		}
		if cur, _ := s.ConnectorCursor(ctx, a.pub.ID, c.ID); string(cur) != "{}" {
			t.Errorf("cursor after disconnect = %s", cur)
		}
		if gc, _ := s.Connector(ctx, a.pub.ID, c.ID); gc.Status != store.ConnectorDisconnected {
			t.Errorf("status after disconnect = %q", gc.Status)
		}
		if _, err := s.StartSyncRun(ctx, a.pub.ID, c.ID); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("sync of a disconnected connector: %v", err)
		}
	})
}

func TestSyncRuns(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s.SetClock(func() time.Time { return now })
		c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Shop"}
		if err := s.CreateConnector(ctx, a.pub.ID, c); err != nil {
			t.Fatal(err)
		}
		s.SetConnectorStatus(ctx, a.pub.ID, c.ID, store.ConnectorError, "old error")

		// A run that a killed process left running is closed by the next start.
		stale, err := s.StartSyncRun(ctx, a.pub.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateSyncRun(ctx, a.pub.ID, stale.ID, store.SyncCounts{Seen: 5, Inserted: 5}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
		run, err := s.StartSyncRun(ctx, a.pub.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.SyncRun(ctx, a.pub.ID, stale.ID)
		if err != nil || got.State != store.SyncFailed || got.Error == "" || got.Counts.Seen != 5 || got.FinishedAt == nil {
			t.Errorf("stale run = %+v, %v", got, err)
		}

		now = now.Add(90 * time.Second)
		counts := store.SyncCounts{Seen: 10, Inserted: 7, Updated: 2, Skipped: 1}
		if err := s.FinishSyncRun(ctx, a.pub.ID, run.ID, store.SyncSucceeded, counts, ""); err != nil {
			t.Fatal(err)
		}
		got, err = s.SyncRun(ctx, a.pub.ID, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := &store.SyncRun{ID: run.ID, ConnectorID: c.ID, State: store.SyncSucceeded, StartedAt: run.StartedAt, FinishedAt: &now, Counts: counts}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("finished run (-want +got):\n%s", diff)
		}
		if d := got.Duration(now); d != 90*time.Second {
			t.Errorf("duration = %v", d)
		}
		conn, _ := s.Connector(ctx, a.pub.ID, c.ID)
		if conn.Status != store.ConnectorActive || conn.LastError != "" || conn.LastSyncAt == nil || !conn.LastSyncAt.Equal(now) {
			t.Errorf("connector after success = %+v", conn)
		}
		// Finishing twice updates nothing new but is not an error for a known run;
		// an unknown or foreign run is not found.
		if err := s.UpdateSyncRun(ctx, a.pub.ID, run.ID, counts); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("progress on a finished run: %v", err)
		}
		if err := s.FinishSyncRun(ctx, b.pub.ID, run.ID, store.SyncFailed, counts, "x"); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("finish as B: %v", err)
		}
		if _, err := s.SyncRun(ctx, b.pub.ID, run.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("run as B: %v", err)
		}
		if err := s.UpdateSyncRun(ctx, b.pub.ID, run.ID, counts); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("update as B: %v", err)
		}

		// A failed run records its error on the connector, keeping its status.
		now = now.Add(time.Hour)
		failed, _ := s.StartSyncRun(ctx, a.pub.ID, c.ID)
		if err := s.FinishSyncRun(ctx, a.pub.ID, failed.ID, store.SyncFailed, store.SyncCounts{Seen: 1, Failed: 1}, "Shopify kept failing (503)."); err != nil {
			t.Fatal(err)
		}
		conn, _ = s.Connector(ctx, a.pub.ID, c.ID)
		if conn.Status != store.ConnectorActive || conn.LastError != "Shopify kept failing (503)." || !conn.LastSyncAt.Equal(now.Add(-time.Hour)) {
			t.Errorf("connector after failure = %+v", conn)
		}
		if err := s.FinishSyncRun(ctx, a.pub.ID, failed.ID, "running", counts, ""); err == nil {
			t.Error("non-final state accepted")
		}

		runs, err := s.SyncRuns(ctx, a.pub.ID, c.ID, 2)
		if err != nil || len(runs) != 2 || runs[0].ID != failed.ID || runs[1].ID != run.ID {
			t.Errorf("SyncRuns = %v, %v", runs, err)
		}
	})
}

func TestRekeyConnectorCredentials(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		var ids []string
		for i, f := range []fixture{a, b, a} {
			c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Shop " + string(rune('A'+i))}
			if err := s.CreateConnector(ctx, f.pub.ID, c); err != nil {
				t.Fatal(err)
			}
			key := "old"
			if i == 2 {
				key = "new"
			}
			if err := s.SaveConnectorCredentials(ctx, f.pub.ID, c.ID, []byte("ct-"+key), key); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		var seen []string
		n, err := s.RekeyConnectorCredentials(ctx, "new", func(c store.SealedCredentials) ([]byte, string, error) {
			seen = append(seen, c.ConnectorID)
			if c.KeyID != "old" || string(c.Ciphertext) != "ct-old" {
				t.Errorf("reseal got %+v", c)
			}
			return []byte("ct-new"), "new", nil
		})
		if err != nil || n != 2 || len(seen) != 2 {
			t.Fatalf("Rekey = %d, %v (seen %v)", n, err, seen)
		}
		for i, f := range []fixture{a, b, a} {
			ct, key, err := s.ConnectorCredentials(ctx, f.pub.ID, ids[i])
			if err != nil || key != "new" || string(ct) != "ct-new" {
				t.Errorf("connector %d: %q %q %v", i, ct, key, err)
			}
		}
	})
}

// The cursor saved inside an import commits or rolls back with it.
func TestConnectorCursorInImportTransaction(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newFixture(t, s, "alpha")
		b := newFixture(t, s, "beta")
		spec := store.ImportSpec{Kind: store.ImportFX, Format: "sync", FileName: "page"}
		_, err := s.Import(ctx, a.pub.ID, spec, func(w *store.ImportWriter) error {
			if err := w.SaveConnectorCursor(ctx, a.conn.ID, []byte(`{"page":"1"}`)); err != nil {
				return err
			}
			return errors.New("crash before commit")
		})
		if err == nil {
			t.Fatal("failed import succeeded")
		}
		if cur, _ := s.ConnectorCursor(ctx, a.pub.ID, a.conn.ID); string(cur) != "{}" {
			t.Errorf("cursor after rollback = %s", cur)
		}
		if _, err := s.Import(ctx, a.pub.ID, spec, func(w *store.ImportWriter) error {
			return w.SaveConnectorCursor(ctx, a.conn.ID, []byte(`{"page":"2"}`))
		}); err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		cur, _ := s.ConnectorCursor(ctx, a.pub.ID, a.conn.ID)
		if json.Unmarshal(cur, &got); got["page"] != "2" {
			t.Errorf("cursor after commit = %s", cur)
		}
		// Another publisher's import cannot move A's cursor.
		_, err = s.Import(ctx, b.pub.ID, spec, func(w *store.ImportWriter) error {
			return w.SaveConnectorCursor(ctx, a.conn.ID, []byte(`{"page":"evil"}`))
		})
		if phantomos.ErrorCode(err) != phantomos.ENOTFOUND && !strings.Contains(err.Error(), "not found") {
			t.Errorf("cross-tenant cursor write: %v", err)
		}
		if cur, _ := s.ConnectorCursor(ctx, a.pub.ID, a.conn.ID); strings.Contains(string(cur), "evil") {
			t.Errorf("B moved A's cursor: %s", cur)
		}
	})
}
