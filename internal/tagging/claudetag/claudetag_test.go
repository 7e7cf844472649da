package claudetag_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/llm/llmtest"
	"github.com/phantomos/phantomos/internal/tagging"
	"github.com/phantomos/phantomos/internal/tagging/claudetag"
)

const (
	apiKey = "sk-test-key"
	pub    = phantomos.PublisherID("0195f0e2-0000-7000-8000-00000000000a")
	other  = phantomos.PublisherID("0195f0e2-0000-7000-8000-00000000000b")
)

func assetID(n int) string { return fmt.Sprintf("0195f0e2-aaaa-7000-8000-%012d", n) }

// Asset IDs by name.
var (
	pixel       = assetID(1)
	bramblewick = assetID(2)
	nebulaLogo  = assetID(3)
	vela        = assetID(4)
	hammer      = assetID(5)
)

// catalogue is two game IPs and, so that the system prompt is long enough
// to be cached, sixty archived assets that no title names.
func catalogue() []tagging.Asset {
	assets := []tagging.Asset{
		{ID: pixel, GameIP: "Nebula Quest", Name: "Pixel", Type: tagging.Character, Aliases: []string{"Pix"}},
		{ID: bramblewick, GameIP: "Nebula Quest", Name: "Sir Bramblewick", Type: tagging.Character},
		{ID: nebulaLogo, GameIP: "Nebula Quest", Name: "Nebula Quest Logo", Type: tagging.Logo},
		{ID: vela, GameIP: "Starforge", Name: "Captain Vela", Type: tagging.Character, Aliases: []string{"Vela"}},
		{ID: hammer, GameIP: "Starforge", Name: "Forge Hammer", Type: tagging.Item},
	}
	for i := range 60 {
		assets = append(assets, tagging.Asset{ID: assetID(100 + i), GameIP: "Archive", Name: fmt.Sprintf("Retired Mascot Number %02d", i), Type: tagging.Other})
	}
	return assets
}

func product(id, title string) claudetag.Product {
	return claudetag.Product{Product: tagging.Product{ID: id, Title: title}}
}

