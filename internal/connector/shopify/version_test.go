package shopify

import (
	"testing"
	"time"
)

// retirementMargin is how long before its retirement the pinned version
// must be moved forward.
const retirementMargin = 60 * 24 * time.Hour

// pinnedVersionTooOld reports whether version is within the margin of its
// retirement at now.
func pinnedVersionTooOld(version string, now time.Time) (bool, time.Time, error) {
	end, err := VersionRetirement(version)
	if err != nil {
		return false, end, err
	}
	return !now.Before(end.Add(-retirementMargin)), end, nil
}

// TestPinnedVersionSupported fails when the pinned Admin API version is
// within 60 days of leaving Shopify's support window, today by the clock.
func TestPinnedVersionSupported(t *testing.T) {
	old, end, err := pinnedVersionTooOld(APIVersion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if old {
		t.Fatalf("Admin API %s is retired on %s: move APIVersion to a newer version (and its schema) now", APIVersion, end.Format(time.DateOnly))
	}
}

func TestVersionRetirement(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	cases := []struct {
		version string
		now     time.Time
		end     string
		old     bool
	}{
		{"2026-10", day("2026-12-06"), "2027-10-01", false},
		{"2026-10", day("2027-08-01"), "2027-10-01", false},
		{"2026-10", day("2027-08-02"), "2027-10-01", true}, // 60 days before
		{"2025-10", day("2026-12-06"), "2026-10-01", true}, // the version this issue found pinned
		{"2026-01", day("2026-12-06"), "2027-01-01", true},
	}
	for _, c := range cases {
		old, end, err := pinnedVersionTooOld(c.version, c.now)
		if err != nil {
			t.Fatal(err)
		}
		if end.Format(time.DateOnly) != c.end || old != c.old {
			t.Errorf("%s at %s: retires %s, too old %v; want %s, %v", c.version, c.now.Format(time.DateOnly), end.Format(time.DateOnly), old, c.end, c.old)
		}
	}
	for _, bad := range []string{"2026-11", "unstable", "2026-1", ""} {
		if _, err := VersionRetirement(bad); err == nil {
			t.Errorf("VersionRetirement(%q) accepted", bad)
		}
	}
}
