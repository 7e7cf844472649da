package web

import (
	"context"
	"sync"
	"time"
)

// Per-key request rate: a token bucket of keyRequestBurst requests refilled
// at keyRequestsPerSecond. A push carries up to 1,000 lines, so one key may
// send tens of thousands of lines a second; the limit stops a runaway
// client from starving the others, not honest batch senders.
const (
	keyRequestsPerSecond = 50
	keyRequestBurst      = 100
	// maxLimitedKeys bounds the limiter's memory: beyond it, idle keys (full
	// buckets) are forgotten first, then any.
	maxLimitedKeys = 10_000
)

// keyLimiter is a token bucket per API key, in memory: each replica limits
// on its own.
type keyLimiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	max     int
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newKeyLimiter(rate, burst float64, max int) *keyLimiter {
	return &keyLimiter{rate: rate, burst: burst, max: max, buckets: map[string]*bucket{}}
}

// SetKeyRate changes the per-key request rate and burst; tests and the
// push benchmark use it.
func (s *Server) SetKeyRate(perSecond, burst float64) {
	s.keyRate.mu.Lock()
	defer s.keyRate.mu.Unlock()
	s.keyRate.rate, s.keyRate.burst = perSecond, burst
	clear(s.keyRate.buckets)
}

// take spends a token of key at now; when there is none it returns how long
// until there is one.
func (l *keyLimiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = min(l.burst, b.tokens+d*l.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// evict forgets keys whose bucket has refilled (forgetting them changes
// nothing), and if none has, one arbitrary key, which then starts full.
func (l *keyLimiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.max {
		for k := range l.buckets {
			delete(l.buckets, k)
			break
		}
	}
}

// pushLocks serialises the pushes of one publisher within this process:
// concurrent batches of one publisher would otherwise queue on the same
// rollup rows (PostgreSQL) or the single write lock (SQLite, where a
// waiting writer gives up after busy_timeout). A fixed set of slots hashed
// by publisher keeps memory bounded; on SQLite every push shares one, as
// the database admits one writer anyway. Each slot is a write turn (a
// channel, so that a waiting batch of orders can also learn that another
// request wrote it, see push_group.go) and the order batches waiting for it.
type pushLocks struct {
	single bool
	slots  [64]pushSlot

	// The pushes admitted (see admit): in all, and per publisher.
	mu              sync.Mutex
	limit, pubLimit int
	backlog         int
	perPub          map[string]int
}

// Bounds of the pushes admitted at once: each holds up to maxPushBody of
// body and its decoded rows while it waits for its publisher's write turn,
// which a group of thousands of lines may hold for a second. Without a
// bound, a client opening connections faster than the turn is passed on
// (the per-key rate allows bursts of 100 requests, and a publisher may have
// many keys) would hold the process's memory. One publisher may not take
// all of it: its pushes beyond maxPublisherPushes are refused before
// anybody else's.
const (
	maxWaitingPushes   = 256
	maxPublisherPushes = 32
)

// admit counts a push of publisher pub from before its body is read until
// release is called, when it has been answered. It admits nothing, and
// returns ok false, when the process or the publisher already has as many
// as it may.
func (p *pushLocks) admit(pub string) (release func(), ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.backlog >= p.limit || p.perPub[pub] >= p.pubLimit {
		return nil, false
	}
	p.backlog++
	p.perPub[pub]++
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.backlog--
		if p.perPub[pub]--; p.perPub[pub] == 0 {
			delete(p.perPub, pub)
		}
	}, true
}

type pushSlot struct {
	turn    chan struct{} // holds a token while a push writes
	mu      sync.Mutex
	waiting []*orderBatch // order batches waiting to be written, in arrival order
	coming  int           // order pushes read but not yet waiting (see arrival)
	// answered is the size of the last group written, and since counts
	// the batches that came after it was answered (see linger).
	answered, since int
	moved           chan struct{} // signalled when one of those waits or gives up
}

func newPushLocks(single bool) *pushLocks {
	p := &pushLocks{single: single, limit: maxWaitingPushes, pubLimit: maxPublisherPushes, perPub: map[string]int{}}
	for i := range p.slots {
		p.slots[i].turn = make(chan struct{}, 1)
		p.slots[i].moved = make(chan struct{}, 1)
	}
	return p
}

func (p *pushLocks) slot(pub string) *pushSlot {
	i := 0
	if !p.single {
		h := uint32(2166136261)
		for j := 0; j < len(pub); j++ {
			h = (h ^ uint32(pub[j])) * 16777619
		}
		i = int(h % uint32(len(p.slots)))
	}
	return &p.slots[i]
}

// lock takes publisher pub's write turn and returns what gives it back,
// or ctx's error when ctx ends first (a client that went away while a long
// group was written): nothing was written then.
func (p *pushLocks) lock(ctx context.Context, pub string) (func(), error) {
	sl := p.slot(pub)
	select {
	case sl.turn <- struct{}{}:
		return func() { <-sl.turn }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