// newTagger returns a Tagger talking to a fake Messages API through a
// client that fails the test on any other address.
func newTagger(t *testing.T, cfg claudetag.Config, replies ...llmtest.Reply) (*claudetag.Tagger, *llmtest.Server) {
	t.Helper()
	fake := llmtest.NewServer(t, apiKey, replies...)
	u, _ := url.Parse(fake.URL)
	cfg.APIKey, cfg.BaseURL = apiKey, fake.URL
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			if r.URL.Host != u.Host {
				t.Errorf("request to %s: tests reach only the fake", r.URL)
				return nil, errors.New("no network in tests")
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
	}
	tg, err := claudetag.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tg, fake
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// sentProduct is a product block as the fake received it.
type sentProduct struct {
	Ref         string   `json:"ref"`
	Title       string   `json:"title"`
	Vendor      string   `json:"vendor"`
	SKU         string   `json:"sku"`
	Tags        []string `json:"tags"`
	Description string   `json:"description"`
	Matcher     []struct {
		Asset      string  `json:"asset"`
		Confidence float64 `json:"confidence"`
	} `json:"keyword_matcher"`
	Image bool `json:"image_follows"`
	// ImageURL is the URL of the image block right after it, if any.
	ImageURL string `json:"-"`
	Bytes    int    `json:"-"`
}

// sent returns the products of a request in order.
func sent(t *testing.T, r llmtest.Request) []sentProduct {
	t.Helper()
	var out []sentProduct
	for _, b := range r.Body.Blocks(0) {
		switch {
		case b.Type == "text" && strings.HasPrefix(b.Text, `{"ref":`):
			var p sentProduct
			if err := json.Unmarshal([]byte(b.Text), &p); err != nil {
				t.Fatalf("product block %q: %v", b.Text, err)
			}
			p.Bytes = len(b.Text)
			out = append(out, p)
		case b.Type == "image":
			if len(out) == 0 {
				t.Fatalf("an image before any product")
			}
			out[len(out)-1].ImageURL = b.Source.URL
		}
	}
	return out
}

// catalogueRefs reads the asset refs and names of a request's system
// prompt ("a1 | Pixel | character | also: Pix").
func catalogueRefs(r llmtest.Request) map[string][]string {
	refs := map[string][]string{}
	for line := range strings.Lines(r.Body.SystemText()) {
		f := strings.Split(strings.TrimSpace(line), " | ")
		if len(f) < 3 || !strings.HasPrefix(f[0], "a") {
			continue
		}
		names := []string{f[1]}
		if len(f) == 4 {
			names = append(names, strings.Split(strings.TrimPrefix(f[3], "also: "), "; ")...)
		}
		refs[f[0]] = names
	}
	return refs
}

// reader answers like a careful reader of the prompt: an asset whose name
// or alias appears in a product's title, with confidence 0.97.
func reader(r llmtest.Request) llmtest.Reply {
	refs := catalogueRefs(r)
	type asset struct {
		Asset      string  `json:"asset"`
		Confidence float64 `json:"confidence"`
		Reason     string  `json:"reason"`
	}
	type entry struct {
		Product string  `json:"product"`
		Assets  []asset `json:"assets"`
	}
	var entries []entry
	for _, b := range r.Body.Blocks(0) {
		var p sentProduct
		if b.Type != "text" || json.Unmarshal([]byte(b.Text), &p) != nil || p.Ref == "" {
			continue
		}
		e := entry{Product: p.Ref, Assets: []asset{}}
		for ref, names := range refs {
			for _, n := range names {
				if strings.Contains(strings.ToLower(p.Title), strings.ToLower(n)) {
					e.Assets = append(e.Assets, asset{ref, 0.97, fmt.Sprintf("title says %q", n)})
					break
				}
			}
		}
		slices.SortFunc(e.Assets, func(a, b asset) int { return strings.Compare(a.Asset, b.Asset) })
		entries = append(entries, e)
	}
	input, _ := json.Marshal(map[string]any{"products": entries})
	return llmtest.Reply{ToolInput: input}
}

func TestTagBatches(t *testing.T) {
	tg, fake := newTagger(t, claudetag.Config{BatchSize: 4, Concurrency: 2})
	fake.Respond(reader)
	titles := []string{"Pixel Plush 30cm", "Sir Bramblewick Enamel Pin", "Captain Vela Poster", "Forge Hammer Bottle Opener", "Mystery Box",
		"Pix Keychain", "Vela and Pixel Duo Mug", "Nebula Quest Logo Cap", "Gift Card", "Sir Bramblewick Hoodie"}
	var products []claudetag.Product
	for i, title := range titles {
		p := product(fmt.Sprintf("prod-%02d", i), title)
		if i%3 == 0 {
			p.ImageURL = fmt.Sprintf("https://cdn.example.com/%d.jpg", i)
		}
		products = append(products, p)
	}
	products[4].ImageURL = "http://cdn.example.com/insecure.jpg"
	res, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue(), Products: products})
	if err != nil {
		t.Fatal(err)
	}

	reqs := fake.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 batches of at most 4", len(reqs))
	}
	// Batches after the first run concurrently: read them in batch order.
	refNumber := func(r llmtest.Request) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(sent(t, r)[0].Ref, "p"))
		return n
	}
	slices.SortFunc(reqs, func(a, b llmtest.Request) int { return refNumber(a) - refNumber(b) })
	var refs []string
	images := 0
	for i, r := range reqs {
		ps := sent(t, r)
		wantN := []int{4, 4, 2}[i]
		if len(ps) != wantN {
			t.Errorf("request %d has %d products, want %d", i, len(ps), wantN)
		}
		for _, p := range ps {
			refs = append(refs, p.Ref)
			if p.ImageURL != "" {
				images++
				if !p.Image || !strings.HasPrefix(p.ImageURL, "https://") {
					t.Errorf("%s: image %q (announced %v)", p.Ref, p.ImageURL, p.Image)
				}
			}
		}
		b := r.Body
		if b.Model != claudetag.DefaultModel || b.MaxTokens != int64(150*wantN+100) {
			t.Errorf("request %d: model %q, max_tokens %d", i, b.Model, b.MaxTokens)
		}
		if len(b.Tools) != 1 || b.Tools[0].Name != "record_tags" || !b.Tools[0].Strict || !strings.Contains(string(b.Tools[0].InputSchema), `"products"`) {
			t.Errorf("request %d: tools %+v", i, b.Tools)
		}
		if c := b.ToolChoice; c == nil || c.Type != "tool" || c.Name != "record_tags" || !c.DisableParallelToolUse {
			t.Errorf("request %d: tool_choice %+v, want record_tags forced", i, c)
		}
		sys := b.SystemBlocks()
		if len(sys[len(sys)-1].CacheControl) == 0 {
			t.Errorf("request %d: the system prompt is not marked for caching", i)
		}
		if !strings.Contains(b.SystemText(), "a1 | Pixel | character | also: Pix\n") || strings.Contains(b.SystemText(), pixel) {
			t.Errorf("request %d: the catalogue should name assets by ref, not id:\n%s", i, b.SystemText())
		}
	}
	if want := []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10"}; !slices.Equal(refs, want) {
		t.Errorf("product refs %v, want %v", refs, want)
	}
	if images != 4 {
		t.Errorf("%d images sent, want the 4 https ones", images)
	}

	// Answers, in request order, capped below the local calibrated level.
	want := map[string][]string{
		"prod-00": {pixel}, "prod-01": {bramblewick}, "prod-02": {vela}, "prod-03": {hammer}, "prod-04": {},
		"prod-05": {pixel}, "prod-06": {pixel, vela}, "prod-07": {nebulaLogo}, "prod-08": {}, "prod-09": {bramblewick},
	}
	if len(res.Products) != len(titles) || len(res.Failed) != 0 || len(res.Skipped) != 0 {
		t.Fatalf("%d tagged, failed %v, skipped %v", len(res.Products), res.Failed, res.Skipped)
	}
	for i, tp := range res.Products {
		if tp.ProductID != products[i].ID {
			t.Errorf("result %d is %s, want %s", i, tp.ProductID, products[i].ID)
		}
		var got []string
		for k, s := range tp.Suggestions {
			got = append(got, s.AssetID)
			if s.Confidence != 0.85 || s.ExampleBacked || s.Primary != (k == 0) || !strings.HasPrefix(s.Evidence, "title says") || s.Asset == "" || s.GameIP == "" {
				t.Errorf("%s: suggestion %+v", tp.ProductID, s)
			}
		}
		if !slices.Equal(got, want[tp.ProductID]) && !(len(got) == 0 && len(want[tp.ProductID]) == 0) {
			t.Errorf("%s (%s): assets %v, want %v", tp.ProductID, titles[i], got, want[tp.ProductID])
		}
	}

	// Usage: what the fake counted, summed.
	u := res.Usage
	if u.Requests != 3 || u.Batches != 3 || u.Products != 10 || u.Images != 4 || u.Skipped != 0 {
		t.Errorf("usage %+v", u)
	}
	if u.CacheCreationInputTokens == 0 || u.CacheReadInputTokens < 2*u.CacheCreationInputTokens || u.InputTokens == 0 || u.OutputTokens == 0 {
		t.Errorf("usage %+v: want the first batch to write the cached prompt and the two others to read it", u)
	}
	if u.EstimatedInputTokens < int(u.InputTokens+u.CacheCreationInputTokens+u.CacheReadInputTokens) {
		t.Errorf("estimated %d input tokens, below the %d counted: the budget must not underestimate",
			u.EstimatedInputTokens, u.InputTokens+u.CacheCreationInputTokens+u.CacheReadInputTokens)
	}
	if res.Model != claudetag.DefaultModel {
		t.Errorf("model %q", res.Model)
	}
}

