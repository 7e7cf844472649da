// Package llmtest is a fake of Anthropic's Messages API for tests: an
// httptest server that speaks the documented wire format (POST
// /v1/messages with an API key and an anthropic-version header; a message
// with content blocks, stop_reason and usage; errors as
// {"type":"error","error":{"type":…,"message":…}} with their HTTP statuses
// and retry-after) and answers from a script.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Reply is one scripted answer.
type Reply struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Text is the text of the answer's single content block (200 only).
	Text string
	// StopReason defaults to "end_turn".
	StopReason string
	// ErrorType and Message describe an error reply; ErrorType defaults to
	// the type the API documents for Status (rate_limit_error for 429,
	// overloaded_error for 529 …).
	ErrorType, Message string
	// RetryAfter, when set, is sent as the retry-after header (seconds).
	RetryAfter string
}

// Request is a request the server received and accepted as well formed.
type Request struct {
	Header http.Header
	Body   MessageRequest
}

// MessageRequest is the part of a Messages API request the fake reads.
type MessageRequest struct {
	Model        string          `json:"model"`
	MaxTokens    int64           `json:"max_tokens"`
	System       json.RawMessage `json:"system"`
	Messages     []message       `json:"messages"`
	OutputConfig json.RawMessage `json:"output_config"`
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// SystemText returns the request's system prompt as one string.
func (r MessageRequest) SystemText() string {
	var s string
	if json.Unmarshal(r.System, &s) == nil {
		return s
	}
	var blocks []struct {
		Type, Text string
	}
	json.Unmarshal(r.System, &blocks)
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(bl.Text)
	}
	return b.String()
}

// Server is a fake Messages API. Replies are served in the order they were
// pushed; a well-formed request with none left gets a 500 api_error.
type Server struct {
	// URL is the base URL to give the SDK (option.WithBaseURL).
	URL string
	// APIKey is the only key the server accepts.
	APIKey string

	mu       sync.Mutex
	replies  []Reply
	requests []Request
	calls    int
}

// NewServer starts a fake accepting apiKey, answering with replies, and
// stops it when the test ends.
func NewServer(t testing.TB, apiKey string, replies ...Reply) *Server {
	s := &Server{APIKey: apiKey, replies: replies}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Push appends replies to the script.
func (s *Server) Push(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, replies...)
}

// Requests returns the well-formed requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls returns how many HTTP requests reached the server, well formed or
// not.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// errorTypes are the documented error types per status.
var errorTypes = map[int]string{
	http.StatusBadRequest:            "invalid_request_error",
	http.StatusUnauthorized:          "authentication_error",
	http.StatusForbidden:             "permission_error",
	http.StatusNotFound:              "not_found_error",
	http.StatusRequestEntityTooLarge: "request_too_large",
	http.StatusTooManyRequests:       "rate_limit_error",
	http.StatusInternalServerError:   "api_error",
	529:                              "overloaded_error",
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.mu.Unlock()
	w.Header().Set("request-id", fmt.Sprintf("req_fake_%04d", n))
	if r.URL.Path != "/v1/messages" {
		writeError(w, http.StatusNotFound, "", "Not found: "+r.URL.Path, "")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "Method not allowed.", "")
		return
	}
	key := r.Header.Get("x-api-key")
	if key == "" {
		// The SDK may send the key as a bearer token instead.
		key = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if key == "" || key != s.APIKey {
		writeError(w, http.StatusUnauthorized, "", "invalid x-api-key", "")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		writeError(w, http.StatusBadRequest, "", "anthropic-version: header is required", "")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusBadRequest, "", "Content-Type must be application/json", "")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "", "unreadable body", "")
		return
	}
	var body MessageRequest
	if err := json.Unmarshal(raw, &body); err != nil {
		writeError(w, http.StatusBadRequest, "", "body: "+err.Error(), "")
		return
	}
	if msg := validate(body); msg != "" {
		writeError(w, http.StatusBadRequest, "", msg, "")
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Header: r.Header.Clone(), Body: body})
	var reply Reply
	ok := len(s.replies) > 0
	if ok {
		reply, s.replies = s.replies[0], s.replies[1:]
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusInternalServerError, "", "llmtest: no scripted reply left", "")
		return
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		writeError(w, reply.Status, reply.ErrorType, reply.Message, reply.RetryAfter)
		return
	}
	stop := reply.StopReason
	if stop == "" {
		stop = "end_turn"
	}
	resp := map[string]any{
		"id":            fmt.Sprintf("msg_fake_%04d", n),
		"type":          "message",
		"role":          "assistant",
		"model":         body.Model,
		"content":       []map[string]any{{"type": "text", "text": reply.Text}},
		"stop_reason":   stop,
		"stop_sequence": nil,
		"usage": map[string]any{
			"input_tokens":                len(raw)/4 + 1,
			"output_tokens":               len(reply.Text)/4 + 1,
			"cache_creation_input_tokens": 0,
			"cache_read_input_tokens":     0,
		},
	}
	b, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// validate checks what the API requires of a request and returns the error
// message it would give, "" when the request is well formed.
func validate(b MessageRequest) string {
	switch {
	case b.Model == "":
		return "model: Field required"
	case b.MaxTokens < 1:
		return "max_tokens: must be at least 1"
	case len(b.Messages) == 0:
		return "messages: at least one message is required"
	case b.Messages[0].Role != "user":
		return "messages: first message must use the \"user\" role"
	}
	for i, m := range b.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		var s string
		var blocks []struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(m.Content, &s) != nil && (json.Unmarshal(m.Content, &blocks) != nil || len(blocks) == 0) {
			return fmt.Sprintf("messages.%d.content: must be a string or a list of content blocks", i)
		}
		for j, bl := range blocks {
			if bl.Type == "" {
				return fmt.Sprintf("messages.%d.content.%d.type: Field required", i, j)
			}
		}
	}
	if len(b.System) > 0 {
		var s string
		var blocks []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(b.System, &s) != nil && json.Unmarshal(b.System, &blocks) != nil {
			return "system: must be a string or a list of text blocks"
		}
		for i, bl := range blocks {
			if bl.Type != "text" {
				return fmt.Sprintf("system.%d.type: must be \"text\"", i)
			}
		}
	}
	return ""
}

// writeError writes the API's error shape.
func writeError(w http.ResponseWriter, status int, typ, message, retryAfter string) {
	if typ == "" {
		typ = errorTypes[status]
		if typ == "" {
			typ = "api_error"
		}
	}
	if message == "" {
		message = http.StatusText(status)
	}
	if retryAfter != "" {
		if _, err := strconv.ParseFloat(retryAfter, 64); err == nil {
			w.Header().Set("retry-after", retryAfter)
		}
	}
	b, _ := json.Marshal(map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": typ, "message": message},
		"request_id": w.Header().Get("request-id"),
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
