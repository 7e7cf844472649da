package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func TestAskQuestions(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newInsightPublisher(t, s, "ask-a")
		b := newInsightPublisher(t, s, "ask-b")
		ua := mustUser(t, s, a.ID, "u@a.io", phantomos.RoleAnalyst)
		ua2 := mustUser(t, s, a.ID, "v@a.io", phantomos.RoleAnalyst)
		ub := mustUser(t, s, b.ID, "u@b.io", phantomos.RoleAnalyst)
		for i := range 25 {
			if err := s.SaveAskQuestion(ctx, a.ID, ua.ID, fmt.Sprintf("question %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		// Asked again: moves to the top, listed once.
		if err := s.SaveAskQuestion(ctx, a.ID, ua.ID, "question 10"); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveAskQuestion(ctx, b.ID, ub.ID, "secret of b"); err != nil {
			t.Fatal(err)
		}
		got, err := s.AskQuestions(ctx, a.ID, ua.ID)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, q := range got {
			texts = append(texts, q.Question)
		}
		want := []string{"question 10"}
		for i := 24; len(want) < store.MaxAskQuestions; i-- {
			if i != 10 {
				want = append(want, fmt.Sprintf("question %d", i))
			}
		}
		if diff := cmp.Diff(want, texts); diff != "" {
			t.Errorf("recent questions (-want +got):\n%s", diff)
		}
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM ask_questions WHERE user_id = $1`, ua.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != store.MaxAskQuestions {
			t.Errorf("%d rows kept, want %d", n, store.MaxAskQuestions)
		}
		// Another user, or the same user id asked through another publisher,
		// sees nothing of them.
		for _, c := range []struct {
			pub  phantomos.PublisherID
			user string
		}{{a.ID, ua2.ID}, {b.ID, ua.ID}, {a.ID, ub.ID}} {
			got, err := s.AskQuestions(ctx, c.pub, c.user)
			if err != nil || len(got) != 0 {
				t.Errorf("AskQuestions(%s, %s) = %v, %v; want none", c.pub, c.user, got, err)
			}
		}
	})
}
