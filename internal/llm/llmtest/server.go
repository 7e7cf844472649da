// Package llmtest is a fake of Anthropic's Messages API for tests: an
// httptest server that speaks the documented wire format (POST
// /v1/messages with an API key and an anthropic-version header; a message
// with content blocks, stop_reason and usage; errors as
// {"type":"error","error":{"type":…,"message":…}} with their HTTP statuses
// and retry-after) and answers from a script, then from a Respond function.
//
// It also speaks tool use: a request's tools and tool_choice are checked as
// the API checks them, and a Reply with ToolInput answers with a tool_use
// content block and stop_reason "tool_use". Image blocks (base64 or URL
// sources) are checked, and RejectImages makes chosen image URLs fail the
// way the API fails when it cannot fetch an image. Prompt caching is
// simulated: a prefix ending at a cache_control breakpoint is written to
// the cache the first time and read from it afterwards, and the usage
// reports cache_creation_input_tokens and cache_read_input_tokens
// accordingly. Tokens are estimated as one per four bytes of JSON.
package llmtest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
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
	// ToolInput, when set, makes the answer a tool_use content block whose
	// input is ToolInput (JSON, normally an object); Text, if also set,
	// comes first as a text block. StopReason then defaults to "tool_use".
	ToolInput json.RawMessage
	// ToolName names the tool called; "" means the tool that the request's
	// tool_choice forces, else its first tool.
	ToolName string
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
	Tools        []Tool          `json:"tools"`
	ToolChoice   *ToolChoice     `json:"tool_choice"`
}

