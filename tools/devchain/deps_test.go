package devchain

import (
	"os/exec"
	"strings"
	"testing"
)

// The daemon must stay small: nothing it links may pull in a node. This
// package and the go-ethereum packages that make up a node are forbidden
// in posd's dependency graph (each path and everything under it).
func TestPosdDoesNotLinkTheDevChain(t *testing.T) {
	forbidden := []string{
		"showpos/tools/devchain",
		"github.com/ethereum/go-ethereum/eth",
		"github.com/ethereum/go-ethereum/node",
		"github.com/ethereum/go-ethereum/miner",
		"github.com/ethereum/go-ethereum/core/vm/runtime",
		"github.com/ethereum/go-ethereum/beacon",
	}
	for _, cmd := range []string{"showpos/cmd/posd"} {
		out, err := exec.Command("go", "list", "-deps", cmd).Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				t.Fatalf("go list -deps %s: %v\n%s", cmd, err, ee.Stderr)
			}
			t.Fatalf("go list -deps %s: %v", cmd, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s links %s (forbidden: %s); find the importer with: go list -deps -f '{{.ImportPath}}: {{.Imports}}' %s | grep %s", cmd, dep, f, cmd, dep)
				}
			}
		}
	}
}
