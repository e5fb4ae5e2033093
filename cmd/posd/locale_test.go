package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// terminal.locale = "de-AT" reaches the paper through posd: the Z report
// taken on the socket prints in German, dates as Germans write them.
func TestPosdPrintsInTheShopsLanguage(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain")
	}
	_, dir, _ := startTerminalWith(t, `locale = "de-AT"`, "", simBoard(anyPort)+`
[board.printer]
driver = "virtual"
columns = 32
`)
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))
	sim := simPage(t, dir)
	req, _ := http.NewRequest("POST", "http://posd/v1/reports/z", strings.NewReader(`{"key":"close-de"}`))
	if a := do(t, op, req); a.status != http.StatusCreated {
		t.Fatalf("Z: %d %s", a.status, a.raw)
	}
	paper := waitPrinted(t, sim, func(text string) bool { return strings.Contains(text, "Z-BERICHT 1") })
	for _, want := range []string{"Terminal e2e-chain", "keine Zahlungen", "FEHLER 0", "erstellt"} {
		if !strings.Contains(paper, want) {
			t.Errorf("printed Z lacks %q:\n%s", want, paper)
		}
	}
}
