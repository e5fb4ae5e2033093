package auth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The signature is compared with hmac.Equal (constant time), and nothing in
// the package compares bytes or strings with a short-circuiting function.
func TestSignatureComparedInConstantTime(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	hmacEqual := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch pkg.Name + "." + sel.Sel.Name {
			case "hmac.Equal":
				hmacEqual++
			case "bytes.Equal", "bytes.Compare", "strings.EqualFold", "strings.Compare":
				t.Errorf("%s: %s.%s: compare MACs with hmac.Equal", fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name)
			}
			return true
		})
	}
	if hmacEqual == 0 {
		t.Fatal("no call to hmac.Equal: the signature must be compared in constant time")
	}
}

func TestValidNonce(t *testing.T) {
	for n, want := range map[string]bool{
		"":                      false,
		"0123456789abcde":       false,
		"0123456789abcdef":      true,
		"AZaz09_-AZaz09_-":      true,
		strings.Repeat("x", 64): true,
		strings.Repeat("x", 65): false,
		"0123456789abcde/":      false,
		"0123456789abcde ":      false,
		"0123456789abcdeé":      false,
		"0123456789abcdef\x00":  false,
	} {
		if got := validNonce(n); got != want {
			t.Errorf("validNonce(%q) = %v, want %v", n, got, want)
		}
	}
}
