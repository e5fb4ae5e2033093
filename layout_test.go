package showpos

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// module is the import path of the repository root (go.mod).
const module = "showpos"

// goPkg is what the layout rules look at in one directory of Go files. Only
// non-test files count: tests may import what the package itself must not
// (terminal/cashier's tests run on drivers/virtual's simulated board, the
// chain tests on the dev chain).
type goPkg struct {
	dir     string            // slash path from the root: "terminal/cashier"
	name    string            // package clause of its non-test files
	hasDoc  bool              // some non-test file carries a package doc comment
	imports map[string]string // module import path -> file that imports it
	inits   []string          // "file:line" of each func init() in a non-test file
}

// skipDirs are never Go packages of ours. Directories starting with "." or
// "_" are skipped too, as the go command does.
var skipDirs = []string{"node_modules", "testdata", "bin"}

// loadPackages parses every Go file under root, packages by directory.
func loadPackages(root string) (map[string]*goPkg, error) {
	pkgs := map[string]*goPkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (slices.Contains(skipDirs, name) || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		p := pkgs[rel]
		if p == nil {
			p = &goPkg{dir: rel, name: f.Name.Name, imports: map[string]string{}}
			pkgs[rel] = p
		}
		p.hasDoc = p.hasDoc || f.Doc != nil
		for _, imp := range f.Imports {
			ip := strings.Trim(imp.Path.Value, `"`)
			if ip == module || strings.HasPrefix(ip, module+"/") {
				if _, ok := p.imports[ip]; !ok {
					p.imports[ip] = name
				}
			}
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.Name == "init" {
				pos := fset.Position(fn.Pos())
				p.inits = append(p.inits, fmt.Sprintf("%s:%d", name, pos.Line))
			}
		}
		return nil
	})
	return pkgs, err
}