func TestTagSendsProductFields(t *testing.T) {
	tg, fake := newTagger(t, claudetag.Config{MaxProductTokens: 200})
	fake.Respond(reader)
	long := "<p>" + strings.Repeat("The finest <b>embroidered</b> cotton &amp; a story of stars. ", 100) + "</p>"
	p := claudetag.Product{
		Product: tagging.Product{ID: "x", Title: "  Pixel\tPlush  ", Description: long, Tags: []string{"plush", "gift"}, SKU: "NQ-PIX-30", Vendor: "Nebula Forge"},
		Local: []tagging.Suggestion{
			{AssetID: pixel, Confidence: 0.72, Evidence: `title "pixel"`},
			{AssetID: "not-in-the-catalogue", Confidence: 0.7},
		},
	}
	short := claudetag.Product{Product: tagging.Product{ID: "y", Title: "Vela Mug", Description: "A mug."}}
	res, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue(), Products: []claudetag.Product{p, short}})
	if err != nil {
		t.Fatal(err)
	}
	ps := sent(t, fake.Requests()[0])
	got := ps[0]
	if got.Title != "Pixel Plush" || got.SKU != "NQ-PIX-30" || got.Vendor != "Nebula Forge" || !slices.Equal(got.Tags, []string{"plush", "gift"}) {
		t.Errorf("fields %+v", got)
	}
	if len(got.Matcher) != 1 || got.Matcher[0].Asset != "a1" || got.Matcher[0].Confidence != 0.72 {
		t.Errorf("keyword matcher %+v, want the known suggestion by its ref", got.Matcher)
	}
	if strings.ContainsAny(got.Description, "<>") || strings.Contains(got.Description, "&amp;") || !strings.HasSuffix(got.Description, "…") || !strings.HasPrefix(got.Description, "The finest embroidered cotton & a story") {
		t.Errorf("description not stripped and cut: %q", got.Description)
	}
	if got.Bytes > 200*3 || got.Bytes < 200*3-80 {
		t.Errorf("product block of %d bytes, want just under the 600 of 200 tokens", got.Bytes)
	}
	if ps[1].Description != "A mug." {
		t.Errorf("short description changed: %q", ps[1].Description)
	}
	if res.Usage.Truncated != 1 {
		t.Errorf("%d products truncated, want 1", res.Usage.Truncated)
	}
}

