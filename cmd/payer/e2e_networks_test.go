package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A request of the real posd running two networks (devnet -chains 2:
// chains 1337 and 1338) is paid on the second with -network and that
// chain's -rpc: the payer signs for chain 1338, the terminal takes it, and
// it is confirmed on the second chain.
func TestPaysOnTheSecondNetworkOfARealPosd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs posd and devnet")
	}
	bin := t.TempDir()
	for _, name := range []string{"posd", "devnet"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, name), "showpos/cmd/"+name).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	rpcs := endpoints(t, start(t, filepath.Join(bin, "devnet"), "-addr", "127.0.0.1:0", "-chains", "2", "-payers", "3"), 2)
	for _, rpc := range rpcs {
		waitRPC(t, rpc)
	}
	cfg := filepath.Join(dir, "posd.toml")
	text := fmt.Sprintf(`
[terminal]
id = "payer-two-nets"
data_dir = %q
[api]
listen = "127.0.0.1:0"
[merchant]
address = "0x000000000000000000000000000000000000dEaD"
[broadcast]
poll = "50ms"
[watch]
poll = "100ms"
`, filepath.Join(dir, "data"))
	for i, name := range []string{"dev", "second"} {
		text += fmt.Sprintf("\n[[networks]]\nname = %q\nchain_id = %d\nrpc = [%q]\nprobe_every = \"200ms\"\n[[networks.assets]]\nsymbol = \"ETH\"\n",
			name, 1337+i, rpcs[i])
	}
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, filepath.Join(bin, "posd"), "-config", cfg)
	op := unixClient(filepath.Join(dir, "data", "posd.sock"))
	waitOK(t, op, "http://posd/v1/payments")
	var st struct{ Listen struct{ API string } }
	if err := json.Unmarshal(getBody(t, op, "http://posd/v1/status"), &st); err != nil || st.Listen.API == "" {
		t.Fatalf("status listen: %+v %v", st.Listen, err)
	}

	doc := newRequest(t, op, `{"amount":"0.01"}`)
	if offers, _ := doc["options"].([]any); len(offers) != 2 {
		t.Fatalf("the request offers %d networks, want 2: %v", len(offers), doc["options"])
	}
	code, out, _ := runPayer(t, "-terminal", "http://"+st.Listen.API, "-rpc", rpcs[1], "-network", "second", "-state", t.TempDir(),
		"-payer", "1", "-signer", doc["signer"].(string), "-json")
	var res result
	if code != exitOK || json.Unmarshal([]byte(out), &res) != nil || res.HTTPStatus != http.StatusAccepted || res.ChainID != 1338 ||
		res.Network != "second" || res.NonceSource != "chain pending nonce" {
		t.Fatalf("pay on the second network: exit %d, %+v", code, res)
	}
	// Confirmed by the terminal, with a successful receipt on chain 1338.
	waitConfirmed(t, op, rpcs[1], res.TxHash)
}

// endpoints reads the n endpoints devnet printed, in network order.
func endpoints(t *testing.T, devnet *output, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var out []string
		for line := range strings.Lines(devnet.String()) {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "endpoint" {
				out = append(out, f[1])
			}
		}
		if len(out) >= n {
			return out[:n]
		}
	}
	t.Fatalf("devnet printed fewer than %d endpoints:\n%s", n, devnet.String())
	return nil
}
