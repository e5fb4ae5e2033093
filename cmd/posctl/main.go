// Command posctl drives a running posd over its operator socket. Its output
// is JSON on stdout, so scripts can read it; errors go to stderr as
// "posctl: CODE: message" with a non-zero exit status (1 for a refusal or a
// failure, 2 for wrong usage).
//
//	posctl [-socket PATH | -config FILE] request new -amount 0.01 [-asset TUSD] [-memo TEXT]
//	posctl request show [ID]          (no ID: the request on screen)
//	posctl request cancel ID
//	posctl request qr [ID] [-module N] -o FILE.png   (the request's EIP-681 QR code as PNG; -o - for stdout)
//	posctl queue                      (payments per state, oldest queued, connectivity, last broadcast round)
//	posctl sync                       (probe the chain and broadcast now; prints the queue after)
//	posctl payments [-state queued|broadcast|confirmed|failed] [-since RFC3339] [-until RFC3339] [-limit N] [-after SEQ]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"showpos/terminal/config"
)

const usage = `usage: posctl [-socket PATH | -config FILE] COMMAND

commands:
  request new -amount AMOUNT [-asset SYMBOL] [-memo TEXT]   create a payment request and put it on screen
  request show [ID]                                          show a request (no ID: the one on screen)
  request cancel ID                                          cancel a pending request
  request qr [ID] [-module N] -o FILE                        write the request's QR code as PNG (-o - : stdout)
  queue                                                      payments per state, oldest queued, online, last round
  sync                                                       probe the chain and broadcast now, then show the queue
  payments [-state S] [-since T] [-until T] [-limit N] [-after SEQ]
                                                             list payments in acceptance order

The socket is -socket, else $SHOWPOS_SOCKET, else the one -config names,
else /var/lib/showpos/posd.sock.
`

// exitError carries the exit status a failure should end with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func usageErr(format string, args ...any) error {
	return &exitError{2, fmt.Errorf(format, args...)}
}

func main() {
	err := run(os.Args[1:], os.Stdout)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "posctl:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.code == 2 {
			fmt.Fprint(os.Stderr, usage)
		}
		os.Exit(ee.code)
	}
	os.Exit(1)
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("posctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	socket := fs.String("socket", "", "operator socket of the daemon")
	configPath := fs.String("config", "", "posd config file, to find its socket")
	if err := fs.Parse(args); err != nil {
		return usageErr("%v", err)
	}
	path, err := socketPath(*socket, *configPath)
	if err != nil {
		return err
	}
	c := newClient(path)
	rest := fs.Args()
	if len(rest) == 0 {
		return usageErr("no command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch {
	case rest[0] == "request" && len(rest) >= 2 && rest[1] == "new":
		return requestNew(ctx, c, rest[2:], stdout)
	case rest[0] == "request" && len(rest) >= 2 && rest[1] == "show":
		id := "current"
		if len(rest) == 3 {
			id = rest[2]
		} else if len(rest) > 3 {
			return usageErr("request show takes at most one ID")
		}
		return c.do(ctx, http.MethodGet, "/v1/requests/"+url.PathEscape(id), nil, stdout)
	case rest[0] == "request" && len(rest) >= 2 && rest[1] == "cancel":
		if len(rest) != 3 {
			return usageErr("request cancel takes one ID")
		}
		return c.do(ctx, http.MethodPost, "/v1/requests/"+url.PathEscape(rest[2])+"/cancel", nil, stdout)
	case rest[0] == "request" && len(rest) >= 2 && rest[1] == "qr":
		return requestQR(ctx, c, rest[2:], stdout)
	case rest[0] == "queue" && len(rest) == 1:
		return c.do(ctx, http.MethodGet, "/v1/queue", nil, stdout)
	case rest[0] == "sync" && len(rest) == 1:
		return c.do(ctx, http.MethodPost, "/v1/sync", nil, stdout)
	case rest[0] == "payments":
		return payments(ctx, c, rest[1:], stdout)
	}
	return usageErr("unknown command %q", rest[0])
}

func socketPath(flagSocket, configPath string) (string, error) {
	switch {
	case flagSocket != "":
		return flagSocket, nil
	case os.Getenv("SHOWPOS_SOCKET") != "":
		return os.Getenv("SHOWPOS_SOCKET"), nil
	case configPath != "":
		cfg, err := config.Load(configPath)
		if err != nil {
			return "", err
		}
		return cfg.SocketPath(), nil
	}
	return config.DefaultDataDir + "/posd.sock", nil
}

func requestNew(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("request new", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	amount := fs.String("amount", "", "amount in the asset's unit, e.g. 0.01")
	symbol := fs.String("asset", "", "asset symbol (default: the terminal's first asset)")
	memo := fs.String("memo", "", "memo shown to the payer")
	if err := fs.Parse(args); err != nil {
		return usageErr("request new: %v", err)
	}
	if *amount == "" || fs.NArg() > 0 {
		return usageErr("request new needs -amount and nothing else")
	}
	body, err := json.Marshal(map[string]string{"amount": *amount, "asset": *symbol, "memo": *memo})
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, "/v1/requests", body, stdout)
}

func requestQR(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	id := "current"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("request qr", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	module := fs.Int("module", 6, "pixels per QR module")
	out := fs.String("o", "", "PNG file to write, - for stdout")
	if err := fs.Parse(args); err != nil {
		return usageErr("request qr: %v", err)
	}
	if *out == "" || fs.NArg() > 0 {
		return usageErr("request qr needs -o FILE (or -o -)")
	}
	var buf bytes.Buffer
	path := fmt.Sprintf("/v1/requests/%s/qr.png?module=%d", url.PathEscape(id), *module)
	if err := c.call(ctx, http.MethodGet, path, nil, &buf); err != nil {
		return err
	}
	if *out == "-" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write QR: %w", err)
	}
	return nil
}

func payments(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("payments", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	q := url.Values{}
	for _, name := range []string{"state", "since", "until", "limit", "after"} {
		fs.Func(name, name, func(v string) error { q.Set(name, v); return nil })
	}
	if err := fs.Parse(args); err != nil {
		return usageErr("payments: %v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("payments takes flags only")
	}
	path := "/v1/payments"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return c.do(ctx, http.MethodGet, path, nil, stdout)
}

type client struct {
	socket string
	http   *http.Client
}

func newClient(socket string) *client {
	var d net.Dialer
	return &client{
		socket: socket,
		http: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", socket)
			},
		}},
	}
}

// do calls the daemon and copies a successful JSON answer, indented, to
// stdout; an error answer becomes an error carrying its code.
func (c *client) do(ctx context.Context, method, path string, body []byte, stdout io.Writer) error {
	var b bytes.Buffer
	if err := c.call(ctx, method, path, body, &b); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("posd answered non-JSON: %w", err)
	}
	_, err := stdout.Write(out.Bytes())
	return err
}

// call makes one call and leaves a successful answer's body in into.
func (c *client) call(ctx context.Context, method, path string, body []byte, into *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://posd"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reach posd at %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
			return fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("posd answered %s", resp.Status)
	}
	into.Write(b)
	return nil
}
