package auth

import (
	"context"
	"sync"
	"time"

	"github.com/phantomos/phantomos"
)

// HashMemory is the memory one password hash or check takes, in bytes
// (argon2id's memory parameter).
const HashMemory = argonMemory * 1024

// DefaultHashBudget is the memory a server lets password hashing take at
// once: four argon2id computations of 64 MiB.
const DefaultHashBudget = 256 << 20

// DefaultHashWait is how long a request waits for a free hashing slot
// before it is answered "busy": long enough to ride out a burst of real
// sign-ins, short enough that a flood is refused instead of queued.
const DefaultHashWait = 2 * time.Second

// Hasher runs argon2id hashes and checks with a bound on how many run at
// once, so that password work takes at most its memory budget however many
// requests arrive together: a flood of sign-ins, sign-ups or invitation
// acceptances gets "busy" answers instead of driving the process out of
// memory. Every server-side caller of argon2 goes through one Hasher.
type Hasher struct {
	slots chan struct{}
	wait  time.Duration

	mu       sync.Mutex
	inUse    int
	highMark int
}

// NewHasher returns a hasher that runs at most budget/HashMemory argon2id
// computations at once (at least one) and waits at most wait for a free
// slot.
func NewHasher(budget int64, wait time.Duration) *Hasher {
	n := int(budget / HashMemory)
	if n < 1 {
		n = 1
	}
	return &Hasher{slots: make(chan struct{}, n), wait: wait}
}

// Slots is how many hashes may run at once.
func (h *Hasher) Slots() int { return cap(h.slots) }

// HighWater is the largest number of hashes that ever ran at once; it never
// exceeds Slots. Tests read it to check the bound holds under load.
func (h *Hasher) HighWater() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.highMark
}

// ErrBusy is returned when every hashing slot stayed taken for the whole
// wait. Callers answer it with 429 and a Retry-After.
var ErrBusy = phantomos.Errorf(phantomos.ERATELIMIT, "The server is busy checking passwords. Try again in a few seconds.")

// BusyRetryAfter is the Retry-After, in seconds, to send with ErrBusy.
const BusyRetryAfter = 2

// acquire takes a slot, waiting at most h.wait and no longer than ctx
// allows.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
	default:
		t := time.NewTimer(h.wait)
		defer t.Stop()
		select {
		case h.slots <- struct{}{}:
		case <-t.C:
			return ErrBusy
		case <-ctx.Done():
			return ErrBusy
		}
	}
	h.mu.Lock()
	h.inUse++
	h.highMark = max(h.highMark, h.inUse)
	h.mu.Unlock()
	return nil
}

func (h *Hasher) release() {
	h.mu.Lock()
	h.inUse--
	h.mu.Unlock()
	<-h.slots
}

// Hash is HashPassword within the bound; ErrBusy when no slot came free.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return HashPassword(password)
}

// Check is CheckPassword within the bound: nil, ErrMismatch or ErrBusy.
func (h *Hasher) Check(ctx context.Context, encoded, password string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	return CheckPassword(encoded, password)
}

// Dummy is DummyCheck within the bound: it spends the time of a check for
// an unknown account. It returns ErrBusy when no slot came free, nil
// otherwise.
func (h *Hasher) Dummy(ctx context.Context, password string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	DummyCheck(password)
	return nil
}
