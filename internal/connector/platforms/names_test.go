package platforms

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowed lists the code outside the platform packages and this
// registration list that may name a platform, each with why. An entry is
// a file or folder (relative to the module root), or "file:Decl" for one
// top-level declaration of a file. None of it connects to a platform.
var allowed = map[string]string{
	"internal/ingest":                        "file import: the platforms' export files are file formats, read without any connection",
	"internal/run/import.go":                 "the import command's --format flag names those file formats",
	"internal/demo":                          "demo data imitates the orders of each platform's stores",
	"internal/tagging/evaldata.go":           "reads the evaluation data, which holds platforms' export files",
	"internal/tagging/lexicon.go":            "a word list: \"amazon\" is also an ordinary word",
	"internal/ask/interpret.go":              "the words people use for sales channels in questions",
	"internal/web/countries.go:channelNames": "labels of the channel values platforms write in their orders and exports",
	"types.go":                               "the connector type values stored in the database, kept for tests and demo data; new code uses its platform package's Type",
}

// connectorTemplates are the pages of connectors, which must name no
// platform either: what they say about one comes from its Info.
var connectorTemplates = []string{
	"internal/web/templates/connectors.html",
	"internal/web/templates/connector.html",
	"internal/web/templates/connector_wizard.html",
	"internal/web/templates/connector_claim.html",
}

// platformNames are the words that name a platform: each registration's
// type and name, lower case.
func platformNames() []string {
	var out []string
	for _, r := range All() {
		for _, n := range []string{r.Type, strings.ToLower(r.Name)} {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// namesIn returns where the identifiers, string literals and import paths
// of a Go file name one of names (comments are free to), each with the
// top-level declaration it is in.
func namesIn(fset *token.FileSet, f *ast.File, names []string) []nameHit {
	var hits []nameHit
	for _, d := range f.Decls {
		decl := ""
		switch d := d.(type) {
		case *ast.FuncDecl:
			decl = d.Name.Name
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.ValueSpec:
					decl = sp.Names[0].Name
				case *ast.TypeSpec:
					decl = sp.Name.Name
				}
			}
		}
		ast.Inspect(d, func(n ast.Node) bool {
			var s string
			switch x := n.(type) {
			case *ast.Ident:
				s = x.Name
			case *ast.BasicLit:
				s = x.Value
			default:
				return true
			}
			low := strings.ToLower(s)
			for _, name := range names {
				if strings.Contains(low, name) {
					hits = append(hits, nameHit{pos: fset.Position(n.Pos()), decl: decl, text: s, name: name})
					break
				}
			}
			return true
		})
	}
	return hits
}

type nameHit struct {
	pos              token.Position
	decl, text, name string
}

// TestNoCodeNamesAPlatform is the check of issue 16: outside the platform
// packages (internal/connector/<type>/…) and this registration list, no
// Go code names a platform (by identifier, string or import), except the
// allowed list above, and the connector pages do not either. Tests may.
func TestNoCodeNamesAPlatform(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	names := platformNames()
	own := map[string]bool{"internal/connector/platforms": true}
	for _, r := range All() {
		own["internal/connector/"+r.Type] = true
	}
	used := map[string]bool{}
	allowedAt := func(rel, decl string) bool {
		if decl != "" && allowed[rel+":"+decl] != "" {
			used[rel+":"+decl] = true
			return true
		}
		for p := rel; p != "."; p = filepath.Dir(p) {
			if allowed[filepath.ToSlash(p)] != "" {
				used[filepath.ToSlash(p)] = true
				return true
			}
		}
		return false
	}
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" || own[rel] {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, h := range namesIn(fset, f, names) {
			if !allowedAt(rel, h.decl) {
				t.Errorf("%s:%d names %s (%s in %s): platform code belongs in its package (see package platform)", rel, h.pos.Line, h.name, h.text, h.decl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("only %d Go files scanned: the walk is broken", files)
	}
	for _, tpl := range connectorTemplates {
		b, err := os.ReadFile(filepath.Join(root, tpl))
		if err != nil {
			t.Fatal(err)
		}
		low := strings.ToLower(string(b))
		for _, name := range names {
			if strings.Contains(low, name) {
				t.Errorf("%s names %s: the page must show what the platform's Info says", tpl, name)
			}
		}
	}
	// An entry that no longer matches anything goes, so the list stays
	// short and true.
	for k := range allowed {
		if !used[k] {
			t.Errorf("allowed entry %q matches nothing any more: remove it", k)
		}
	}
}

// TestNamesInFindsNames keeps the detector honest: it finds names in
// identifiers, strings and imports, whatever their case, attributes them
// to their declaration, and ignores comments.
func TestNamesInFindsNames(t *testing.T) {
	const src = `package x

import _ "example.com/woocommerce/client"

// Shopify is only mentioned here, in a comment.
var labels = map[string]string{"k": "BigCommerce"}

func sync(c string) bool { return c != ConnectorShopify }
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range namesIn(fset, f, []string{"shopify", "woocommerce", "bigcommerce"}) {
		got = append(got, h.name+"@"+h.decl)
	}
	want := []string{"woocommerce@", "bigcommerce@labels", "shopify@sync"}
	if !slices.Equal(got, want) {
		t.Errorf("hits %v, want %v", got, want)
	}
}