func TestTagValidatesAnswer(t *testing.T) {
	input := `{"products": [
		{"product": "p1", "assets": [
			{"asset": "a4", "confidence": 1.7, "reason": "Vela on the front"},
			{"asset": "a999", "confidence": 0.9, "reason": "invented"},
			{"asset": "` + vela + `", "confidence": 0.9, "reason": "an id, not a ref"},
			{"asset": "a4", "confidence": 0.8, "reason": "again"},
			{"asset": "a5", "confidence": "high", "reason": "wrong type"},
			{"asset": "a2", "reason": "no confidence"},
			{"asset": "a3", "confidence": 0.2, "reason": "too unsure"},
			{"asset": "a1", "confidence": 0.6, "reason": "the logo", "mood": "sure"},
			{"asset": "a5", "confidence": 0.55, "reason": "a hammer in the picture"}
		]},
		{"product": "p1", "assets": [{"asset": "a1", "confidence": 0.9, "reason": "second entry"}]},
		{"product": "p9", "assets": [{"asset": "a1", "confidence": 0.9, "reason": "not sent"}]},
		{"product": "p2", "assets": []},
		{"assets": [{"asset": "a1", "confidence": 0.9, "reason": "no product"}]},
		"not an object"
	]}`
	tg, fake := newTagger(t, claudetag.Config{}, llmtest.Reply{ToolInput: json.RawMessage(input)})
	res, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue(), Products: []claudetag.Product{
		product("vela-tee", "Starforge Tee"), product("box", "Mystery Box"), product("mug", "Mug"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []claudetag.Tagged{
		{ProductID: "vela-tee", Suggestions: []claudetag.Suggestion{
			{Suggestion: tagging.Suggestion{AssetID: vela, GameIP: "Starforge", Asset: "Captain Vela", Confidence: 0.85, Primary: true, Evidence: "Vela on the front"}},
			{Suggestion: tagging.Suggestion{AssetID: hammer, GameIP: "Starforge", Asset: "Forge Hammer", Confidence: 0.55, Evidence: "a hammer in the picture"}},
		}},
		{ProductID: "box", Suggestions: []claudetag.Suggestion{}},
	}
	if diff := cmp.Diff(want, res.Products); diff != "" {
		t.Errorf("tagged (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]claudetag.Failure{{ProductID: "mug", Reason: "Claude's answer left it out"}}, res.Failed); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
	wantDropped := claudetag.Dropped{UnknownProducts: 1, UnknownAssets: 2, Duplicates: 2, Malformed: 5}
	if diff := cmp.Diff(wantDropped, res.Usage.Dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
	if fake.Calls() != 1 {
		t.Errorf("%d calls", fake.Calls())
	}
}

func TestTagRejectsMalformedAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reply  llmtest.Reply
		reason string
	}{
		{"products not a list", llmtest.Reply{ToolInput: json.RawMessage(`{"products": "p1: Pixel"}`)}, "malformed"},
		{"other fields", llmtest.Reply{ToolInput: json.RawMessage(`{"items": []}`)}, "malformed"},
		{"no products", llmtest.Reply{ToolInput: json.RawMessage(`{}`)}, "malformed"},
		{"input not an object", llmtest.Reply{ToolInput: json.RawMessage(`[{"product": "p1", "assets": []}]`)}, "malformed"},
		{"another tool", llmtest.Reply{ToolInput: json.RawMessage(`{"products": []}`), ToolName: "search"}, "did not call record_tags"},
		{"prose", llmtest.Reply{Text: `p1 is Pixel.`}, "did not call record_tags"},
		{"cut at max_tokens", llmtest.Reply{ToolInput: json.RawMessage(`{"products": []}`), StopReason: "max_tokens"}, "max_tokens"},
		{"refusal", llmtest.Reply{ToolInput: json.RawMessage(`{"products": []}`), StopReason: "refusal"}, "declined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, _ := newTagger(t, claudetag.Config{}, tc.reply)
			res, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue(), Products: []claudetag.Product{
				product("a", "Pixel Plush"), product("b", "Vela Mug"),
			}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Products) != 0 || len(res.Failed) != 2 || res.Usage.Batches != 1 {
				t.Fatalf("tagged %v, failed %v, usage %+v: want the batch rejected", res.Products, res.Failed, res.Usage)
			}
			for _, f := range res.Failed {
				if !strings.Contains(f.Reason, tc.reason) {
					t.Errorf("reason %q, want %q", f.Reason, tc.reason)
				}
			}
		})
	}
}

func TestTagRetries(t *testing.T) {
	req := claudetag.Request{Publisher: pub, Assets: catalogue(), Products: []claudetag.Product{product("a", "Pixel Plush")}}
	t.Run("429 then success", func(t *testing.T) {
		tg, fake := newTagger(t, claudetag.Config{},
			llmtest.Reply{Status: http.StatusTooManyRequests, Message: "Number of request tokens has exceeded your per-minute rate limit", RetryAfter: "0"})
		fake.Respond(reader)
		res, err := tg.Tag(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if fake.Calls() != 2 || res.Usage.Requests != 2 || res.Usage.Batches != 1 || len(res.Products) != 1 || res.Products[0].Suggestions[0].AssetID != pixel {
			t.Errorf("%d calls, result %+v", fake.Calls(), res)
		}
	})
	t.Run("529 and 500 then success", func(t *testing.T) {
		tg, fake := newTagger(t, claudetag.Config{},
			llmtest.Reply{Status: 529, RetryAfter: "0"}, llmtest.Reply{Status: 500, RetryAfter: "0"}, llmtest.Reply{Status: 529, RetryAfter: "0"})
		fake.Respond(reader)
		res, err := tg.Tag(context.Background(), req)
		if err != nil || fake.Calls() != 4 || res.Usage.Requests != 4 || len(res.Products) != 1 {
			t.Errorf("err %v, %d calls, usage %+v: want three retries (the default) to reach the answer", err, fake.Calls(), res.Usage)
		}
	})
	t.Run("overloaded throughout", func(t *testing.T) {
		tg, fake := newTagger(t, claudetag.Config{MaxRetries: 1}, llmtest.Reply{Status: 529, RetryAfter: "0"}, llmtest.Reply{Status: 529, RetryAfter: "0"})
		res, err := tg.Tag(context.Background(), req)
		if phantomos.ErrorCode(err) != phantomos.ERATELIMIT || !strings.Contains(phantomos.ErrorMessage(err), "overloaded") {
			t.Errorf("err %v, want a rate-limit error saying Claude is overloaded", err)
		}
		if apiErr, ok := errors.AsType[*anthropic.Error](err); !ok || apiErr.StatusCode != 529 {
			t.Errorf("the SDK's error is not in the chain: %v", err)
		}
		if fake.Calls() != 2 || res.Usage.Requests != 2 || len(res.Failed) != 1 || res.Failed[0].ProductID != "a" {
			t.Errorf("%d calls, result %+v", fake.Calls(), res)
		}
	})
	t.Run("retry-after beyond the wait", func(t *testing.T) {
		tg, fake := newTagger(t, claudetag.Config{}, llmtest.Reply{Status: http.StatusTooManyRequests, RetryAfter: "3600"})
		_, err := tg.Tag(context.Background(), req)
		if phantomos.ErrorCode(err) != phantomos.ERATELIMIT || !strings.Contains(phantomos.ErrorMessage(err), "Try again in 1h0m0s") {
			t.Errorf("err %v, want a rate-limit error naming the wait", err)
		}
		if fake.Calls() != 1 {
			t.Errorf("%d calls: a wait of an hour must not be slept through", fake.Calls())
		}
	})
	t.Run("bad key", func(t *testing.T) {
		tg, fake := newTagger(t, claudetag.Config{}, llmtest.Reply{Status: http.StatusUnauthorized, Message: "invalid x-api-key"})
		_, err := tg.Tag(context.Background(), req)
		if phantomos.ErrorCode(err) != phantomos.EINTERNAL || !strings.Contains(err.Error(), "refused the key") || fake.Calls() != 1 {
			t.Errorf("err %v after %d calls, want an internal error at once", err, fake.Calls())
		}
	})
}

func TestTagStopsOnErrorKeepingDoneBatches(t *testing.T) {
	tg, fake := newTagger(t, claudetag.Config{BatchSize: 1, Concurrency: 1, MaxRetries: -1})
	var calls atomic.Int32
	fake.Respond(func(r llmtest.Request) llmtest.Reply {
		if calls.Add(1) == 2 {
			return llmtest.Reply{Status: http.StatusBadRequest, Message: "messages.0.content: bad"}
		}
		return reader(r)
	})
	var products []claudetag.Product
	for i := range 3 {
		products = append(products, product(fmt.Sprint(i), "Pixel Plush"))
	}
	res, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue(), Products: products})
	if err == nil || !strings.Contains(err.Error(), "batch 2 of 3") || !strings.Contains(err.Error(), "400") {
		t.Fatalf("err %v, want batch 2's error", err)
	}
	var failed []string
	for _, f := range res.Failed {
		failed = append(failed, f.ProductID)
	}
	if len(res.Products) != 1 || res.Products[0].ProductID != "0" || !slices.Equal(failed, []string{"1", "2"}) || res.Usage.Batches != 1 {
		t.Errorf("tagged %+v, failed %v, usage %+v: want the first batch kept and the others failed", res.Products, res.Failed, res.Usage)
	}
}

