package platforms

import (
	"testing"

	"github.com/phantomos/phantomos/internal/connector/platform"
)

// TestRegistrationsAreValid checks the list: types, names and routes
// (package platform's Check), and that it configures with an empty
// environment.
func TestRegistrationsAreValid(t *testing.T) {
	if err := platform.Check(All()); err != nil {
		t.Fatal(err)
	}
	reg, err := platform.Open(All(), platform.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range All() {
		p, ok := reg.Get(r.Type)
		if ok != r.Live() {
			t.Errorf("%s: configured %v, live %v", r.Type, ok, r.Live())
		}
		if ok && (p.Info().Type != r.Type || p.Info().Name != r.Name || len(p.Info().Methods) == 0) {
			t.Errorf("%s: Info %+v does not match its registration", r.Type, p.Info())
		}
	}
}