// under reports whether import path or directory p is dir or inside it.
func under(p, dir string) bool {
	p = strings.TrimPrefix(p, module+"/")
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// badImports lists, as failures, p's imports for which bad holds.
func badImports(p *goPkg, why string, bad func(ip string) bool) []string {
	var out []string
	for ip, file := range p.imports {
		if bad(ip) {
			out = append(out, fmt.Sprintf("%s (%s) imports %s: %s", p.dir, file, ip, why))
		}
	}
	return out
}

// driverExceptions are the only imports of terminal/ or sync/ a driver may
// make. The simulator's HTTP endpoint (drivers/virtual/http.go) reads its
// JSON bodies with the terminal's strict decoder, a standard-library-only
// leaf package that knows nothing of payments.
var driverExceptions = map[string][]string{
	"drivers/virtual": {module + "/terminal/strictjson"},
}

// toolUsers are the production-folder packages that may import tools/:
// the development commands, which run a dev chain (devnet) or play a payer
// (payer), and are never installed on a terminal.
var toolUsers = []string{"cmd/devnet", "cmd/payer"}

// layoutRules are the layout's rules; each returns its failures for one package.
var layoutRules = []struct {
	name  string
	check func(p *goPkg) []string
}{
	{"every package has a doc comment", func(p *goPkg) []string {
		if p.hasDoc {
			return nil
		}
		return []string{p.dir + ": no non-test file has a package doc comment (// Package " + p.name + " ... or // Command ...)"}
	}},
	{"terminal never imports a driver", func(p *goPkg) []string {
		if !under(p.dir, "terminal") {
			return nil
		}
		return badImports(p, "the terminal knows hardware only through device/; cmd/posd wires the drivers", func(ip string) bool {
			return under(ip, "drivers")
		})
	}},
	{"device holds interfaces only", func(p *goPkg) []string {
		if !under(p.dir, "device") {
			return nil
		}
		return badImports(p, "device/ declares interfaces and imports nothing of showpos outside device/", func(ip string) bool {
			return !under(ip, "device")
		})
	}},
	{"drivers know only the device contracts", func(p *goPkg) []string {
		if !under(p.dir, "drivers") {
			return nil
		}
		return badImports(p, "a driver implements device/ and knows nothing of the terminal or the chain", func(ip string) bool {
			return (under(ip, "terminal") || under(ip, "sync")) && !slices.Contains(driverExceptions[p.dir], ip)
		})
	}},
	{"production never imports a development tool", func(p *goPkg) []string {
		if under(p.dir, "tools") || under(p.dir, "harness") || slices.Contains(toolUsers, p.dir) {
			return nil
		}
		return badImports(p, "tools/ is for development and tests; only "+strings.Join(toolUsers, ", ")+" may use it", func(ip string) bool {
			return under(ip, "tools")
		})
	}},
	{"no grab-bag packages and no init", func(p *goPkg) []string {
		var out []string
		if slices.Contains([]string{"util", "utils", "common", "misc", "helpers"}, p.name) {
			out = append(out, fmt.Sprintf("%s: package %s says nothing of its job; name it for what it does", p.dir, p.name))
		}
		for _, at := range p.inits {
			out = append(out, fmt.Sprintf("%s/%s: func init() runs on import; build state explicitly in main or a constructor", p.dir, at))
		}
		return out
	}},
}

// checkLayout runs every rule on every package under root and returns the
// failures by rule name, sorted.
func checkLayout(t *testing.T, root string) map[string][]string {
	t.Helper()
	pkgs, err := loadPackages(root)
	if err != nil {
		t.Fatalf("reading the tree under %s: %v", root, err)
	}
	failures := map[string][]string{}
	for _, p := range pkgs {
		for _, r := range layoutRules {
			failures[r.name] = append(failures[r.name], r.check(p)...)
		}
	}
	for _, f := range failures {
		sort.Strings(f)
	}
	return failures
}

// TestLayout holds the repository to the layout's rules.
func TestLayout(t *testing.T) {
	failures := checkLayout(t, ".")
	for _, r := range layoutRules {
		t.Run(r.name, func(t *testing.T) {
			for _, f := range failures[r.name] {
				t.Error(f)
			}
		})
	}
}

// src is a documented Go file of package name importing imports.
func src(name string, imports ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// Package %s is a fixture.\npackage %s\n", name, name)
	for _, ip := range imports {
		fmt.Fprintf(&b, "\nimport _ %q\n", ip)
	}
	return b.String()
}

// TestLayoutRulesFail shows each rule failing on a small tree, and the
// exceptions holding on one that breaks none.
func TestLayoutRulesFail(t *testing.T) {
	cases := []struct {
		name     string
		files    map[string]string
		wantRule string // "" when no rule may fail
		wantIn   string // the failure names this
	}{
		{"a package without a doc comment", map[string]string{
			"terminal/foo/foo.go": "package foo\n",
		}, "every package has a doc comment", "terminal/foo:"},
		{"a doc comment only in a test file", map[string]string{
			"cmd/tool/main.go":      "package main\n",
			"cmd/tool/doc_test.go":  "// Command tool is documented only in a test.\npackage main\n",
			"cmd/tool/main_test.go": "package main\n",
		}, "every package has a doc comment", "cmd/tool:"},
		{"terminal imports a driver", map[string]string{
			"terminal/cashier/cashier.go": src("cashier", module+"/drivers/virtual"),
		}, "terminal never imports a driver", "terminal/cashier (cashier.go) imports showpos/drivers/virtual"},
		{"device imports the terminal", map[string]string{
			"device/board/board.go": src("board", module+"/device", module+"/terminal/config"),
		}, "device holds interfaces only", "device/board (board.go) imports showpos/terminal/config"},
		{"device imports a driver", map[string]string{
			"device/board/board.go": src("board", module+"/drivers/fbdev"),
		}, "device holds interfaces only", "imports showpos/drivers/fbdev"},
		{"a driver imports sync", map[string]string{
			"drivers/pn532/pn532.go": src("pn532", module+"/device", module+"/sync/outbox"),
		}, "drivers know only the device contracts", "drivers/pn532 (pn532.go) imports showpos/sync/outbox"},
		{"the virtual board imports more of terminal than strictjson", map[string]string{
			"drivers/virtual/http.go": src("virtual", module+"/terminal/strictjson", module+"/terminal/config"),
		}, "drivers know only the device contracts", "drivers/virtual (http.go) imports showpos/terminal/config"},
		{"another driver imports strictjson", map[string]string{
			"drivers/evdev/evdev.go": src("evdev", module+"/terminal/strictjson"),
		}, "drivers know only the device contracts", "drivers/evdev (evdev.go) imports showpos/terminal/strictjson"},
		{"production imports a tool", map[string]string{
			"sync/broadcast/broadcast.go": src("broadcast", module+"/tools/devchain"),
		}, "production never imports a development tool", "sync/broadcast (broadcast.go) imports showpos/tools/devchain"},
		{"posd imports a tool", map[string]string{
			"cmd/posd/main.go": strings.Replace(src("main", module+"/tools/paytx"), "Package main", "Command posd", 1),
		}, "production never imports a development tool", "cmd/posd (main.go) imports showpos/tools/paytx"},
		{"a package named util", map[string]string{
			"terminal/util/util.go": src("util"),
		}, "no grab-bag packages and no init", "terminal/util: package util"},
		{"an init function", map[string]string{
			"sync/chain/chain.go": src("chain") + "\nfunc init() {}\n",
		}, "no grab-bag packages and no init", "sync/chain/chain.go:4: func init()"},
		{"what the rules allow", map[string]string{
			"terminal/cashier/cashier.go":      src("cashier", module+"/device"),
			"terminal/cashier/cashier_test.go": "package cashier\n\nimport _ \"showpos/drivers/virtual\"\n\nfunc init() {}\n",
			"drivers/virtual/http.go":          src("virtual", module+"/device", module+"/terminal/strictjson") + "\ntype b struct{}\n\nfunc (b) init() {}\n",
			"cmd/payer/main.go":                src("main", module+"/tools/paytx", module+"/tools/devchain/devkeys"),
			"cmd/devnet/main.go":               src("main", module+"/tools/devchain"),
			"cmd/posd/board/board.go":          src("board", module+"/drivers/virtual", module+"/terminal/config"),
			"harness/harness.go":               src("harness", module+"/tools/devchain"),
			"tools/posbench/main.go":           src("main", module+"/tools/paytx", module+"/sync/outbox"),
			"terminal/config/testdata/x.go":    "package x\n\nfunc init() {}\n",
			"tools/js/node_modules/m/m.go":     "package util\n",
		}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for name, text := range c.files {
				path := filepath.Join(root, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			found := false
			for rule, fails := range checkLayout(t, root) {
				for _, f := range fails {
					if rule == c.wantRule && strings.Contains(f, c.wantIn) {
						found = true
					} else {
						t.Errorf("rule %q failed unexpectedly: %s", rule, f)
					}
				}
			}
			if c.wantRule != "" && !found {
				t.Errorf("rule %q did not report %q", c.wantRule, c.wantIn)
			}
		})
	}
}
