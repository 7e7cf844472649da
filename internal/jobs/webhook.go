package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
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

// addWebhookWorker registers the webhook worker when the queue's Work
// writes webhooks.
func addWebhookWorker(cfg *Config, q *Queue, ws *river.Workers) error {
	ww, ok := cfg.Work.(WebhookWork)
	if !ok {
		return nil
	}
	return river.AddWorkerSafely(ws, &webhookWorker{q: q, w: ww})
}
