package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestHasherBound runs many hashes at once through a hasher with two
// slots: no more than two ever run together, the ones that cannot get a
// slot within the wait are refused with ErrBusy, and the rest hash
// correctly. Run it with -race.
func TestHasherBound(t *testing.T) {
	h := NewHasher(2*HashMemory+HashMemory/2, 50*time.Millisecond)
	if h.Slots() != 2 {
		t.Fatalf("Slots = %d, want 2 (budget of 2.5 hashes)", h.Slots())
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, busy int
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc, err := h.Hash(context.Background(), "correct horse battery")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrBusy):
				busy++
			case err != nil:
				t.Errorf("Hash: %v", err)
			default:
				ok++
				if CheckPassword(enc, "correct horse battery") != nil {
					t.Error("a bounded hash does not check")
				}
			}
		}()
	}
	wg.Wait()
	if hw := h.HighWater(); hw < 1 || hw > 2 {
		t.Errorf("HighWater = %d, want 1..2", hw)
	}
	if ok == 0 || busy == 0 || ok+busy != 12 {
		t.Errorf("%d hashed, %d busy: want some of each, 12 in all (a 50 ms wait cannot absorb 12 hashes on 2 slots)", ok, busy)
	}
}

// TestHasherRespectsContext: a request that gives up while waiting for a
// slot is answered at once, not after the whole wait.
func TestHasherRespectsContext(t *testing.T) {
	h := NewHasher(1, time.Minute)
	if h.Slots() != 1 {
		t.Fatalf("Slots = %d, want at least 1", h.Slots())
	}
	h.slots <- struct{}{} // the one slot is taken
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := h.Check(ctx, "", "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Check with every slot taken = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waited %v for a cancelled request", d)
	}
	<-h.slots
	if err := h.Dummy(context.Background(), "x"); err != nil {
		t.Errorf("Dummy with a free slot = %v", err)
	}
}

// TestCheckPasswordRefusesCostlyParameters: a stored hash asking for more
// memory than ours would break the hasher's budget, so it never matches.
func TestCheckPasswordRefusesCostlyParameters(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	costly := "$argon2id$v=19$m=4194304,t=3,p=2$" + h[len("$argon2id$v=19$m=65536,t=3,p=2$"):]
	if err := CheckPassword(costly, "correct horse battery"); err != ErrMismatch {
		t.Errorf("hash with m=4 GiB: %v, want mismatch", err)
	}
}
