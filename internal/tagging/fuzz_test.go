package tagging

import (
	"runtime"
	"strings"
	"testing"
)

// suggestBudget is the most one Suggest call may allocate, in bytes,
// whatever the product: the tagger reads a bounded prefix of every field.
// Ordinary titles take a few KiB; the unbounded tagger took 25 MB for a
// 5,000-letter word and 3.6 GB for a 60,000-letter one.
const suggestBudget = 512 << 10

// allocPerCall returns the bytes f allocates per call, averaged over a few
// calls after a first one that warms the tagger's scratch pool.
func allocPerCall(f func()) uint64 {
	f()
	const runs = 3
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

// FuzzSuggest feeds the tagger arbitrary and hostile products. Each input
// is a title and a description, each repeated (so that a short corpus
// entry stands for megabytes of text); the seeds are the inputs that took
// the unbounded tagger down. For every input Suggest must return
// well-formed suggestions, the same ones twice, and allocate at most
// suggestBudget bytes. The seeds run in every `go test`.
func FuzzSuggest(f *testing.F) {
	for _, s := range []struct {
		title, desc string
		reps        uint32
	}{
		{"Darth Vader Plush", "", 0},
		{"x", "", 4_999},        // a 5,000-letter word
		{"x", "", 59_999},       // a 60,000-letter word (the crash of issue 12)
		{"pikachuu", "", 7_499}, // a 60,000-letter word near a catalogue name
		{"lorem ipsum dolor sit amet ", "Yoda Pikachu Mario ", 400_000}, // ~10 MB title and ~7 MB description
		{"a b ", "", 2_500_000}, // 10 MB of one-letter words
		{"Darth Vader Luke Skywalker Pikachu Mario Link ", "<p>Zelda ", 200_000}, // names everywhere
		{"ピカチュウ皮卡丘", "", 400_000},                                                // unspaced script, one token per character
		{"e\u0301\u0308", "", 1_000_000},                                         // combining marks
		{"\ufdfa", "", 500_000},                                                  // one character that decomposes into 18
		{"<", "<b", 3_000_000},                                                   // markup that never closes
		{"\xff\xfe", "\x00", 1_000_000},                                          // invalid UTF-8 and NULs
		{"Mario's Farfetch'd r.o.b. chun-li ", "", 100_000},
	} {
		f.Add(s.title, s.desc, s.reps)
	}
	tg := newTestTagger(f)
	known := map[string]bool{}
	for _, a := range testCatalogue() {
		known[a.ID] = true
	}
	f.Fuzz(func(t *testing.T, title, desc string, reps uint32) {
		// Keep each field under 16 MB so the fuzzer explores size
		// without exhausting the machine.
		n := int(reps%4_000_000) + 1
		if len(title)*n > 16<<20 || len(desc)*n > 16<<20 {
			n = 16 << 20 / max(len(title), len(desc), 1)
		}
		p := Product{ID: "p", Title: strings.Repeat(title, n), Description: strings.Repeat(desc, n), Tags: []string{title, desc}, SKU: title, Vendor: desc}
		got := tg.Suggest(p)
		checkSuggestions(t, got, known)
		if again := tg.Suggest(p); !sameSuggestions(got, again) {
			t.Fatalf("not deterministic: %+v then %+v", got, again)
		}
		b := allocPerCall(func() { tg.Suggest(p) })
		if b > suggestBudget {
			t.Fatalf("Suggest of a %d-byte title and %d-byte description allocated %d bytes, budget %d", len(p.Title), len(p.Description), b, suggestBudget)
		}
	})
}

func checkSuggestions(t *testing.T, got []Suggestion, known map[string]bool) {
	t.Helper()
	primaries := 0
	seen := map[string]bool{}
	for _, s := range got {
		if !known[s.AssetID] || seen[s.AssetID] {
			t.Fatalf("unknown or repeated asset %q in %+v", s.AssetID, got)
		}
		seen[s.AssetID] = true
		if !(s.Confidence >= 0.6 && s.Confidence <= 1) {
			t.Fatalf("confidence %v out of range in %+v", s.Confidence, got)
		}
		if s.Primary {
			primaries++
		}
		if len(s.Evidence) > 2*maxTitleBytes {
			t.Fatalf("evidence of %d bytes", len(s.Evidence))
		}
	}
	if len(got) > 0 && primaries != 1 {
		t.Fatalf("%d primaries in %+v", primaries, got)
	}
	if len(got) > 8 {
		t.Fatalf("%d suggestions, more than MaxSuggestions", len(got))
	}
}

func sameSuggestions(a, b []Suggestion) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A hostile catalogue entry (a 60,000-letter name, thousands of aliases,
// a name of thousands of words) costs the index a bounded amount, like any
// other asset: the typo index holds one string per letter of each word, so
// unbounded it grew with the square of the longest name.
func TestNewTaggerBounded(t *testing.T) {
	base := testCatalogue()
	hostile := append(testCatalogue(), Asset{
		ID: "hostile", GameIP: strings.Repeat("Quest ", 10_000), Name: strings.Repeat("q", 60_000), Type: Character,
		Aliases: append([]string{strings.Repeat("w", 60_000), strings.Repeat("word ", 20_000)}, strings.Split(strings.Repeat("alias|", 10_000), "|")...),
	})
	build := func(assets []Asset) func() {
		return func() {
			if _, err := NewTagger(assets, Options{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := allocPerCall(build(base))
	got := allocPerCall(build(hostile))
	// One more asset may cost what a few ordinary ones do, not megabytes.
	if got > want+256<<10 {
		t.Errorf("NewTagger with a hostile asset allocated %d bytes, %d without it", got, want)
	}
	tg, err := NewTagger(hostile, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(tg.Suggest(Product{Title: "Darth Vader Plush"})); len(got) != 1 || got[0] != "sw-vader" {
		t.Errorf("the rest of the catalogue still works: got %v", got)
	}
}

// Text past the bounds is not read, but text within them is: a name early
// in a long description still counts, one after the first 8 KiB does not.
func TestSuggestReadsAPrefix(t *testing.T) {
	tg := newTestTagger(t)
	filler := strings.Repeat("lorem ipsum ", 2000)
	early := tg.Suggest(Product{Title: "Plush", Description: "Pikachu plush. " + filler})
	if got := ids(early); len(got) != 1 || got[0] != "p-pikachu" {
		t.Errorf("name at the start of a long description: got %v", got)
	}
	if got := tg.Suggest(Product{Title: "Plush", Description: filler + " Pikachu"}); got != nil {
		t.Errorf("name after the read prefix: got %+v, want nothing", got)
	}
	if got := ids(tg.Suggest(Product{Title: strings.Repeat("x", 60_000) + " Pikachu Plush"})); got != nil {
		t.Errorf("a title whose first 2 KiB is one word: got %v", got)
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"hello world again", 13, "hello world"},
		{"xxxxxxxxxxxx", 5, "xxxxx"},
		{"ééééé", 5, "éé"}, // never half a character
		{"a ééééé", 6, "a éé"},
	} {
		if got := clip(c.in, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