// Tool is one tool definition of a request.
type Tool struct {
	// Type is "" or "custom" for a tool the client runs; server tools have
	// their own types ("web_search_20250305" …).
	Type         string          `json:"type"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	Strict       bool            `json:"strict"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// ToolChoice is a request's tool_choice.
type ToolChoice struct {
	Type                   string `json:"type"` // auto, any, tool or none
	Name                   string `json:"name"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
}

// Block is one content block of a request, as far as the fake reads it.
type Block struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	Source       *ImageSource    `json:"source"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// ImageSource is the source of an image block: base64 data or a URL.
type ImageSource struct {
	Type      string `json:"type"` // base64, url or file
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
	URL       string `json:"url"`
	FileID    string `json:"file_id"`
}

// Blocks returns the content blocks of message i; a string content is one
// text block.
func (r MessageRequest) Blocks(i int) []Block {
	return blocksOf(r.Messages[i].Content)
}

// SystemBlocks returns the system prompt's blocks; a string is one text
// block.
func (r MessageRequest) SystemBlocks() []Block {
	if len(r.System) == 0 {
		return nil
	}
	return blocksOf(r.System)
}

func blocksOf(raw json.RawMessage) []Block {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []Block{{Type: "text", Text: s}}
	}
	var blocks []Block
	json.Unmarshal(raw, &blocks)
	return blocks
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

	mu          sync.Mutex
	replies     []Reply
	requests    []Request
	calls       int
	respond     func(Request) Reply
	rejectImage func(url string) bool
	cached      map[[32]byte]bool
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

// Respond makes f answer every well-formed request that finds the script
// empty. f may be called from several goroutines at once.
func (s *Server) Respond(f func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = f
}

// RejectImages makes the fake fail a request that has an image whose URL f
// reports, as the API does when it cannot fetch or decode an image: 400
// invalid_request_error "Could not process image". The request is recorded
// and consumes no reply.
func (s *Server) RejectImages(f func(url string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectImage = f
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
	req := Request{Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	reject := s.rejectImage
	s.mu.Unlock()
	if reject != nil {
		for i := range body.Messages {
			for _, bl := range body.Blocks(i) {
				if bl.Type == "image" && bl.Source.Type == "url" && reject(bl.Source.URL) {
					writeError(w, http.StatusBadRequest, "invalid_request_error", "Could not process image", "")
					return
				}
			}
		}
	}
	s.mu.Lock()
	var reply Reply
	ok := len(s.replies) > 0
	if ok {
		reply, s.replies = s.replies[0], s.replies[1:]
	}
	respond := s.respond
	s.mu.Unlock()
	if !ok && respond != nil {
		reply, ok = respond(req), true
	}
	if !ok {
		writeError(w, http.StatusInternalServerError, "", "llmtest: no scripted reply left", "")
		return
	}
	if reply.Status != 0 && reply.Status != http.StatusOK {
		writeError(w, reply.Status, reply.ErrorType, reply.Message, reply.RetryAfter)
		return
	}
	stop := reply.StopReason
	content := []map[string]any{}
	if reply.Text != "" || reply.ToolInput == nil {
		content = append(content, map[string]any{"type": "text", "text": reply.Text})
	}
	output := len(reply.Text)
	if reply.ToolInput != nil {
		name := reply.ToolName
		if name == "" && body.ToolChoice != nil && body.ToolChoice.Type == "tool" {
			name = body.ToolChoice.Name
		}
		if name == "" && len(body.Tools) > 0 {
			name = body.Tools[0].Name
		}
		content = append(content, map[string]any{
			"type":   "tool_use",
			"id":     fmt.Sprintf("toolu_fake_%04d", n),
			"name":   name,
			"input":  reply.ToolInput,
			"caller": map[string]any{"type": "direct"},
		})
		output += len(reply.ToolInput)
		if stop == "" {
			stop = "tool_use"
		}
	}
	if stop == "" {
		stop = "end_turn"
	}
	created, read := s.cache(body.Model, raw)
	resp := map[string]any{
		"id":            fmt.Sprintf("msg_fake_%04d", n),
		"type":          "message",
		"role":          "assistant",
		"model":         body.Model,
		"content":       content,
		"stop_reason":   stop,
		"stop_sequence": nil,
		"usage": map[string]any{
			"input_tokens":                len(raw)/4 + 1 - created - read,
			"output_tokens":               output/4 + 1,
			"cache_creation_input_tokens": created,
			"cache_read_input_tokens":     read,
		},
	}
	b, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// MinCacheTokens is the shortest prefix the fake caches. The API's minimum
// depends on the model (1,024 to 4,096 tokens); a shorter prefix is
// silently not cached.
const MinCacheTokens = 1024

// cache simulates prompt caching for a request: the prompt is read in the
// API's order (tools, system, messages), and each block marked with
// cache_control ends a cacheable prefix. The longest prefix cached before is
// read; the rest, up to the last breakpoint, is written. It returns the
// tokens written and read.
func (s *Server) cache(model string, raw []byte) (created, read int) {
	var req struct {
		Tools    []json.RawMessage `json:"tools"`
		System   json.RawMessage   `json:"system"`
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(raw, &req) != nil {
		return 0, 0
	}
	pieces := append([]json.RawMessage(nil), req.Tools...)
	var sys []json.RawMessage
	if json.Unmarshal(req.System, &sys) == nil {
		pieces = append(pieces, sys...)
	} else if len(req.System) > 0 {
		pieces = append(pieces, req.System)
	}
	for _, m := range req.Messages {
		var blocks []json.RawMessage
		if json.Unmarshal(m.Content, &blocks) == nil {
			pieces = append(pieces, blocks...)
		} else {
			pieces = append(pieces, m.Content)
		}
	}
	h := sha256.New()
	h.Write([]byte(model))
	size := 0
	type breakpoint struct {
		key    [32]byte
		tokens int
	}
	var bps []breakpoint
	for _, p := range pieces {
		h.Write(p)
		size += len(p)
		var marked struct {
			CacheControl json.RawMessage `json:"cache_control"`
		}
		if json.Unmarshal(p, &marked) == nil && len(marked.CacheControl) > 0 && string(marked.CacheControl) != "null" {
			var key [32]byte
			copy(key[:], h.Sum(nil))
			bps = append(bps, breakpoint{key, size / 4})
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached == nil {
		s.cached = map[[32]byte]bool{}
	}
	for _, bp := range bps {
		if bp.tokens >= MinCacheTokens && s.cached[bp.key] {
			read = bp.tokens
		}
	}
	if len(bps) > 0 {
		last := bps[len(bps)-1]
		if last.tokens >= MinCacheTokens && last.tokens > read {
			created = last.tokens - read
		}
	}
	for _, bp := range bps {
		if bp.tokens >= MinCacheTokens {
			s.cached[bp.key] = true
		}
	}
	return created, read
}

// toolName is the pattern the API requires of a client tool's name.
var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// imageTypes are the media types the API accepts for base64 images.
var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// Limits the API documents for one request.
const (
	maxImages           = 100
	maxCacheBreakpoints = 4
)

// validate checks what the API requires of a request and returns the error
// message it would give, "" when the request is well formed.
func validate(b MessageRequest) string {
	if msg := validateBasics(b); msg != "" {
		return msg
	}
	if msg := validateTools(b); msg != "" {
		return msg
	}
	return validateBlocks(b)
}

// validateTools checks tools and tool_choice.
func validateTools(b MessageRequest) string {
	names := map[string]bool{}
	for i, t := range b.Tools {
		if t.Type != "" && t.Type != "custom" {
			continue // a server tool: its own parameters
		}
		if !toolName.MatchString(t.Name) {
			return fmt.Sprintf("tools.%d.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'", i)
		}
		if names[t.Name] {
			return fmt.Sprintf("tools: Tool names must be unique. Found duplicate: %s", t.Name)
		}
		names[t.Name] = true
		var schema struct {
			Type string `json:"type"`
		}
		if len(t.InputSchema) == 0 {
			return fmt.Sprintf("tools.%d.custom.input_schema: Field required", i)
		}
		if json.Unmarshal(t.InputSchema, &schema) != nil || schema.Type != "object" {
			return fmt.Sprintf("tools.%d.custom.input_schema.type: Input should be 'object'", i)
		}
	}
	if c := b.ToolChoice; c != nil {
		switch c.Type {
		case "auto", "none":
		case "any", "tool":
			if len(b.Tools) == 0 {
				return "tool_choice: tool_choice may only be specified while providing tools."
			}
			if c.Type == "tool" && !names[c.Name] {
				return fmt.Sprintf("tool_choice: Tool '%s' not found in provided tools", c.Name)
			}
		default:
			return "tool_choice: Input tag '" + c.Type + "' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
		}
	}
	return ""
}

// validateBlocks checks text and image blocks, the number of images and of
// cache breakpoints.
func validateBlocks(b MessageRequest) string {
	images, breakpoints := 0, 0
	for _, t := range b.Tools {
		if len(t.CacheControl) > 0 && string(t.CacheControl) != "null" {
			breakpoints++
		}
	}
	for _, bl := range b.SystemBlocks() {
		if len(bl.CacheControl) > 0 && string(bl.CacheControl) != "null" {
			breakpoints++
		}
	}
	for i := range b.Messages {
		var s string
		if json.Unmarshal(b.Messages[i].Content, &s) == nil {
			continue
		}
		for j, bl := range b.Blocks(i) {
			if len(bl.CacheControl) > 0 && string(bl.CacheControl) != "null" {
				breakpoints++
			}
			switch bl.Type {
			case "text":
				if bl.Text == "" {
					return fmt.Sprintf("messages.%d.content.%d.text: text content blocks must be non-empty", i, j)
				}
			case "image":
				images++
				if msg := validateImage(bl.Source); msg != "" {
					return fmt.Sprintf("messages.%d.content.%d.image.source: %s", i, j, msg)
				}
			}
		}
	}
	if images > maxImages {
		return fmt.Sprintf("messages: Too many images in the request: %d; the maximum is %d", images, maxImages)
	}
	if breakpoints > maxCacheBreakpoints {
		return fmt.Sprintf("A maximum of %d blocks with cache_control may be provided. Found %d.", maxCacheBreakpoints, breakpoints)
	}
	return ""
}

func validateImage(src *ImageSource) string {
	if src == nil {
		return "Field required"
	}
	switch src.Type {
	case "base64":
		if !imageTypes[src.MediaType] {
			return "base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
		}
		if src.Data == "" {
			return "base64.data: Field required"
		}
	case "url":
		u, err := url.Parse(src.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "url.url: Input should be a valid URL"
		}
	case "file":
		if src.FileID == "" {
			return "file.file_id: Field required"
		}
	default:
		return "Input tag '" + src.Type + "' found using 'type' does not match any of the expected tags: 'base64', 'file', 'url'"
	}
	return ""
}

// validateBasics checks the model, max_tokens, messages and system.
func validateBasics(b MessageRequest) string {
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
