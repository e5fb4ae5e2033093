package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// fleetPush sends a signed config bundle (posctl fleet sign makes one) to
// the terminal: over the socket, or signed as a fleet client with -url.
func fleetPush(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usageErr("fleet push takes one FILE")
	}
	raw, err := os.ReadFile(args[0])
	if err != nil {
		return fmt.Errorf("read bundle: %w", err)
	}
	return c.do(ctx, http.MethodPost, "/v1/fleet/bundle", raw, stdout)
}

// versionLine is one line of "fleet versions": what a terminal's
// status says of itself, or why it could not be read.
type versionLine struct {
	URL           string          `json:"url"`
	Terminal      json.RawMessage `json:"terminal,omitempty"`
	ConfigVersion json.RawMessage `json:"configVersion,omitempty"`
	Error         string          `json:"error,omitempty"`
}

// versionTimeout bounds each terminal's answer, so one that hangs does not
// hold up the report.
const versionTimeout = 10 * time.Second

// fleetVersions reads GET /v1/status of every terminal URL given, signed
// with the global -client and -key-file (a fleet client registered on each
// terminal under the same number and key), all at once. It prints one line
// per URL, in the order given, and fails (exit 1) if any terminal did.
func fleetVersions(ctx context.Context, g globals, urls []string, stdout io.Writer) error {
	if len(urls) == 0 {
		return usageErr("fleet versions needs at least one terminal URL")
	}
	clients := make([]*client, len(urls))
	for i, u := range urls {
		c, err := g.networkClient(u)
		if err != nil {
			return err
		}
		clients[i] = c
	}
	out := make([]versionLine, len(urls))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { out[i] = terminalVersion(ctx, c, urls[i]) })
	}
	wg.Wait()
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if _, err := stdout.Write(append(b, '\n')); err != nil {
		return err
	}
	failed := 0
	for _, v := range out {
		if v.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("partial: %d of %d terminals did not answer their status", failed, len(urls))
	}
	return nil
}

func terminalVersion(ctx context.Context, c *client, u string) versionLine {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	v := versionLine{URL: u}
	var b bytes.Buffer
	if err := c.call(ctx, http.MethodGet, "/v1/status", nil, &b); err != nil {
		v.Error = err.Error()
		return v
	}
	var st struct {
		Terminal      json.RawMessage `json:"terminal"`
		ConfigVersion json.RawMessage `json:"configVersion"`
	}
	if err := json.Unmarshal(b.Bytes(), &st); err != nil {
		v.Error = "status is not a JSON object: " + err.Error()
		return v
	}
	v.Terminal, v.ConfigVersion = st.Terminal, st.ConfigVersion
	return v
}
