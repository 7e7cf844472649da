package shopifytest

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// SchemaVersion is the Admin API version whose official schema documents
// are checked against. It is the version the shopify package pins; a test
// there keeps the two equal.
const SchemaVersion = "2026-10"

// SchemaEnv names an environment variable that, when set, is the path of
// the gzipped introspection result to validate against, instead of the one
// found in ../shared/eval-data/shopify-admin-schema/ beside the module.
const SchemaEnv = "PHANTOMOS_SHOPIFY_SCHEMA"

// ErrNoSchema means the schema file is not on this machine (a fresh clone
// has no ../shared); schema tests skip on it.
var ErrNoSchema = errors.New("shopifytest: Shopify Admin API schema not found")

// Schema is Shopify's Admin GraphQL schema, loaded from its official
// introspection result, ready to validate documents.
type Schema struct {
	s *ast.Schema
}

// loadOnce loads the schema once per test binary: it is a few megabytes
// of JSON and every fake server of every test uses it. The cached value
// never changes after the first call.
var loadOnce = sync.OnceValues(func() (*Schema, error) {
	path, err := SchemaPath()
	if err != nil {
		return nil, err
	}
	return LoadSchema(path)
})

// AdminSchema returns the Admin API schema of SchemaVersion, loaded once per
// process, or ErrNoSchema when the file is absent.
func AdminSchema() (*Schema, error) { return loadOnce() }

// SchemaPath finds the gzipped introspection result: SchemaEnv when set,
// else ../shared/eval-data/shopify-admin-schema/admin_{SchemaVersion}.json.gz
// beside the module root (the directory holding go.mod, found upwards from
// the working directory, which is a package directory under go test).
func SchemaPath() (string, error) {
	if p := os.Getenv(SchemaEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("shopifytest: %s: %w", SchemaEnv, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoSchema
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "eval-data", "shopify-admin-schema", "admin_"+SchemaVersion+".json.gz")
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", ErrNoSchema
		}
		return "", err
	}
	return p, nil
}

// LoadSchema reads a gzipped introspection result ({"data":{"__schema":…}})
// and builds the schema from it.
func LoadSchema(path string) (*Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("shopifytest: schema %s: %w", path, err)
	}
	var in struct {
		Data struct {
			Schema introSchema `json:"__schema"`
		} `json:"data"`
	}
	if err := json.NewDecoder(zr).Decode(&in); err != nil {
		return nil, fmt.Errorf("shopifytest: schema %s: %w", path, err)
	}
	sdl := in.Data.Schema.sdl()
	s, err := validator.LoadSchema(validator.Prelude, &ast.Source{Name: filepath.Base(path), Input: sdl})
	if err != nil {
		return nil, fmt.Errorf("shopifytest: schema %s: %w", path, err)
	}
	return &Schema{s: s}, nil
}

// Validate parses doc and checks it against the schema as the GraphQL
// specification's validation rules do (fields, arguments, types,
// fragments, variables) and then that it selects no deprecated field,
// which Shopify removes in a later version. It returns every problem
// found, each with its line and column.
func (s *Schema) Validate(doc string) gqlerror.List {
	_, errs := s.check(doc, true)
	return errs
}

func (s *Schema) check(doc string, deprecations bool) (*ast.QueryDocument, gqlerror.List) {
	q, err := parser.ParseQuery(&ast.Source{Name: "document", Input: doc})
	if err != nil {
		return nil, asList(err)
	}
	if errs := validator.ValidateWithRules(s.s, q, nil); len(errs) > 0 {
		return q, errs
	}
	if !deprecations {
		return q, nil
	}
	var errs gqlerror.List
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch x := sel.(type) {
			case *ast.Field:
				if x.Definition != nil {
					if d := x.Definition.Directives.ForName("deprecated"); d != nil {
						e := gqlerror.ErrorPosf(x.Position, "Field '%s' on type '%s' is deprecated: %s", x.Name, x.ObjectDefinition.Name, deprecationReason(d))
						e.Extensions = map[string]any{"code": "deprecated"}
						errs = append(errs, e)
					}
				}
				walk(x.SelectionSet)
			case *ast.InlineFragment:
				walk(x.SelectionSet)
			}
		}
	}
	for _, op := range q.Operations {
		walk(op.SelectionSet)
	}
	for _, f := range q.Fragments {
		walk(f.SelectionSet)
	}
	return q, errs
}

func asList(err error) gqlerror.List {
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		return gqlerror.List{ge}
	}
	return gqlerror.List{gqlerror.Wrap(err)}
}

