package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Cursor is a connector's sync position as stored: JSON that only this
// package interprets (see Checkpoint). Stores keep it as an opaque JSON
// column.
type Cursor []byte

// Streams a sync reads, in order: products first, so order lines find
// their products.
const (
	StreamProducts = "products"
	StreamOrders   = "orders"
)

// Checkpoint is the decoded cursor: where each stream stands.
type Checkpoint struct {
	Products StreamCheckpoint `json:"products"`
	Orders   StreamCheckpoint `json:"orders"`
}

// StreamCheckpoint is where one stream stands. A pass reads every record
// updated at or after Since, page by page; Page is the token of the next
// page of the pass in progress ("" between passes). High is the latest
// update time written so far in the pass; when the pass completes it
// becomes Synced, the watermark: every update before it has been written.
// The next pass starts at Synced minus the lookback window.
type StreamCheckpoint struct {
	Synced time.Time `json:"synced,omitzero"`
	Since  time.Time `json:"since,omitzero"`
	Page   string    `json:"page,omitempty"`
	High   time.Time `json:"high,omitzero"`
	// Passes counts completed passes, for the history page and tests.
	Passes int `json:"passes,omitempty"`
	// Bulk is the bulk export of a backfill in progress (orders only).
	Bulk *BulkCheckpoint `json:"bulk,omitempty"`
}

// InPass reports whether a pass was interrupted and resumes at Page.
func (s *StreamCheckpoint) InPass() bool { return s.Page != "" }

// ParseCursor decodes a stored cursor; empty or "{}" is the zero checkpoint.
func ParseCursor(c Cursor) (Checkpoint, error) {
	var cp Checkpoint
	c = bytes.TrimSpace(c)
	if len(c) == 0 || bytes.Equal(c, []byte("{}")) || bytes.Equal(c, []byte("null")) {
		return cp, nil
	}
	if err := json.Unmarshal(c, &cp); err != nil {
		return cp, fmt.Errorf("connector: cursor: %w", err)
	}
	return cp, nil
}

// Cursor encodes the checkpoint for storage.
func (cp Checkpoint) Cursor() Cursor {
	b, err := json.Marshal(cp)
	if err != nil {
		panic(err) // only times, strings and ints: cannot fail
	}
	return b
}

func (cp *Checkpoint) stream(name string) *StreamCheckpoint {
	if name == StreamProducts {
		return &cp.Products
	}
	return &cp.Orders
}
