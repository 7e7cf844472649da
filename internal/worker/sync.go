package worker

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/jobs"
)

// OpenSource returns the configured platform of connector c and a sync
// source over its stored credentials.
func (w *Worker) OpenSource(ctx context.Context, c *phantomos.Connector) (platform.Platform, connector.Source, error) {
	p, ok := w.platform(c.Type)
	if w.conn == nil || !ok {
		return nil, nil, phantomos.Errorf(phantomos.EINVALID, "This connector cannot sync.")
	}
	src, err := p.Open(ctx, w.Host(), connector.Target{Publisher: c.PublisherID, ConnectorID: c.ID})
	if err != nil {
		return nil, nil, err
	}
	return p, src, nil
}

// BeginSync enqueues a sync of t; a worker (in this process or another)
// runs it. A sync already waiting or running is ECONFLICT: a connector
// syncs once at a time across every replica.
func (w *Worker) BeginSync(ctx context.Context, t connector.Target) error {
	if w.jobs == nil {
		return errors.New("web: sync: no job queue")
	}
	_, added, err := w.jobs.EnqueueSync(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return err
	}
	if !added {
		return phantomos.Errorf(phantomos.ECONFLICT, "A sync of this connector is already running.")
	}
	return nil
}

// SyncConnector is the work of a sync job: connector id of pub, from its
// checkpoint to the end. A connector that is gone, disconnected or has no
// credentials is EINVALID or ENOTFOUND, and the job is discarded;
// credentials the store refuses end it at once (the connector shows why).
func (w *Worker) SyncConnector(ctx context.Context, pub phantomos.PublisherID, id string) error {
	c, err := w.store.Connector(ctx, pub, id)
	if err != nil {
		return err
	}
	if c.Type == phantomos.ConnectorCustom {
		return w.pullConnector(ctx, pub, c) // a scheduled pull (pull.go)
	}
	t := connector.Target{Publisher: pub, ConnectorID: id}
	_, src, err := w.OpenSource(ctx, c)
	if err != nil {
		return err
	}
	res, err := w.conn.engine.Sync(ctx, t, src, connector.SyncOptions{})
	if res != nil && len(res.Notices) > 0 {
		if nerr := w.keepNotices(ctx, t, res.Notices); nerr != nil {
			w.logger.Warn("sync notices", "publisher", t.Publisher, "connector", t.ConnectorID, "err", nerr)
		}
	}
	if err != nil {
		if connector.KindOf(err) == connector.Auth {
			return jobs.Permanent(err)
		}
		return err
	}
	return nil
}

// keepNotices adds what a sync had to tell the user (e.g. that the
// platform withholds addresses) to the notices the connector's page shows, each
// once.
func (w *Worker) keepNotices(ctx context.Context, t connector.Target, notices []string) error {
	ca, err := w.store.ConnectorAccount(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return err
	}
	var acc connector.Account
	if len(ca.Info) > 0 {
		if err := json.Unmarshal(ca.Info, &acc); err != nil {
			return err
		}
	}
	changed := false
	for _, n := range notices {
		if !slices.Contains(acc.Notices, n) {
			acc.Notices = append(acc.Notices, n)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	ca.Info, err = json.Marshal(acc)
	if err != nil {
		return err
	}
	return w.store.SaveConnectorAccount(ctx, t.Publisher, t.ConnectorID, ca)
}

// Subscribe lets a platform that pushes changes (re-)create the webhook
// subscriptions of t, when this server receives webhooks. Failures are
// logged: the schedule's syncs catch up anyway.
func (w *Worker) Subscribe(ctx context.Context, p platform.Platform, t connector.Target, src connector.Source) {
	sub, ok := p.(platform.Subscriber)
	if !ok || !w.WebhooksOn() {
		return
	}
	if err := sub.Subscribe(ctx, w.Host(), t, src); err != nil {
		w.logger.Warn("register webhooks", "publisher", t.Publisher, "connector", t.ConnectorID, "err", err)
	}
}

// ApplyWebhook is the work of a webhook_apply job: the batch of a
// verified delivery for connector id of pub, written idempotently (a
// delivery applied twice, or after a sync read the same records, changes
// nothing twice). A connector or publisher that is gone discards it.
func (w *Worker) ApplyWebhook(ctx context.Context, pub phantomos.PublisherID, id string, b connector.Batch) error {
	if w.conn == nil {
		return phantomos.Errorf(phantomos.EINVALID, "Connectors are not enabled on this worker (PHANTOMOS_SECRET_KEY).")
	}
	if _, err := w.store.Connector(ctx, pub, id); err != nil {
		return err
	}
	_, err := w.conn.engine.Apply(ctx, connector.Target{Publisher: pub, ConnectorID: id}, b)
	return err
}
