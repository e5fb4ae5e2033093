package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"showpos/terminal/check"
	"showpos/terminal/checkout"
)

// readmeCodes reads the README's tables of error codes: every row whose
// first cell names codes (`a` or `a` / `b`) and whose second is an HTTP
// status (or one per code: 404 / 409); each code with its status.
func readmeCodes(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile("`([a-z0-9_]+)`")
	codes := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.TrimSpace(cells[0]) != "" {
			continue
		}
		// One status, or one per code (`a` / `b` | 404 / 409).
		var statuses []int
		for _, f := range strings.Split(cells[2], "/") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 100 || n > 599 {
				statuses = nil
				break
			}
			statuses = append(statuses, n)
		}
		if statuses == nil {
			continue
		}
		for i, m := range quoted.FindAllStringSubmatch(cells[1], -1) {
			codes[m[1]] = statuses[min(i, len(statuses)-1)]
		}
	}
	return codes
}

// packageCodes is every error code this package declares: its constants
// named code… holding a string, read from its source files.
func packageCodes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			d, ok := n.(*ast.GenDecl)
			if !ok || d.Tok != token.CONST {
				return true
			}
			for _, s := range d.Specs {
				vs := s.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "code") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						codes = append(codes, v)
					}
				}
			}
			return false
		})
	}
	if len(codes) < 20 {
		t.Fatalf("found only %d code constants: %v", len(codes), codes)
	}
	return codes
}

// A newcomer finds every code an answer can carry in the README's codes
// tables: each refusal (check's, the till's) with the status it is
// answered with here, and each code this package adds.
func TestREADMENamesEveryCode(t *testing.T) {
	readme := readmeCodes(t)
	for c, status := range refusalStatus {
		if got, ok := readme[string(c)]; !ok {
			t.Errorf("README's codes table lacks %s (%d)", c, status)
		} else if got != status {
			t.Errorf("README answers %s with %d; the API with %d", c, got, status)
		}
	}
	for _, c := range append(check.Codes(), checkout.RequestCodes()...) {
		if _, ok := readme[string(c)]; !ok {
			t.Errorf("README's codes table lacks refusal %s", c)
		}
	}
	for _, c := range packageCodes(t) {
		if _, ok := readme[c]; !ok {
			t.Errorf("README's codes table lacks %s", c)
		}
	}
}
