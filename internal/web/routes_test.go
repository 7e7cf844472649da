package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
)

// TestOpenAPICoversEveryAPIRoute fails when a registered /api/ route is
// missing from /api/openapi.json, so the description stays complete.
func TestOpenAPICoversEveryAPIRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi version %q, want 3.1.x", doc.OpenAPI)
	}
	s := &Server{}
	registered := map[string]bool{}
	for _, rt := range s.routes() {
		method, path, ok := strings.Cut(rt.Pattern, " ")
		if !ok {
			t.Errorf("route %q has no method", rt.Pattern)
			continue
		}
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		key := strings.ToLower(method) + " " + path
		registered[key] = true
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s is not described in openapi.json", rt.Pattern)
		}
	}
	// And the description promises nothing that is not served.
	for path, ops := range doc.Paths {
		for method := range ops {
			if !registered[method+" "+path] {
				t.Errorf("openapi.json describes %s %s, which is not a registered route", strings.ToUpper(method), path)
			}
		}
	}
}

// TestEveryRouteDeclaresAKnownPermission guards routes.go: a route with an
// empty or unknown permission fails here.
func TestEveryRouteDeclaresAKnownPermission(t *testing.T) {
	known := map[phantomos.Permission]bool{
		phantomos.PermPublic: true, phantomos.PermView: true, phantomos.PermEdit: true,
		phantomos.PermConnectors: true, phantomos.PermTeam: true, phantomos.PermOrganization: true,
	}
	seen := map[string]bool{}
	for _, rt := range (&Server{}).routes() {
		if !known[rt.Perm] {
			t.Errorf("route %s has permission %q, which is not one of DESIGN.md §4", rt.Pattern, rt.Perm)
		}
		if seen[rt.Pattern] {
			t.Errorf("route %s registered twice", rt.Pattern)
		}
		seen[rt.Pattern] = true
	}
}
