package devchain

import (
	"bytes"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The checked-in bytecode is what tools/token/build.js produces from
// TestToken.sol and TestPriceFeed.sol with the pinned solc. Needs node and
// `npm ci --prefix tools/token`; skips without them unless
// SHOWPOS_REQUIRE_JS=1 (as in CI), then fails.
func TestContractBytecodeIsReproducible(t *testing.T) {
	tools := filepath.Join("..", "..", "tools", "token")
	var missing string
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(tools, "node_modules", "solc")); err != nil {
		missing = "tools/token/node_modules/solc is missing"
	}
	if missing != "" {
		if os.Getenv("SHOWPOS_REQUIRE_JS") == "1" {
			t.Fatalf("the contract build is required (SHOWPOS_REQUIRE_JS=1) but %s; run: npm ci --prefix tools/token", missing)
		}
		t.Skipf("cannot rebuild the contracts: %s (run: npm ci --prefix tools/token)", missing)
	}
	dir := t.TempDir()
	cmd := exec.Command("node", filepath.Join(tools, "build.js"), dir)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node build.js: %v\n%s", err, msg)
	}
	for _, name := range []string{"token_bytecode.go", "feed_bytecode.go"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from a fresh build; run: node tools/token/build.js\n--- fresh build ---\n%s", name, got)
		}
	}
}

// The storage slot Start writes each balance to, worked by hand for one
// address: keccak256(pad32(holder) ++ pad32(1)).
func TestBalanceSlot(t *testing.T) {
	holder := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	preimage := common.FromHex(strings.Repeat("00", 31) + "aa" + strings.Repeat("00", 31) + "01")
	if got, want := balanceSlot(holder), crypto.Keccak256Hash(preimage); got != want {
		t.Fatalf("balanceSlot = %s, want %s", got, want)
	}
	if slotBalanceOf != 1 || slotTotalSupply != 0 {
		t.Fatalf("TestToken's layout moved (totalSupply %d, balanceOf %d): check tokenAccount", slotTotalSupply, slotBalanceOf)
	}
}

func TestTokenAccountPresetsBalancesAndSupply(t *testing.T) {
	holders := payers(3)
	acct := tokenAccount(holders, big.NewInt(7))
	if len(acct.Code) == 0 || !bytes.Equal(acct.Code, common.FromHex(tokenRuntimeHex)) {
		t.Fatal("token account has no runtime code")
	}
	for _, h := range holders {
		if v := acct.Storage[balanceSlot(h.Address)]; v.Big().Int64() != 7 {
			t.Errorf("balance of %s = %v, want 7", h.Address, v.Big())
		}
	}
	if v := acct.Storage[common.Hash{}]; v.Big().Int64() != 21 {
		t.Errorf("totalSupply = %v, want 21", v.Big())
	}
	if empty := tokenAccount(holders, new(big.Int)); len(empty.Storage) != 0 {
		t.Errorf("a zero TokenBalance wrote %d slots", len(empty.Storage))
	}
}

// Payer keys are a published fixture: other tests and the demo rely on
// them being the same every run.
func TestPayerKeysAreStable(t *testing.T) {
	for _, tc := range []struct {
		i    int
		addr string
	}{
		// Cross-checked with ethers v6:
		// new Wallet(keccak256(toUtf8Bytes("showpos devnet payer " + i))).address
		{0, "0x632e1C3F6177f5d9FbE6388dda68Ef8Ca1bA5a80"},
		{1, "0xA36b51eFf93d2Da294Df2c9C1e20d8eC60B8b90B"},
		{49, "0xB909F0882a046aA8033dFE5a328031CC4bA9f098"},
	} {
		got := crypto.PubkeyToAddress(PayerKey(tc.i).PublicKey)
		if again := crypto.PubkeyToAddress(PayerKey(tc.i).PublicKey); again != got {
			t.Fatalf("PayerKey(%d) is not deterministic", tc.i)
		}
		if got.Hex() != tc.addr {
			t.Errorf("PayerKey(%d) address = %s, want %s", tc.i, got.Hex(), tc.addr)
		}
	}
	seen := map[common.Address]bool{}
	for _, p := range payers(DefaultPayers) {
		if seen[p.Address] {
			t.Fatalf("duplicate payer %s", p.Address)
		}
		seen[p.Address] = true
	}
}
