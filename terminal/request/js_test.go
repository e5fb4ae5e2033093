package request

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// jsTools returns the tools/js directory with its node_modules installed, or
// skips the test (fails it when SHOWPOS_REQUIRE_JS=1, as in CI).
func jsTools(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "tools", "js"))
	if err != nil {
		t.Fatal(err)
	}
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not on PATH"
	} else {
		for _, pkg := range []string{"eth-url-parser", "ethers"} {
			if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
				missing = pkg + " is not installed in " + dir
				break
			}
		}
	}
	if missing != "" {
		if os.Getenv("SHOWPOS_REQUIRE_JS") == "1" {
			t.Fatalf("third-party JS check required (SHOWPOS_REQUIRE_JS=1) but %s; run: npm ci --prefix tools/js", missing)
		}
		t.Skipf("skipping third-party JS check: %s; run: npm ci --prefix tools/js (set SHOWPOS_REQUIRE_JS=1 to make this a failure)", missing)
	}
	return dir
}

// runJS runs tools/js/check.js with args and stdin and returns its stdout.
func runJS(t *testing.T, dir string, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join(dir, "check.js")}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node check.js %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}
