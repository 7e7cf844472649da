package connector

import (
	"context"
	"sync"
	"time"
)

// Limiter is a token bucket: it allows rate requests per second on
// average and bursts of up to burst. It is safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time

	// shared, when set, paces key in the database instead (one budget
	// for every process); the bucket above is the fallback when the
	// database cannot answer.
	shared SharedRate
	key    string
}

// SharedRate paces the requests of a key across every process;
// *store.Store does, in the database (store.RateTake).
type SharedRate interface {
	// RateTake reserves the next request of key at rate a second with
	// bursts of burst and returns how long to wait before sending it.
	RateTake(ctx context.Context, key string, rate float64, burst int, now time.Time) (time.Duration, error)
}

// NewLimiter returns a full bucket. A rate <= 0 means no limit.
func NewLimiter(rate float64, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: rate, burst: float64(burst), tokens: float64(burst), now: time.Now}
}

// Wait blocks until a request may go, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil || l.rate <= 0 {
		return ctx.Err()
	}
	if l.shared != nil {
		l.mu.Lock()
		rate, burst, now := l.rate, int(l.burst), l.now()
		l.mu.Unlock()
		if wait, err := l.shared.RateTake(ctx, l.key, rate, burst, now); err == nil {
			return sleep(ctx, wait)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	// Take the token now, even if that goes negative: waiters queue in
	// order, each behind the debt of those before it.
	l.tokens--
	wait := time.Duration(0)
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	if wait == 0 {
		return ctx.Err()
	}
	if err := sleep(ctx, wait); err != nil {
		l.mu.Lock()
		l.tokens++ // give back the token we will not use
		l.mu.Unlock()
		return err
	}
	return nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SetRate changes the limiter's pace to rate requests per second and its
// burst to burst (kept when < 1), as a platform reports its current limits
// (Amazon's x-amzn-RateLimit-Limit header). Tokens already saved stay,
// capped at the new burst.
func (l *Limiter) SetRate(rate float64, burst int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() && l.rate > 0 {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
		l.last = now
	}
	l.rate = rate
	if burst >= 1 {
		l.burst = float64(burst)
	}
	l.tokens = min(l.tokens, l.burst)
}

// Rate returns the limiter's pace in requests per second.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
}