func TestTagImageFallback(t *testing.T) {
	tg, fake := newTagger(t, claudetag.Config{})
	fake.Respond(reader)
	fake.RejectImages(func(u string) bool { return strings.HasSuffix(u, "/gone.jpg") })
	a, b := product("a", "Pixel Plush"), product("b", "Vela Mug")
	a.ImageURL, b.ImageURL = "https://cdn.example.com/gone.jpg", "https://cdn.example.com/fine.jpg"
	res, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue(), Products: []claudetag.Product{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want the batch again without images", len(reqs))
	}
	for _, p := range sent(t, reqs[1]) {
		if p.ImageURL != "" || p.Image {
			t.Errorf("resent with an image: %+v", p)
		}
	}
	if u := res.Usage; u.ImagesWithdrawn != 2 || u.Images != 0 || u.Requests != 2 || len(res.Products) != 2 {
		t.Errorf("usage %+v, result %+v", u, res)
	}
}

func TestTagBudgets(t *testing.T) {
	var products []claudetag.Product
	for i := range 8 {
		p := product(fmt.Sprint(i), "Pixel Plush")
		p.Description = strings.Repeat("soft ", 40)
		products = append(products, p)
	}
	products[5].ImageURL = "https://cdn.example.com/5.jpg"
	req := claudetag.Request{Publisher: pub, Assets: catalogue(), Products: products}

	t.Run("max products", func(t *testing.T) {
		tg, fake := newTagger(t, claudetag.Config{MaxProducts: 5})
		fake.Respond(reader)
		res, err := tg.Tag(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Skipped, []string{"5", "6", "7"}) || res.Usage.Skipped != 3 || len(res.Products) != 5 || len(sent(t, fake.Requests()[0])) != 5 {
			t.Errorf("skipped %v, %d tagged", res.Skipped, len(res.Products))
		}
	})

	// What the whole run is estimated at, in batches of two.
	tg, fake := newTagger(t, claudetag.Config{BatchSize: 2})
	fake.Respond(reader)
	full, err := tg.Tag(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	whole := full.Usage.EstimatedInputTokens
	t.Run("input tokens", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			budget  int
			skipped []string
		}{
			{"all fit", whole, nil},
			{"the last does not fit", whole - 1, []string{"7"}},
			// Products 6 and 7 form the fourth batch: without it, the
			// image of product 5 (1,600 tokens) no longer fits either.
			{"a batch's prompt and an image", whole - full.Usage.EstimatedInputTokens/4 - 10, []string{"5", "6", "7"}},
			{"nothing fits", 100, []string{"0", "1", "2", "3", "4", "5", "6", "7"}},
		} {
			tg, fake := newTagger(t, claudetag.Config{BatchSize: 2, MaxInputTokens: tc.budget})
			fake.Respond(reader)
			res, err := tg.Tag(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Skipped, tc.skipped) {
				t.Errorf("%s: skipped %v, want %v", tc.name, res.Skipped, tc.skipped)
			}
			if res.Usage.EstimatedInputTokens > tc.budget {
				t.Errorf("%s: estimated %d over the budget %d", tc.name, res.Usage.EstimatedInputTokens, tc.budget)
			}
			if len(res.Products)+len(res.Skipped) != 8 || fake.Calls() != (8-len(tc.skipped)+1)/2 {
				t.Errorf("%s: %d tagged, %d calls", tc.name, len(res.Products), fake.Calls())
			}
		}
	})
}

