package request

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"showpos/tools/jstools"
)

// jsTools returns the tools/js directory with its node_modules installed, or
// skips the test (fails it when SHOWPOS_REQUIRE_JS=1, as in CI).
func jsTools(t *testing.T) string { return jstools.Dir(t, "eth-url-parser", "ethers") }

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
