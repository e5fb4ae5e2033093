package payerpage_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The vendored libraries are the npm packages' files byte for byte, at the
// versions tools/js pins (see assets/vendor/VENDOR.md): nobody edits a
// crypto library the payer's trust rests on. Without tools/js/node_modules
// the test skips, unless SHOWPOS_REQUIRE_JS=1 (CI) makes that a failure.
func TestVendoredFilesAreTheNPMPackages(t *testing.T) {
	modules := filepath.Join("..", "..", "tools", "js", "node_modules", "@noble")
	if _, err := os.Stat(modules); err != nil {
		if os.Getenv("SHOWPOS_REQUIRE_JS") == "1" {
			t.Fatalf("tools/js is not installed (SHOWPOS_REQUIRE_JS=1): %v; run: npm ci --prefix tools/js", err)
		}
		t.Skipf("tools/js is not installed (%v); run: npm ci --prefix tools/js", err)
	}
	for _, pkg := range []struct {
		dir, version string
		files        []string
	}{
		{"secp256k1", "3.2.0", []string{"index.js", "LICENSE"}},
		{"ed25519", "3.2.0", []string{"index.js", "LICENSE"}},
		{"hashes", "2.4.0", []string{"sha3.js", "sha2.js", "_md.js", "_u64.js", "utils.js", "LICENSE"}},
	} {
		raw, err := os.ReadFile(filepath.Join(modules, pkg.dir, "package.json"))
		if err != nil {
			t.Fatal(err)
		}
		var meta struct{ Version string }
		if err := json.Unmarshal(raw, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Version != pkg.version {
			t.Errorf("@noble/%s is %s in tools/js, the vendored copy is %s", pkg.dir, meta.Version, pkg.version)
		}
		for _, f := range pkg.files {
			want, err := os.ReadFile(filepath.Join(modules, pkg.dir, f))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join("assets", "vendor", pkg.dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("assets/vendor/%s/%s differs from @noble/%s@%s's", pkg.dir, f, pkg.dir, pkg.version)
			}
		}
	}
}