func TestTagExamples(t *testing.T) {
	examples := []claudetag.Example{
		{Publisher: pub, Title: "Nebula Nights Tee", AssetIDs: []string{pixel}},
		{Publisher: pub, Title: "Nebula Nights Mug", AssetIDs: []string{pixel, nebulaLogo}},
		{Publisher: pub, Title: "Nebula Nights Sticker", AssetIDs: []string{pixel}},
		{Publisher: pub, Title: "Nebula Nights Pin", AssetIDs: []string{pixel}},
		{Publisher: pub, Title: "Starlight Tee", AssetIDs: []string{vela}},
		{Publisher: pub, Title: "Starlight Poster", AssetIDs: []string{vela}},
		{Publisher: pub, Title: "Starlight Mug", AssetIDs: []string{bramblewick}},
		{Publisher: pub, Title: "Old line", AssetIDs: []string{"0195f0e2-dead-7000-8000-000000000000"}},
		{Publisher: pub, Title: "Forge Night Lamp", AssetIDs: []string{hammer}},
	}
	products := []claudetag.Product{product("nights-cap", "Nebula Nights Cap"), product("starlight-cap", "Starlight Cap"), product("tee", "Blank Tee")}
	input := `{"products": [
		{"product": "p1", "assets": [{"asset": "a1", "confidence": 0.99, "reason": "the Nebula Nights line is Pixel's"}]},
		{"product": "p2", "assets": [{"asset": "a4", "confidence": 0.99, "reason": "Starlight is mostly Vela"}]},
		{"product": "p3", "assets": [{"asset": "a1", "confidence": 0.99, "reason": "tees are Pixel's"}]}
	]}`
	tg, fake := newTagger(t, claudetag.Config{MaxExamples: 4}, llmtest.Reply{ToolInput: json.RawMessage(input)})
	res, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue(), Examples: examples, Products: products})
	if err != nil {
		t.Fatal(err)
	}
	sys := fake.Requests()[0].Body.SystemText()
	var shown []string
	for line := range strings.Lines(sys) {
		if strings.HasPrefix(line, `"`) {
			shown = append(shown, strings.TrimSpace(line))
		}
	}
	// Those sharing most words with the products, at most three for one
	// main asset, shown in the caller's order.
	want := []string{`"Nebula Nights Tee" → a1`, `"Nebula Nights Mug" → a1, a3`, `"Nebula Nights Sticker" → a1`, `"Starlight Tee" → a4`}
	if !slices.Equal(shown, want) {
		t.Errorf("examples shown:\n%s\nwant:\n%s", strings.Join(shown, "\n"), strings.Join(want, "\n"))
	}
	if res.Usage.Dropped.Examples != 1 {
		t.Errorf("%d examples dropped, want the one with an unknown asset", res.Usage.Dropped.Examples)
	}
	// "Nebula Nights" was mapped to Pixel four times, and every time with
	// Pixel: the cap lifts, even from examples not shown. "Starlight" went to Vela twice but to Sir Bramblewick
	// too, and "Tee" to two assets: capped.
	got := map[string]claudetag.Suggestion{}
	for _, tp := range res.Products {
		got[tp.ProductID] = tp.Suggestions[0]
	}
	for id, want := range map[string]struct {
		conf   float64
		backed bool
	}{"nights-cap": {0.95, true}, "starlight-cap": {0.85, false}, "tee": {0.85, false}} {
		if s := got[id]; s.Confidence != want.conf || s.ExampleBacked != want.backed {
			t.Errorf("%s: confidence %v backed %v, want %v %v", id, s.Confidence, s.ExampleBacked, want.conf, want.backed)
		}
	}
}

