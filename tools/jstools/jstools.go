// Package jstools finds the pinned npm tools in tools/js for the tests that
// hold the terminal's output against third-party JavaScript (ethers, the
// x402 client, an NDEF parser, eth-url-parser). A test without node or
// without the packages it names is skipped, and fails instead when
// SHOWPOS_REQUIRE_JS=1 (as in CI and make test).
package jstools

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Dir returns the absolute tools/js directory once node is on the PATH and
// every package in pkgs is installed in its node_modules; otherwise it
// skips t, or fails it under SHOWPOS_REQUIRE_JS=1.
func Dir(t testing.TB, pkgs ...string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "tools", "js")
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not on PATH"
	} else {
		for _, pkg := range pkgs {
			if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
				missing = "tools/js/node_modules/" + pkg + " is missing"
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

// moduleRoot is the nearest directory at or above the working directory
// (a test's package directory) that holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("jstools: no go.mod above the working directory")
		}
		dir = up
	}
}
