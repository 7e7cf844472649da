package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// kindWebhook is the job kind of a verified webhook's batch (never
// renamed: see args.go).
const kindWebhook = "webhook_apply"

// webhookAttempts bounds the attempts at writing one delivery: the
// platform's own redelivery and the schedule's syncs catch up after.
const webhookAttempts = 6

// maxWebhookBatch bounds a delivery's batch as stored in its job: far
// above any single order or product, which is what a webhook carries.
const maxWebhookBatch = 4 << 20

// WebhookWork writes the batches of verified webhooks; the worker
// implements it.
type WebhookWork interface {
	// ApplyWebhook writes batch for connector connectorID of pub,
	// idempotently. ENOTFOUND (the connector or publisher is gone)
	// discards the job.
	ApplyWebhook(ctx context.Context, pub phantomos.PublisherID, connectorID string, batch connector.Batch) error
}

// WebhookArgs is the batch of one verified webhook delivery: the request
// that carried it has answered 200 once it was stored here.
type WebhookArgs struct {
	Publisher   phantomos.PublisherID `json:"publisher_id"`
	ConnectorID string                `json:"connector_id"`
	Batch       json.RawMessage       `json:"batch"`
}

// Kind names the job kind.
func (WebhookArgs) Kind() string { return kindWebhook }

// InsertOpts bounds the attempts at a delivery.
func (WebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: webhookAttempts}
}

// EnqueueWebhook stores batch, verified as coming from the platform of
// connector t, for a worker to write.
func (q *Queue) EnqueueWebhook(ctx context.Context, t connector.Target, batch connector.Batch) error {
	b, err := json.Marshal(batch)
	if err != nil {
		return fmt.Errorf("jobs: webhook batch: %w", err)
	}
	if len(b) > maxWebhookBatch {
		return phantomos.Errorf(phantomos.EINVALID, "A webhook's records take %d bytes, more than %d.", len(b), maxWebhookBatch)
	}
	_, _, err = q.insert(ctx, WebhookArgs{Publisher: t.Publisher, ConnectorID: t.ConnectorID, Batch: b})
	return err
}

type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	q *Queue
	w WebhookWork
}

func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration { return 2 * time.Minute }

func (w *webhookWorker) Work(ctx context.Context, j *river.Job[WebhookArgs]) error {
	var b connector.Batch
	if err := json.Unmarshal(j.Args.Batch, &b); err != nil {
		return outcome(w.q, j.Kind, j.Args.ConnectorID, phantomos.Errorf(phantomos.EINVALID, "The stored webhook batch is unreadable: %v.", err))
	}
	return outcome(w.q, j.Kind, j.Args.ConnectorID, w.w.ApplyWebhook(ctx, j.Args.Publisher, j.Args.ConnectorID, b))
}

// addWebhookWorker registers the webhook workers when the queue's Work
// writes webhooks.
func addWebhookWorker(cfg *Config, q *Queue, ws *river.Workers) error {
	if ww, ok := cfg.Work.(WebhookWork); ok {
		if err := river.AddWorkerSafely(ws, &webhookWorker{q: q, w: ww}); err != nil {
			return err
		}
	}
	if fw, ok := cfg.Work.(FetchWork); ok {
		return river.AddWorkerSafely(ws, &webhookFetchWorker{q: q, w: fw})
	}
	return nil
}

// kindWebhookFetch is the job kind of a verified webhook whose records
// are read from the platform by the job (never renamed: see args.go).
const kindWebhookFetch = "webhook_fetch"

// DefaultWebhookBackoff is the wait after a webhook fetch's first failed
// attempt; it doubles after each (15s, 30s, 1m, 2m, 4m).
const DefaultWebhookBackoff = 15 * time.Second

// FetchWork reads and writes what verified webhook deliveries name; the
// worker implements it.
type FetchWork interface {
	// FetchWebhook reads the records delivery d names from the platform
	// of connector connectorID of pub and writes them, idempotently.
	// ENOTFOUND or EINVALID (the connector or publisher is gone, or it
	// cannot be read any more) and Permanent errors discard the job;
	// others are retried with backoff.
	FetchWebhook(ctx context.Context, pub phantomos.PublisherID, connectorID string, d platform.Delivery) error
}

// WebhookFetchArgs is a verified webhook delivery that names records for
// the job to read from the platform: the request that carried it has
// answered 200 once it was stored here.
type WebhookFetchArgs struct {
	Publisher   phantomos.PublisherID `json:"publisher_id"`
	ConnectorID string                `json:"connector_id"`
	Delivery    platform.Delivery     `json:"delivery"`
}

// Kind names the job kind.
func (WebhookFetchArgs) Kind() string { return kindWebhookFetch }

// InsertOpts bounds the attempts at a delivery.
func (WebhookFetchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: webhookAttempts}
}

// EnqueueWebhookFetch stores delivery d of connector t for a worker to
// read from the platform and write.
func (q *Queue) EnqueueWebhookFetch(ctx context.Context, t connector.Target, d platform.Delivery) error {
	if len(d.Orders) == 0 || len(d.Orders) > platform.MaxDeliveryOrders {
		return phantomos.Errorf(phantomos.EINVALID, "A webhook delivery names %d orders; it may name 1 to %d.", len(d.Orders), platform.MaxDeliveryOrders)
	}
	_, _, err := q.insert(ctx, WebhookFetchArgs{Publisher: t.Publisher, ConnectorID: t.ConnectorID, Delivery: d})
	return err
}

type webhookFetchWorker struct {
	river.WorkerDefaults[WebhookFetchArgs]
	q *Queue
	w FetchWork
}

func (w *webhookFetchWorker) Timeout(*river.Job[WebhookFetchArgs]) time.Duration {
	return 5 * time.Minute
}

// NextRetry doubles the wait after each failure from WebhookBackoff.
func (w *webhookFetchWorker) NextRetry(j *river.Job[WebhookFetchArgs]) time.Time {
	n := max(j.Attempt, 1)
	return time.Now().Add(w.q.cfg.WebhookBackoff << min(n-1, 10))
}

func (w *webhookFetchWorker) Work(ctx context.Context, j *river.Job[WebhookFetchArgs]) error {
	return outcome(w.q, j.Kind, j.Args, w.w.FetchWebhook(ctx, j.Args.Publisher, j.Args.ConnectorID, j.Args.Delivery))
}
