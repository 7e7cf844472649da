package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/jobs"
)

var _ jobs.FetchWork = (*Worker)(nil)

// deliveryTTL is how long a webhook delivery's key is remembered:
// platforms retry a delivery for up to about two days.
const deliveryTTL = 72 * time.Hour

// FetchLater stores delivery d of connector t as a webhook_fetch job,
// unless a delivery with its key was stored already (by any replica:
// the keys are in the database). Without a queue (tests, tools) it does
// the job's work at once.
func (w *Worker) FetchLater(ctx context.Context, t connector.Target, d platform.Delivery) error {
	if len(d.Orders) == 0 {
		return nil
	}
	if d.Key != "" {
		fresh, err := w.store.ClaimDelivery(ctx, t.Publisher, t.ConnectorID, d.Key, deliveryTTL)
		if err != nil {
			return err
		}
		if !fresh {
			w.logger.Info("webhook: duplicate delivery", "publisher", t.Publisher, "connector", t.ConnectorID)
			return nil
		}
	}
	var err error
	if w.jobs != nil {
		err = w.jobs.EnqueueWebhookFetch(ctx, t, d)
	} else {
		err = w.FetchWebhook(ctx, t.Publisher, t.ConnectorID, d)
	}
	if err != nil && d.Key != "" {
		// Not stored: the platform's retry must be.
		if rerr := w.store.ReleaseDelivery(context.WithoutCancel(ctx), t.Publisher, t.ConnectorID, d.Key); rerr != nil {
			w.logger.Warn("webhook: release delivery", "connector", t.ConnectorID, "err", rerr)
		}
	}
	return err
}

// FetchWebhook is the work of a webhook_fetch job: the orders a verified
// delivery named are read from the platform of connector id of pub, as
// they are now, and written idempotently (a delivery applied twice, late
// or after a sync read the same orders changes nothing twice). A
// connector or publisher that is gone, or whose platform cannot read it
// any more, discards the job; a platform failing for a while (5xx,
// throttling, network) retries it with backoff.
func (w *Worker) FetchWebhook(ctx context.Context, pub phantomos.PublisherID, id string, d platform.Delivery) error {
	if w.conn == nil {
		return phantomos.Errorf(phantomos.EINVALID, "Connectors are not enabled on this worker (PHANTOMOS_SECRET_KEY).")
	}
	c, err := w.store.Connector(ctx, pub, id)
	if err != nil {
		return err
	}
	p, ok := w.platform(c.Type)
	if !ok {
		return phantomos.Errorf(phantomos.EINVALID, "The platform of connector %s is not configured on this worker.", c.Name)
	}
	f, ok := p.(platform.Fetcher)
	if !ok {
		return phantomos.Errorf(phantomos.EINVALID, "The platform of connector %s does not read webhook deliveries.", c.Name)
	}
	t := connector.Target{Publisher: pub, ConnectorID: id}
	b, err := f.Fetch(ctx, w.Host(), t, d)
	if err != nil {
		if ce, ok := errors.AsType[*connector.Error](err); ok && (ce.Kind == connector.Auth || ce.Kind == connector.Permanent) {
			// The next sync reads the orders and reports the problem on
			// the connector's page.
			return jobs.Permanent(fmt.Errorf("webhook of connector %s: %s", c.Name, connector.UserMessage(err)))
		}
		return fmt.Errorf("worker: webhook of connector %s: %w", id, err)
	}
	if _, err := w.conn.engine.Apply(ctx, t, b); err != nil {
		return fmt.Errorf("worker: webhook of connector %s: %w", id, err)
	}
	w.logger.Info("webhook applied", "publisher", pub, "connector", id, "orders", len(d.Orders))
	return nil
}