func TestTagRefusesOtherPublishersExamples(t *testing.T) {
	tg, fake := newTagger(t, claudetag.Config{})
	fake.Respond(reader)
	_, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue(),
		Examples: []claudetag.Example{
			{Publisher: pub, Title: "Pixel Tee", AssetIDs: []string{pixel}},
			{Publisher: other, Title: "Secret Line Tee", AssetIDs: []string{pixel}},
		},
		Products: []claudetag.Product{product("a", "Pixel Plush")}})
	if phantomos.ErrorCode(err) != phantomos.EINVALID || !strings.Contains(phantomos.ErrorMessage(err), "Example 2 belongs to another publisher") {
		t.Errorf("err %v", err)
	}
	if fake.Calls() != 0 {
		t.Errorf("%d calls: nothing may be sent", fake.Calls())
	}
}

func TestTagInvalidRequests(t *testing.T) {
	ok := []claudetag.Product{product("a", "Pixel Plush")}
	huge := catalogue()
	for i := range 3000 {
		huge = append(huge, tagging.Asset{ID: fmt.Sprint("extra-", i), GameIP: "Archive", Name: fmt.Sprintf("Another Long Retired Mascot Name %04d", i), Aliases: []string{"alias one", "alias two"}})
	}
	for _, tc := range []struct {
		name string
		req  claudetag.Request
		msg  string
	}{
		{"no publisher", claudetag.Request{Assets: catalogue(), Products: ok}, "publisher"},
		{"no assets", claudetag.Request{Publisher: pub, Products: ok}, "no assets"},
		{"asset twice", claudetag.Request{Publisher: pub, Assets: append(catalogue(), catalogue()[0]), Products: ok}, "twice"},
		{"product twice", claudetag.Request{Publisher: pub, Assets: catalogue(), Products: append(ok, ok...)}, "twice"},
		{"product without id", claudetag.Request{Publisher: pub, Assets: catalogue(), Products: []claudetag.Product{product("", "Pixel")}}, "no ID"},
		{"catalogue too long", claudetag.Request{Publisher: pub, Assets: huge, Products: ok}, "one game IP at a time"},
	} {
		tg, fake := newTagger(t, claudetag.Config{})
		_, err := tg.Tag(context.Background(), tc.req)
		if phantomos.ErrorCode(err) != phantomos.EINVALID || !strings.Contains(phantomos.ErrorMessage(err), tc.msg) {
			t.Errorf("%s: err %v, want invalid mentioning %q", tc.name, err, tc.msg)
		}
		if fake.Calls() != 0 {
			t.Errorf("%s: %d calls", tc.name, fake.Calls())
		}
	}
	tg, fake := newTagger(t, claudetag.Config{})
	res, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue()})
	if err != nil || len(res.Products) != 0 || fake.Calls() != 0 {
		t.Errorf("no products: %+v, %v, %d calls", res, err, fake.Calls())
	}
	if _, err := claudetag.New(claudetag.Config{}); err == nil {
		t.Errorf("New without a key succeeded")
	}
}

