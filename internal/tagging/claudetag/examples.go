package claudetag

import (
	"slices"
)

// example is a confirmed mapping reduced to what the prompt and the
// backing check use.
type example struct {
	title  string
	assets []int // indexes into the request's assets, the primary first
	words  []string
}

// examplesPerAsset is how many examples one main asset may take before
// every other asset has had its turn.
const examplesPerAsset = 3

// chooseExamples picks up to n examples for a run: those sharing the most
// words with the run's products first, at most examplesPerAsset per main
// asset while others wait, and in the caller's order among equals. The
// chosen ones keep the caller's order so that the prompt reads the same
// whatever the scores.
func chooseExamples(examples []example, items []*item, n int) []example {
	if len(examples) <= n {
		return examples
	}
	vocab := map[string]bool{}
	for _, it := range items {
		for _, w := range it.words {
			vocab[w] = true
		}
	}
	order := make([]int, len(examples))
	score := make([]int, len(examples))
	for i, e := range examples {
		order[i] = i
		for _, w := range e.words {
			if vocab[w] {
				score[i]++
			}
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return score[b] - score[a] })
	taken := make([]bool, len(examples))
	perAsset := map[int]int{}
	var picked []int
	for _, i := range order {
		if len(picked) == n {
			break
		}
		if main := examples[i].assets[0]; perAsset[main] < examplesPerAsset {
			perAsset[main]++
			taken[i] = true
			picked = append(picked, i)
		}
	}
	for _, i := range order {
		if len(picked) == n {
			break
		}
		if !taken[i] {
			picked = append(picked, i)
		}
	}
	slices.Sort(picked)
	out := make([]example, len(picked))
	for k, i := range picked {
		out[k] = examples[i]
	}
	return out
}

// backing tells whether a publisher's confirmed examples back a
// suggestion: the product shares a word with at least two examples, and
// every example containing that word was mapped to the suggested asset. It
// is the product-line naming the local tagger learns from feedback, checked
// here so that Claude's word alone never lifts a confidence.
type backing struct {
	count  map[string]int   // examples containing the word
	common map[string][]int // assets of every example containing the word
}

func newBacking(examples []example) backing {
	b := backing{count: map[string]int{}, common: map[string][]int{}}
	for _, e := range examples {
		for _, w := range e.words {
			if b.count[w] == 0 {
				b.common[w] = slices.Clone(e.assets)
			} else {
				b.common[w] = slices.DeleteFunc(b.common[w], func(a int) bool { return !slices.Contains(e.assets, a) })
			}
			b.count[w]++
		}
	}
	return b
}

// backs reports whether a product with these words is backed for asset.
func (b backing) backs(words []string, asset int) bool {
	for _, w := range words {
		if b.count[w] >= 2 && slices.Contains(b.common[w], asset) {
			return true
		}
	}
	return false
}
