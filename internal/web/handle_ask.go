package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/ask"
	"github.com/phantomos/phantomos/internal/store"
)

// askResult is a question's outcome: an answer, or what was not
// understood with questions that would be.
type askResult struct {
	Question    string   `json:"question"`
	Understood  bool     `json:"understood"`
	Message     string   `json:"message,omitempty"`
	Suggestions []string `json:"suggestions,omitempty"`
	// Interpreter is the interpreter that understood the question or, for
	// one not understood, the last that read it. It
	// shadows the Answer's own field in JSON, holding the same value.
	Interpreter string `json:"interpreter,omitempty"`
	*ask.Answer
}

// ask answers question for the request's publisher. Everything it reads
// is the actor's own publisher's: the catalogue the question is linked
// against and the figures.
func (s *Server) ask(ctx context.Context, a *phantomos.Actor, question string) (*askResult, *ask.Asker, error) {
	pub, version, err := s.store.PublisherVersion(ctx, a.PublisherID)
	if err != nil {
		return nil, nil, err
	}
	// The catalogue is read once per data version of the publisher: every
	// write that changes assets, products or sales changes the version.
	key := url.Values{"pub": {string(pub.ID)}, "version": {strconv.FormatInt(version, 10)}, "kind": {"ask-catalogue"}}.Encode()
	cached, err := s.answers.get(ctx, key, func(ctx context.Context) (any, error) {
		return ask.LoadCatalogue(ctx, s.store, pub.ID)
	})
	if err != nil {
		return nil, nil, err
	}
	asker := ask.NewWith(s.store, pub, cached.val.(*ask.Catalogue), s.now)
	if s.cfg.AnthropicAPIKey != "" {
		asker.UseClaude(ask.NewClaude(ask.ClaudeConfig{APIKey: s.cfg.AnthropicAPIKey, Model: s.cfg.AnthropicModel, BaseURL: s.cfg.AnthropicBaseURL}))
	}
	question = strings.TrimSpace(question)
	res := &askResult{Question: question}
	if question == "" {
		return res, asker, nil
	}
	if len(question) > ask.MaxQuestion {
		return nil, nil, phantomos.Errorf(phantomos.EINVALID, "The question (field question) is longer than %d characters.", ask.MaxQuestion)
	}
	if a.UserID != "" {
		// The recent list is a convenience: a failure to keep it costs
		// nothing of the answer.
		if err := s.store.SaveAskQuestion(ctx, a.PublisherID, a.UserID, question); err != nil {
			s.logger.Warn("save question", "err", err)
		}
	}
	ans, err := asker.Ask(ctx, question)
	var nu *ask.NotUnderstood
	switch {
	case errors.As(err, &nu):
		if nu.Cause != nil {
			s.logger.Warn("ask: claude gave no usable reading", "publisher", a.PublisherID, "err", nu.Cause)
		}
		res.Message = "I did not understand that question. " + nu.Reason
		res.Interpreter = cmp.Or(nu.Interpreter, ask.InterpreterLocal)
		res.Suggestions = ask.Suggestions(asker.Catalogue())
		return res, asker, nil
	case err != nil:
		return nil, nil, err
	}
	res.Understood, res.Answer, res.Interpreter = true, ans, ans.Interpreter
	return res, asker, nil
}

type askPage struct {
	Result      *askResult
	Recent      []store.AskQuestion
	Suggestions []string
}

func (s *Server) handleAskPage(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	res, asker, err := s.ask(r.Context(), a, r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	p := askPage{Suggestions: ask.Suggestions(asker.Catalogue())}
	if res.Question != "" {
		p.Result = res
	}
	if a.UserID != "" {
		if p.Recent, err = s.store.AskQuestions(r.Context(), a.PublisherID, a.UserID); err != nil {
			return err
		}
	}
	data := s.pageData(r, "Ask", "ask")
	data.Data = p
	return s.render(w, http.StatusOK, "ask", data)
}

func (s *Server) handleAPIAsk(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Question string `json:"question"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Question) == "" {
		return phantomos.Errorf(phantomos.EINVALID, "The question (field question) is empty.")
	}
	res, _, err := s.ask(r.Context(), phantomos.ActorFrom(r.Context()), req.Question)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, res)
}