// ValidateRequest checks a request as the API does before running it:
// doc against the specification's rules (deprecated fields are allowed:
// the API answers them until it removes them), then the variables sent
// with it against the variable definitions of the operation named
// operationName (the only one when "").
func (s *Schema) ValidateRequest(doc, operationName string, vars map[string]any) gqlerror.List {
	q, errs := s.check(doc, false)
	if len(errs) > 0 {
		return errs
	}
	op := q.Operations.ForName(operationName)
	if op == nil {
		return gqlerror.List{gqlerror.Errorf("No operation named %q", operationName)}
	}
	if vars == nil {
		vars = map[string]any{}
	}
	if _, err := validator.VariableValues(s.s, op, vars); err != nil {
		return asList(err)
	}
	return nil
}

func deprecationReason(d *ast.Directive) string {
	if a := d.Arguments.ForName("reason"); a != nil && a.Value != nil {
		return a.Value.Raw
	}
	return "No longer supported"
}

// ValidateDocument checks doc against Shopify's official Admin API schema
// of SchemaVersion and fails t with every problem found. It skips t when
// the schema file is absent (a fresh clone; CI has it).
func ValidateDocument(t interface {
	Helper()
	Skipf(string, ...any)
	Fatalf(string, ...any)
	Errorf(string, ...any)
}, doc string) {
	t.Helper()
	s, err := AdminSchema()
	if errors.Is(err, ErrNoSchema) {
		t.Skipf("Shopify Admin API schema not present (../shared/eval-data/shopify-admin-schema): %v", err)
	}
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	for _, e := range s.Validate(doc) {
		t.Errorf("document refused by the %s schema: %s", SchemaVersion, e.Error())
	}
}

// --- introspection result to SDL ---

type introSchema struct {
	QueryType        *introName       `json:"queryType"`
	MutationType     *introName       `json:"mutationType"`
	SubscriptionType *introName       `json:"subscriptionType"`
	Types            []introType      `json:"types"`
	Directives       []introDirective `json:"directives"`
}

type introName struct {
	Name string `json:"name"`
}

type introTypeRef struct {
	Kind   string        `json:"kind"`
	Name   *string       `json:"name"`
	OfType *introTypeRef `json:"ofType"`
}

func (r *introTypeRef) String() string {
	switch r.Kind {
	case "NON_NULL":
		return r.OfType.String() + "!"
	case "LIST":
		return "[" + r.OfType.String() + "]"
	}
	return *r.Name
}

type introInput struct {
	Name              string        `json:"name"`
	Type              *introTypeRef `json:"type"`
	DefaultValue      *string       `json:"defaultValue"`
	IsDeprecated      bool          `json:"isDeprecated"`
	DeprecationReason *string       `json:"deprecationReason"`
}

type introField struct {
	Name              string        `json:"name"`
	Args              []introInput  `json:"args"`
	Type              *introTypeRef `json:"type"`
	IsDeprecated      bool          `json:"isDeprecated"`
	DeprecationReason *string       `json:"deprecationReason"`
}

type introEnumValue struct {
	Name              string  `json:"name"`
	IsDeprecated      bool    `json:"isDeprecated"`
	DeprecationReason *string `json:"deprecationReason"`
}

type introType struct {
	Kind          string           `json:"kind"`
	Name          string           `json:"name"`
	IsOneOf       bool             `json:"isOneOf"`
	Fields        []introField     `json:"fields"`
	InputFields   []introInput     `json:"inputFields"`
	Interfaces    []introTypeRef   `json:"interfaces"`
	EnumValues    []introEnumValue `json:"enumValues"`
	PossibleTypes []introTypeRef   `json:"possibleTypes"`
}

type introDirective struct {
	Name         string       `json:"name"`
	Locations    []string     `json:"locations"`
	Args         []introInput `json:"args"`
	IsRepeatable bool         `json:"isRepeatable"`
}

// builtin names the prelude already declares.
var builtinScalars = map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}

func deprecated(is bool, reason *string) string {
	if !is {
		return ""
	}
	r := "No longer supported"
	if reason != nil {
		r = *reason
	}
	return " @deprecated(reason: " + strconv.Quote(r) + ")"
}

