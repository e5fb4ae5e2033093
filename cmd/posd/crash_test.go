package main

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/fleet"
)

// buildPosd builds the daemon binary into a temporary directory.
func buildPosd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "posd")
	out, err := exec.Command("go", "build", "-o", bin, "showpos/cmd/posd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build posd: %v\n%s", err, out)
	}
	return bin
}

// versionedConfig is what bundle v sets: a merchant and a request TTL that
// both name v, so a config mixed from two bundles shows.
func versionedConfig(v uint64) (common.Address, time.Duration, string) {
	merchant := common.BigToAddress(new(big.Int).SetUint64(0xbeef0000 + v))
	ttl := time.Duration(60+v) * time.Second
	return merchant, ttl, fmt.Sprintf("merchant.address = %q\nterminal.request_ttl = %q\n", merchant.Hex(), ttl.String())
}

// kill -9 while a bundle is being applied, many times: after each restart
// the terminal runs the old bundle or the new one, whole, never a mix, and
// never an older one than a push was told was applied.
func TestKillDuringApplyLeavesOldOrNewConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the daemon")
	}
	bin := buildPosd(t)
	priv, fleetTable := fleetKeys(t)
	tm := writeTerminal(t, headless+fleetTable)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "-config", tm.cfgPath, "-listen", anyPort)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			req, _ := http.NewRequest("GET", "http://posd/v1/status", nil)
			if resp, err := tm.op.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return cmd
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatal("posd did not come up")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// check reads the running version and verifies that the config in
	// effect is exactly that version's.
	check := func(round int) uint64 {
		t.Helper()
		st := tm.operator("GET", "/v1/status", "")
		v := uint64(st.body["configVersion"].(float64))
		r, a := tm.newRequest("0.001")
		if r == nil {
			t.Fatalf("round %d: new request: %d %s", round, a.status, a.raw)
		}
		wantMerchant, wantTTL := common.HexToAddress("0x000000000000000000000000000000000000dEaD"), 5*time.Minute
		if v > 0 {
			wantMerchant, wantTTL, _ = versionedConfig(v)
		}
		if r.Merchant != wantMerchant || r.ExpiresAt.Sub(r.CreatedAt) != wantTTL {
			t.Fatalf("round %d: config version %d but merchant %s, ttl %s: a mix", round, v, r.Merchant.Hex(), r.ExpiresAt.Sub(r.CreatedAt))
		}
		return v
	}

	const rounds = 30
	var old, landed, lost int
	acked := uint64(0) // the highest version a push was told is applied
	for round := range rounds {
		cmd := start()
		v := check(round)
		if v < acked {
			t.Fatalf("round %d: running v%d, but v%d was acknowledged", round, v, acked)
		}
		next := v + 1
		_, _, text := versionedConfig(next)
		b := bundle(t, priv, fleet.Payload{Version: next, Config: text})
		done := make(chan int, 1)
		go func() {
			req, _ := http.NewRequestWithContext(context.Background(), "POST", "http://posd/v1/fleet/bundle", strings.NewReader(b))
			resp, err := tm.op.Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		// Kill somewhere between before the push arrives and after it is
		// answered: a bbolt commit takes about a millisecond here.
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
		if status := <-done; status == http.StatusOK {
			acked = next
		}

		cmd = start()
		after := check(round)
		cmd.Process.Kill()
		cmd.Wait()
		switch {
		case after == v:
			old++
		case after == next:
			landed++
		default:
			t.Fatalf("round %d: pushed v%d over v%d, restarted on v%d", round, next, v, after)
		}
		if after < acked {
			lost++
			t.Errorf("round %d: v%d was acknowledged, restarted on v%d", round, acked, after)
		}
	}
	t.Logf("%d kills during a push: %d restarted on the old config, %d on the new, %d acknowledged and lost", rounds, old, landed, lost)
	if old == 0 || landed == 0 {
		t.Logf("every kill fell on the same side; the timing did not reach into the apply")
	}
}
