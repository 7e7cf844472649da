package web

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// answerCacheBytes bounds the memory of cached analytics answers. An
// Overview is ~10 KB of JSON, so this holds thousands of distinct questions.
const answerCacheBytes = 32 << 20

// answerTimeout bounds a computation that no request waits for any more.
const answerTimeout = 2 * time.Minute

// answerCache keeps computed analytics answers (the Overview, the asset
// report, an asset's overview, a comparison) in memory, least recently used
// first out when their estimated size passes a bound.
//
// Keys name the publisher, its data version and the whole question (see
// view.key): every store write that changes what analytics read bumps the
// data version in its transaction, so a cached answer is never stale, and
// entries of older versions simply age out. Replicas each keep their own
// cache and agree, since the version lives in the database.
//
// Concurrent identical misses are computed once. Cached values are shared
// between requests and must be treated as read-only.
type answerCache struct {
	max    atomic.Int64 // bytes; 0 turns the cache off
	flight singleflight.Group

	mu      sync.Mutex
	size    int64
	order   *list.List // of *answer, most recently used first
	entries map[string]*list.Element

	hits, misses, computed atomic.Int64
	// waiting counts callers that missed and wait for a computation; tests
	// use it to line up concurrent misses.
	waiting atomic.Int64
}

// answer is one cached answer: the value for pages and its JSON for the API.
type answer struct {
	key  string
	val  any
	body []byte // the API's response: json.Marshal of val and a newline
	cost int64
}

func newAnswerCache(maxBytes int64) *answerCache {
	c := &answerCache{order: list.New(), entries: map[string]*list.Element{}}
	c.resize(maxBytes)
	return c
}

// SetAnswerCache bounds the memory of the server's cached analytics
// answers (answerCacheBytes by default); 0 turns the cache off, so that
// every request computes its answer on its own, which is what benchmarks
// time as the cost of a page's data.
func (s *Server) SetAnswerCache(maxBytes int64) { s.answers.resize(maxBytes) }

// AnswerCacheStats returns how many analytics requests found their answer
// cached, how many did not, and how many answers were computed (concurrent
// identical misses share one computation).
func (s *Server) AnswerCacheStats() (hits, misses, computed int64) {
	return s.answers.hits.Load(), s.answers.misses.Load(), s.answers.computed.Load()
}

func (c *answerCache) resize(maxBytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.max.Store(max(maxBytes, 0))
	c.evict()
}

// get returns the answer cached under key, or computes, caches and returns
// it. The computation is shared by every caller asking for key meanwhile and
// does not stop when the caller that started it goes away; a caller whose
// context ends stops waiting. Errors are not cached.
func (c *answerCache) get(ctx context.Context, key string, compute func(context.Context) (any, error)) (*answer, error) {
	if c.max.Load() == 0 {
		c.misses.Add(1)
		c.computed.Add(1)
		return c.compute(ctx, key, compute)
	}
	if a := c.lookup(key); a != nil {
		c.hits.Add(1)
		return a, nil
	}
	c.misses.Add(1)
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	ch := c.flight.DoChan(key, func() (any, error) {
		// A caller that missed just before another one stored the answer.
		if a := c.lookup(key); a != nil {
			return a, nil
		}
		c.computed.Add(1)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
		defer cancel()
		a, err := c.compute(cctx, key, compute)
		if err != nil {
			return nil, err
		}
		c.add(a)
		return a, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*answer), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// compute computes the answer to key and encodes it.
func (c *answerCache) compute(ctx context.Context, key string, compute func(context.Context) (any, error)) (*answer, error) {
	v, err := compute(ctx)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("web: encode answer: %w", err)
	}
	b = append(b, '\n')
	// The value in memory is about as large as its JSON.
	return &answer{key: key, val: v, body: b, cost: int64(2*len(b) + len(key) + 256)}, nil
}

func (c *answerCache) lookup(key string) *answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*answer)
}

func (c *answerCache) add(a *answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a.cost > c.max.Load()/4 {
		return // one huge answer must not flush everything else
	}
	if e, ok := c.entries[a.key]; ok {
		c.size -= e.Value.(*answer).cost
		c.order.Remove(e)
	}
	c.entries[a.key] = c.order.PushFront(a)
	c.size += a.cost
	c.evict()
}

// evict drops least recently used answers until the cache fits its bound;
// c.mu is held.
func (c *answerCache) evict() {
	for c.size > c.max.Load() {
		last := c.order.Back()
		old := last.Value.(*answer)
		c.order.Remove(last)
		delete(c.entries, old.key)
		c.size -= old.cost
	}
}

// len returns the number of cached answers and their estimated size.
func (c *answerCache) len() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.size
}

// collectors exposes the cache's counters on /metrics.
func (c *answerCache) collectors() []prometheus.Collector {
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	return []prometheus.Collector{
		counter("phantomos_answer_cache_hits_total", "Analytics answers served from the in-memory cache.", &c.hits),
		counter("phantomos_answer_cache_misses_total", "Analytics requests that found no cached answer.", &c.misses),
		counter("phantomos_answer_cache_computations_total", "Analytics answers computed (concurrent identical misses share one).", &c.computed),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "phantomos_answer_cache_bytes", Help: "Estimated memory of cached analytics answers."},
			func() float64 { _, n := c.len(); return float64(n) }),
	}
}

// cached returns the answer of type T under key, computing it with compute
// on a miss, and the API's response body for it.
func cached[T any](ctx context.Context, c *answerCache, key string, compute func(context.Context) (T, error)) (T, []byte, error) {
	a, err := c.get(ctx, key, func(ctx context.Context) (any, error) { return compute(ctx) })
	if err != nil {
		var zero T
		return zero, nil, err
	}
	return a.val.(T), a.body, nil
}

// writeAnswer sends a cached answer's body: the bytes api.WriteJSON would
// send for its value, without encoding it again, and in one write.
func writeAnswer(w http.ResponseWriter, body []byte) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return nil
}