func inputDefs(args []introInput) string {
	if len(args) == 0 {
		return ""
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = inputDef(a)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func inputDef(a introInput) string {
	s := a.Name + ": " + a.Type.String()
	if a.DefaultValue != nil {
		s += " = " + *a.DefaultValue
	}
	return s + deprecated(a.IsDeprecated, a.DeprecationReason)
}

// sdl writes the introspection result as schema definition language, which
// gqlparser builds a schema from. Descriptions are left out: validation
// does not read them.
func (in *introSchema) sdl() string {
	var b strings.Builder
	b.WriteString("schema {\n")
	if in.QueryType != nil {
		fmt.Fprintf(&b, "  query: %s\n", in.QueryType.Name)
	}
	if in.MutationType != nil {
		fmt.Fprintf(&b, "  mutation: %s\n", in.MutationType.Name)
	}
	if in.SubscriptionType != nil {
		fmt.Fprintf(&b, "  subscription: %s\n", in.SubscriptionType.Name)
	}
	b.WriteString("}\n")
	preludeDirectives := map[string]bool{}
	for _, d := range validator.PreludeDocument().Directives {
		preludeDirectives[d.Name] = true
	}
	for _, d := range in.Directives {
		if preludeDirectives[d.Name] {
			continue
		}
		rep := ""
		if d.IsRepeatable {
			rep = " repeatable"
		}
		fmt.Fprintf(&b, "directive @%s%s%s on %s\n", d.Name, inputDefs(d.Args), rep, strings.Join(d.Locations, " | "))
	}
	types := in.Types
	sort.Slice(types, func(i, j int) bool { return types[i].Name < types[j].Name })
	for _, t := range types {
		if strings.HasPrefix(t.Name, "__") || builtinScalars[t.Name] {
			continue
		}
		switch t.Kind {
		case "SCALAR":
			fmt.Fprintf(&b, "scalar %s\n", t.Name)
		case "OBJECT", "INTERFACE":
			kw := "type"
			if t.Kind == "INTERFACE" {
				kw = "interface"
			}
			fmt.Fprintf(&b, "%s %s", kw, t.Name)
			if len(t.Interfaces) > 0 {
				names := make([]string, len(t.Interfaces))
				for i, x := range t.Interfaces {
					names[i] = *x.Name
				}
				b.WriteString(" implements " + strings.Join(names, " & "))
			}
			b.WriteString(" {\n")
			for _, f := range t.Fields {
				fmt.Fprintf(&b, "  %s%s: %s%s\n", f.Name, inputDefs(f.Args), f.Type.String(), deprecated(f.IsDeprecated, f.DeprecationReason))
			}
			b.WriteString("}\n")
		case "UNION":
			names := make([]string, len(t.PossibleTypes))
			for i, x := range t.PossibleTypes {
				names[i] = *x.Name
			}
			fmt.Fprintf(&b, "union %s = %s\n", t.Name, strings.Join(names, " | "))
		case "ENUM":
			fmt.Fprintf(&b, "enum %s {\n", t.Name)
			for _, v := range t.EnumValues {
				fmt.Fprintf(&b, "  %s%s\n", v.Name, deprecated(v.IsDeprecated, v.DeprecationReason))
			}
			b.WriteString("}\n")
		case "INPUT_OBJECT":
			oneOf := ""
			if t.IsOneOf {
				oneOf = " @oneOf"
			}
			fmt.Fprintf(&b, "input %s%s {\n", t.Name, oneOf)
			for _, f := range t.InputFields {
				fmt.Fprintf(&b, "  %s\n", inputDef(f))
			}
			b.WriteString("}\n")
		}
	}
	return b.String()
}

// refuseInvalid answers a request whose document or variables the real
// API would refuse, as Shopify does: 200 with an errors list, each with a
// message, its locations and a code, and no data. It reports whether it
// answered. Without a schema (a fresh clone) every request passes.
func (s *Server) refuseInvalid(w http.ResponseWriter, query, operationName string, vars map[string]any) bool {
	if s.schema == nil {
		return false
	}
	errs := s.schema.ValidateRequest(query, operationName, vars)
	if len(errs) == 0 {
		return false
	}
	out := make([]map[string]any, 0, len(errs))
	for _, e := range errs {
		code := e.Rule
		switch code {
		case "FieldsOnCorrectType":
			code = "undefinedField"
		case "KnownArgumentNames":
			code = "argumentNotAccepted"
		case "":
			code = "parseError"
		}
		m := map[string]any{"message": e.Message, "extensions": map[string]any{"code": code}}
		if len(e.Locations) > 0 {
			m["locations"] = e.Locations
		}
		out = append(out, m)
	}
	s.refused++
	writeJSON(w, http.StatusOK, map[string]any{"errors": out})
	return true
}

// Refused returns how many requests were refused as invalid against the
// schema.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Validating reports whether the server checks documents against the
// official schema (the schema file is present).
func (s *Server) Validating() bool { return s.schema != nil }
