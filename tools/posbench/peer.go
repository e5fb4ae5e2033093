package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"showpos/terminal/check"
)

// nodePeer is what tools/js/checkrate.mjs reports.
type nodePeer struct {
	Count     int      `json:"count"`
	Seconds   float64  `json:"seconds"`
	PerSecond float64  `json:"perSecond"`
	Senders   []string `json:"senders"`
	Node      string   `json:"node"`
	Ethers    string   `json:"ethers"`
}

// ethersRate runs ethers v6 in Node over the same raw transactions, for
// about d after a warm-up pass, and checks that it recovers the senders
// the Go check does.
func ethersRate(ctx context.Context, dir string, k kind, raws [][]byte, d time.Duration) (nodePeer, error) {
	script := filepath.Join("tools", "js", "checkrate.mjs")
	if _, err := os.Stat(filepath.Join("tools", "js", "node_modules", "ethers")); err != nil {
		return nodePeer{}, fmt.Errorf("tools/js/node_modules has no ethers: run npm ci --prefix tools/js (make js)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nodePeer{}, fmt.Errorf("node is not installed")
	}
	var lines strings.Builder
	for _, raw := range raws {
		lines.WriteString(hexutil.Encode(raw) + "\n")
	}
	file := filepath.Join(dir, "txs-"+strings.ReplaceAll(k.Name, " ", "-")+".txt")
	if err := os.WriteFile(file, []byte(lines.String()), 0o600); err != nil {
		return nodePeer{}, err
	}
	cmd := exec.CommandContext(ctx, "node", script, file, fmt.Sprintf("%.1f", d.Seconds()))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nodePeer{}, fmt.Errorf("node %s: %v: %s", script, err, stderr.String())
	}
	var p nodePeer
	if err := json.Unmarshal(out, &p); err != nil {
		return nodePeer{}, fmt.Errorf("node %s: %w: %s", script, err, out)
	}
	c := checker()
	for i, raw := range raws {
		pay, err := c.Check(raw, k.terms())
		if err != nil {
			return nodePeer{}, err
		}
		if i >= len(p.Senders) || !strings.EqualFold(p.Senders[i], pay.From.Hex()) {
			return nodePeer{}, fmt.Errorf("ethers recovered another sender for transaction %d than the check did", i)
		}
	}
	return p, nil
}

// ethersAuthRate runs ethers v6 in Node over the same x402 payloads
// (tools/js/authrate.mjs: JSON.parse, then verifyTypedData over the
// token's domain), for about d after a warm-up pass, and checks that it
// recovers each authorization's from.
func ethersAuthRate(ctx context.Context, dir string, payloads [][]byte, d time.Duration) (nodePeer, error) {
	script := filepath.Join("tools", "js", "authrate.mjs")
	if _, err := os.Stat(filepath.Join("tools", "js", "node_modules", "ethers")); err != nil {
		return nodePeer{}, fmt.Errorf("tools/js/node_modules has no ethers: run npm ci --prefix tools/js (make js)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nodePeer{}, fmt.Errorf("node is not installed")
	}
	var lines bytes.Buffer
	for _, p := range payloads {
		lines.Write(p)
		lines.WriteByte('\n')
	}
	file := filepath.Join(dir, "authorizations.jsonl")
	if err := os.WriteFile(file, lines.Bytes(), 0o600); err != nil {
		return nodePeer{}, err
	}
	cmd := exec.CommandContext(ctx, "node", script, file, fmt.Sprintf("%.1f", d.Seconds()))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nodePeer{}, fmt.Errorf("node %s: %v: %s", script, err, stderr.String())
	}
	var p struct {
		nodePeer
		Signers []string `json:"signers"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		return nodePeer{}, fmt.Errorf("node %s: %w: %s", script, err, out)
	}
	for i, raw := range payloads {
		a, err := check.ParsePaymentPayload(raw)
		if err != nil {
			return nodePeer{}, err
		}
		if i >= len(p.Signers) || !strings.EqualFold(p.Signers[i], a.From.Hex()) {
			return nodePeer{}, fmt.Errorf("ethers recovered another signer for authorization %d than its from", i)
		}
	}
	return p.nodePeer, nil
}