func TestTagTimeout(t *testing.T) {
	hang := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})}
	tg, _ := newTagger(t, claudetag.Config{HTTPClient: hang, Timeout: 20 * time.Millisecond})
	res, err := tg.Tag(context.Background(), claudetag.Request{Publisher: pub, Assets: catalogue(), Products: []claudetag.Product{product("a", "Pixel Plush")}})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer in time") {
		t.Errorf("err %v, want the run's deadline", err)
	}
	if len(res.Failed) != 1 {
		t.Errorf("failed %v", res.Failed)
	}
}

func TestUnsure(t *testing.T) {
	withLocal := func(id string, confs ...float64) claudetag.Product {
		p := product(id, id)
		for _, c := range confs {
			p.Local = append(p.Local, tagging.Suggestion{AssetID: pixel, Confidence: c})
		}
		return p
	}
	ps := []claudetag.Product{withLocal("none"), withLocal("low", 0.62), withLocal("sure", 0.93, 0.7), withLocal("edge", 0.9), withLocal("mixed", 0.8, 0.89)}
	ids := func(ps []claudetag.Product) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	if got := ids(claudetag.Unsure(ps, 0)); !slices.Equal(got, []string{"none", "low", "mixed"}) {
		t.Errorf("Unsure(0.9) = %v", got)
	}
	if got := ids(claudetag.Unsure(ps, 0.7)); !slices.Equal(got, []string{"none", "low"}) {
		t.Errorf("Unsure(0.7) = %v", got)
	}
}

func TestDescribe(t *testing.T) {
	if !strings.Contains(claudetag.Describe(""), "local tagger") || !strings.Contains(claudetag.Describe(""), "ANTHROPIC_API_KEY") {
		t.Errorf("without a key: %q", claudetag.Describe(""))
	}
	if !strings.Contains(claudetag.Describe("k"), "Claude") {
		t.Errorf("with a key: %q", claudetag.Describe("k"))
	}
}
