package web

import (
	"net/http"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/store"
)

// apiConnector is a connector in the JSON API. Credentials are never
// part of it.
type apiConnector struct {
	ID          string             `json:"id"`
	Type        string             `json:"type"`
	Name        string             `json:"name"`
	Status      string             `json:"status"`
	Error       string             `json:"error"`
	Account     string             `json:"account"`      // e.g. the shop's myshopify.com domain
	AccountInfo *connector.Account `json:"account_info"` // what the last connection test found
	LastSyncAt  *time.Time         `json:"last_sync_at"`
	NextSyncAt  *time.Time         `json:"next_sync_at"`
	NextSync    string             `json:"next_sync"`
	Running     bool               `json:"running"`
	Runs        []apiSyncRun       `json:"runs"`
	CreatedAt   time.Time          `json:"created_at"`
}

type apiSyncRun struct {
	ID         string     `json:"id"`
	State      string     `json:"state"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Seen       int64      `json:"seen"`
	Inserted   int64      `json:"inserted"`
	Updated    int64      `json:"updated"`
	Unchanged  int64      `json:"unchanged"`
	Failed     int64      `json:"failed"`
	Error      string     `json:"error"`
}

func toAPIConnector(v *connectorView, runs []*store.SyncRun) apiConnector {
	out := apiConnector{ID: v.ID, Type: v.Type, Name: v.Name, Status: v.Status, Error: v.LastError, Account: v.Shop,
		LastSyncAt: v.LastSyncAt, NextSyncAt: v.NextSync, NextSync: v.NextSyncText, Running: v.Running(), CreatedAt: v.CreatedAt,
		Runs: []apiSyncRun{}}
	if v.Account.Name != "" || v.Account.Domain != "" {
		acc := v.Account
		out.AccountInfo = &acc
	}
	for _, r := range runs {
		out.Runs = append(out.Runs, apiSyncRun{ID: r.ID, State: r.State, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
			Seen: r.Counts.Seen, Inserted: r.Counts.Inserted, Updated: r.Counts.Updated, Unchanged: r.Counts.Skipped,
			Failed: r.Counts.Failed, Error: r.Error})
	}
	return out
}

// handleAPIConnectors lists the publisher's connectors with their latest
// sync run.
func (s *Server) handleAPIConnectors(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	list, err := s.store.Connectors(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	out := struct {
		Connectors []apiConnector `json:"connectors"`
	}{Connectors: []apiConnector{}}
	now := s.now()
	for _, c := range list {
		v, err := s.connectorView(r.Context(), c, now)
		if err != nil {
			return err
		}
		var runs []*store.SyncRun
		if v.Latest != nil {
			runs = append(runs, v.Latest)
		}
		out.Connectors = append(out.Connectors, toAPIConnector(v, runs))
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

// handleAPIConnector returns one connector with its last sync runs; the
// wizard's progress display polls it.
func (s *Server) handleAPIConnector(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.store.Connector(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := s.connectorView(r.Context(), c, s.now())
	if err != nil {
		return err
	}
	runs, err := s.store.SyncRuns(r.Context(), a.PublisherID, c.ID, 10)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return api.WriteJSON(w, http.StatusOK, toAPIConnector(v, runs))
}
