// Command posctl drives a running posd: over its operator socket, or, with
// -url, over the terminal's network API as a registered integrator client,
// every request signed with the client's service key. Its output is JSON on
// stdout, so scripts can read it; errors go to stderr as
// "posctl: CODE: message" with a non-zero exit status (1 for a refusal or a
// failure, 2 for wrong usage).
//
//	posctl [-socket PATH | -config FILE] request new -amount 0.01 | -fiat 4.50 [-asset TUSD] [-memo TEXT] [-tip AMOUNT | -tip-percent N]
//	posctl request show [ID] [-wait 30s]   (no ID: the request on screen; -wait: once it is not pending, or after the wait)
//	posctl request cancel ID
//	posctl request qr [ID] [-module N] -o FILE.png   (the request's EIP-681 QR code as PNG; -o - for stdout)
//	posctl payments [-state queued|broadcast|seen|confirmed|final|failed|unmatched] [-since RFC3339] [-until RFC3339] [-limit N] [-after SEQ]
//	posctl totals [-day YYYY-MM-DD | -from RFC3339 -to RFC3339] [-csv]
//	posctl failures [-all] | failures ack ID|all   (failures after acceptance; books.go)
//	posctl report x|z [-key K] [-json] | report show N|last   (X and Z reports as a table, or JSON)
//	posctl unmatched ack SEQ   (an unmatched receipt given back or booked: the bounded store may delete it then)
//	posctl export [-from T] [-to T] [-format csv|jsonl] [-o FILE]   (every payment of a period, for archiving; socket)
//	posctl store compact [-store PATH] -o NEW | -in-place   (offline, posd stopped: bbolt's compaction, opened and scrubbed whole)
//	posctl status
//	posctl queue                      (payments per state, oldest queued, connectivity, last broadcast round)
//	posctl sync                       (probe the chain and broadcast now; prints the queue after)
//	posctl clients add -name NAME -role register|fleet   (prints the new service number and key, shown once)
//	posctl clients list
//	posctl clients rotate NUMBER [-grace 24h]
//	posctl clients revoke NUMBER
//	posctl clients webhook NUMBER [URL [-rotate] | -off]   (set: prints the webhook secret when new, shown once)
//	posctl clients webhooks
//	posctl registrations [-all] | registrations approve ID -role register|fleet | registrations reject ID
//	posctl register -url URL -name N -contact C -role R -reason TEXT   (a third party asks; no credentials)
//	posctl register pickup -url URL -id ID -secret-file FILE [-key-out FILE]   (collects its number and key, once)
//	posctl fleet push FILE            (a signed config bundle)
//	posctl fleet versions URL...      (each terminal's id and config version, signed as a fleet client)
//	posctl fleet keygen …, fleet sign …   (local: the fleet key and bundles)
//	posctl fleet watch -broker URL [-prefix P] [-once [-wait D] | -json]   (every terminal's retained MQTT status; fleetwatch.go)
//	posctl fleet publish -broker URL -group G | -terminal T [-prefix P] [-public-key HEX] FILE | -clear   (a bundle retained on the broker; fleetpublish.go)
//
// Over the network (-url https://10.0.0.7:8080 -client SN -key-file FILE
// [-cacert FILE]) the register calls, totals, status and fleet push work;
// clients, queue and sync are the operator's, on the socket only.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"showpos/terminal/config"
)

const usage = `usage: posctl [-socket PATH | -config FILE] COMMAND
       posctl -url URL -client SN -key-file FILE [-cacert FILE] COMMAND

commands:
  request new -amount AMOUNT | -fiat AMOUNT [-asset SYMBOL] [-memo TEXT] [-tip AMOUNT | -tip-percent N]
                                                           create a payment request and put it on screen
                                                           (-fiat: in terminal.currency, at the current rate)
  request show [ID] [-wait D]                                show a request (no ID: the one on screen)
                                                             (-wait 30s: once it is no longer pending, or after D; 1s to 60s)
  request cancel ID                                          cancel a pending request
  request qr [ID] [-module N] -o FILE                        write the request's QR code as PNG (-o - : stdout)
  payments [-state S] [-since T] [-until T] [-limit N] [-after SEQ]
                                                             list payments in acceptance order
                                                             (-state unmatched: money received on chain that paid no request)
  totals [-day YYYY-MM-DD | -from T -to T] [-csv]            sums per asset and state (default: today)
  failures [-all] [-after ID] [-limit N]                     failures after acceptance not yet acknowledged (-all: every one)
  failures ack ID|all                                        acknowledge one failure, or every open one
  report x [-json] [-columns N]                              the X report: running totals since the last Z (a table)
  report z [-key KEY] [-json] [-columns N]                   take the Z report, the close; the same -key again answers the same Z
  report show N|last [-json] [-columns N]                    a stored Z report
  unmatched ack SEQ                                          acknowledge an unmatched receipt (given back or booked by
                                                             hand); the bounded store deletes it once old enough (socket)
  export [-from T] [-to T] [-format csv|jsonl] [-o FILE]     every payment of a period, all states, streamed for
                                                             archiving (T: RFC 3339 or YYYY-MM-DD, UTC) (socket)
  store compact [-store PATH] -o NEW | -in-place             rewrite the store file compacted, offline with posd
                                                             stopped; opened and scrubbed whole before it replaces anything
                                                             (-in-place keeps the old one as PATH.before-compact)
  status                                                     the terminal's status
  queue                                                      payments per state, oldest queued, online, last round (socket)
  sync                                                       probe the chain and broadcast now, then show the queue (socket)
  clients add -name NAME -role register|fleet [-number SN -key-file F]
                                                             register an integrator; prints its key, once; with
                                                             -number/-key-file, one made elsewhere (socket)
  clients list                                               the integrators, never their keys (socket)
  clients rotate NUMBER [-grace 24h]                         a new key; the old one works for the grace (socket)
  clients revoke NUMBER                                      refuse the client from now on (socket)
  clients webhook NUMBER URL [-rotate]                       set its webhook; a new secret is shown once (socket)
  clients webhook NUMBER [-off]                              its delivery status and last attempts, or remove it (socket)
  clients webhooks                                           every webhook's delivery status (socket)
  registrations [-all]                                       third parties' registrations waiting (-all: every one kept) (socket)
  registrations approve ID -role register|fleet              approve one: its client is made, its key kept for one pickup (socket)
  registrations reject ID                                    reject one (socket)
  register -url URL -name N -contact C -role R -reason TEXT  a third party asks for a service number (no credentials);
                                                             prints the registration ID and pickup secret, once
  register pickup -url URL -id ID -secret-file FILE [-key-out FILE]
                                                             collect the service number and key once approved,
                                                             signed with the pickup secret; -key-out: a new key file
  fleet push FILE                                            send a signed config bundle
  fleet versions URL...                                      each terminal's id and config version, signed
                                                             with -client/-key-file as a fleet client
  fleet keygen ..., fleet sign ...                           make the fleet key, sign bundles (no terminal)
  fleet watch -broker URL [-prefix P] [-once | -json] [-wait D]
                                                             every terminal under the prefix from its retained MQTT
                                                             status, redrawn live (-once, -json or a pipe: printed once)
  fleet publish -broker URL -group G | -terminal T [-prefix P] [-public-key HEX] FILE | -clear
                                                             retain a signed bundle on P/config/G or P/T/config
                                                             (checked first; -clear removes it)
    broker options: -broker mqtt://HOST[:1883] | mqtts://HOST[:8883] [-cacert F]
                    [-cert F -key F] [-user U -password-file F]
                    (-password-file: white space around the password is trimmed, as posd
                    trims mqtt.password_file)

The socket is -socket, else $SHOWPOS_SOCKET, else the one -config names,
else /var/lib/showpos/posd.sock. With -url (or $SHOWPOS_URL) every call
goes to the terminal's network API, signed as the client -client
($SHOWPOS_CLIENT) with the service key in -key-file ($SHOWPOS_KEY_FILE);
-cacert ($SHOWPOS_CACERT) is a PEM certificate to trust, e.g. the
terminal's self-signed one.
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

// globals are the flags before the command, with their environment
// fallbacks applied.
type globals struct {
	socket, config               string
	url, client, keyFile, caCert string
}

func parseGlobals(args []string) (globals, []string, error) {
	var g globals
	fs := flag.NewFlagSet("posctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.socket, "socket", "", "operator socket of the daemon")
	fs.StringVar(&g.config, "config", "", "posd config file, to find its socket")
	fs.StringVar(&g.url, "url", "", "the terminal's network API, e.g. https://10.0.0.7:8080")
	fs.StringVar(&g.client, "client", "", "service number to sign as")
	fs.StringVar(&g.keyFile, "key-file", "", "file holding the service key")
	fs.StringVar(&g.caCert, "cacert", "", "PEM certificate to trust for the terminal")
	if err := fs.Parse(args); err != nil {
		return g, nil, usageErr("%v", err)
	}
	for _, f := range []struct {
		v   *string
		env string
	}{{&g.url, "SHOWPOS_URL"}, {&g.client, "SHOWPOS_CLIENT"}, {&g.keyFile, "SHOWPOS_KEY_FILE"}, {&g.caCert, "SHOWPOS_CACERT"}} {
		if *f.v == "" {
			*f.v = os.Getenv(f.env)
		}
	}
	return g, fs.Args(), nil
}

// networkClient is a signed client for the terminal at u.
func (g globals) networkClient(u string) (*client, error) {
	creds, err := loadCredentials(g.client, g.keyFile)
	if err != nil {
		return nil, err
	}
	conf, err := tlsConfig(g.caCert)
	if err != nil {
		return nil, err
	}
	return newNetworkClient(u, creds, conf)
}

// socketOnly are the operator's commands: the network API does not serve
// them.
var socketOnly = map[string]bool{"clients": true, "queue": true, "sync": true, "registrations": true, "export": true, "unmatched": true}

func run(args []string, stdout io.Writer) error {
	g, rest, err := parseGlobals(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageErr("no command")
	}
	if rest[0] == "fleet" && len(rest) >= 2 && (rest[1] == "keygen" || rest[1] == "sign" || rest[1] == "certify") {
		return fleetLocal(rest[1:], stdout)
	}
	if rest[0] == "fleet" && len(rest) >= 2 && (rest[1] == "watch" || rest[1] == "publish") {
		return fleetMQTT(rest[1:], stdout) // a broker, not a terminal
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if rest[0] == "fleet" && len(rest) >= 2 && rest[1] == "versions" {
		return fleetVersions(ctx, g, rest[2:], stdout)
	}
	if rest[0] == "register" {
		return register(ctx, g, rest[1:], stdout)
	}
	if rest[0] == "store" {
		return storeCmd(g, rest[1:], stdout) // offline, on the file (store.go)
	}
	var c *client
	if g.url != "" {
		if socketOnly[rest[0]] {
			return usageErr("%s works on the operator socket only, not with -url", rest[0])
		}
		if c, err = g.networkClient(g.url); err != nil {
			return err
		}
	} else {
		path, err := socketPath(g.socket, g.config)
		if err != nil {
			return err
		}
		c = newSocketClient(path)
	}
	if rest[0] == "export" {
		// Streamed, however long it takes (store.go).
		return export(context.Background(), c, rest[1:], stdout)
	}
	return dispatch(ctx, c, rest, stdout)
}

func dispatch(ctx context.Context, c *client, rest []string, stdout io.Writer) error {
	sub := ""
	if len(rest) >= 2 {
		sub = rest[1]
	}
	switch {
	case rest[0] == "request" && sub == "new":
		return requestNew(ctx, c, rest[2:], stdout)
	case rest[0] == "request" && sub == "show":
		return requestShow(ctx, c, rest[2:], stdout)
	case rest[0] == "request" && sub == "cancel":
		if len(rest) != 3 {
			return usageErr("request cancel takes one ID")
		}
		return c.do(ctx, http.MethodPost, "/v1/requests/"+url.PathEscape(rest[2])+"/cancel", nil, stdout)
	case rest[0] == "request" && sub == "qr":
		return requestQR(ctx, c, rest[2:], stdout)
	case rest[0] == "payments":
		return payments(ctx, c, rest[1:], stdout)
	case rest[0] == "unmatched" && sub == "ack":
		if len(rest) != 3 {
			return usageErr("unmatched ack takes one receipt number (its seq in payments -state unmatched)")
		}
		return c.do(ctx, http.MethodPost, "/v1/payments/unmatched/"+url.PathEscape(rest[2])+"/ack", nil, stdout)
	case rest[0] == "totals":
		return totals(ctx, c, rest[1:], stdout)
	case rest[0] == "status" && len(rest) == 1:
		return c.do(ctx, http.MethodGet, "/v1/status", nil, stdout)
	case rest[0] == "queue" && len(rest) == 1:
		return c.do(ctx, http.MethodGet, "/v1/queue", nil, stdout)
	case rest[0] == "sync" && len(rest) == 1:
		return c.do(ctx, http.MethodPost, "/v1/sync", nil, stdout)
	case rest[0] == "clients":
		return clients(ctx, c, rest[1:], stdout)
	case rest[0] == "registrations":
		return registrations(ctx, c, rest[1:], stdout)
	case rest[0] == "failures":
		return failures(ctx, c, rest[1:], stdout)
	case rest[0] == "report":
		return reportCmd(ctx, c, rest[1:], stdout)
	case rest[0] == "fleet" && sub == "push":
		return fleetPush(ctx, c, rest[2:], stdout)
	}
	return usageErr("unknown command %q", strings.Join(rest[:min(len(rest), 2)], " "))
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
	fiatAmount := fs.String("fiat", "", "amount in the shop's currency (terminal.currency), e.g. 4.50")
	symbol := fs.String("asset", "", "asset symbol (default: the terminal's first asset)")
	memo := fs.String("memo", "", "memo shown to the payer")
	tip := fs.String("tip", "", "tip, in the unit of the amount")
	tipPercent := fs.Uint("tip-percent", 0, "tip, as a percentage of the amount (1..100)")
	if err := fs.Parse(args); err != nil {
		return usageErr("request new: %v", err)
	}
	if (*amount == "") == (*fiatAmount == "") || fs.NArg() > 0 {
		return usageErr("request new needs one of -amount and -fiat, and nothing else")
	}
	body, err := json.Marshal(struct {
		Amount     string `json:"amount,omitempty"`
		Fiat       string `json:"fiat,omitempty"`
		Asset      string `json:"asset,omitempty"`
		Memo       string `json:"memo,omitempty"`
		Tip        string `json:"tip,omitempty"`
		TipPercent uint   `json:"tipPercent,omitempty"`
	}{*amount, *fiatAmount, *symbol, *memo, *tip, *tipPercent})
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, "/v1/requests", body, stdout)
}

// requestShow prints a request ("current": the one on screen); with
// -wait D (an ID's only), once it is no longer pending or after D.
func requestShow(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	id := "current"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("request show", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	wait := fs.Duration("wait", 0, "answer once the request is not pending, or after this (1s to 60s)")
	if err := fs.Parse(args); err != nil {
		return usageErr("request show: %v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("request show takes at most one ID")
	}
	path := "/v1/requests/" + url.PathEscape(id)
	if *wait != 0 {
		if id == "current" {
			return usageErr("request show -wait needs the request's ID")
		}
		path += "?wait=" + url.QueryEscape(wait.String())
		// The command's own 30 s would cut a longer wait off.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), *wait+30*time.Second)
		defer cancel()
	}
	return c.do(ctx, http.MethodGet, path, nil, stdout)
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

// queryFlagSet is a flag set for cmd whose flags names each set the query
// parameter of the same name in q.
func queryFlagSet(cmd string, names ...string) (fs *flag.FlagSet, q url.Values) {
	fs = flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	q = url.Values{}
	for _, name := range names {
		fs.Func(name, name, func(v string) error { q.Set(name, v); return nil })
	}
	return fs, q
}

// withQuery is path with q, if any, as its query.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func payments(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	fs, q := queryFlagSet("payments", "state", "since", "until", "limit", "after")
	if err := fs.Parse(args); err != nil {
		return usageErr("payments: %v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("payments takes flags only")
	}
	return c.do(ctx, http.MethodGet, withQuery("/v1/payments", q), nil, stdout)
}

// totals prints the sums as JSON, or with -csv the terminal's CSV as it
// comes.
func totals(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	fs, q := queryFlagSet("totals", "day", "from", "to")
	asCSV := fs.Bool("csv", false, "CSV instead of JSON")
	if err := fs.Parse(args); err != nil {
		return usageErr("totals: %v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("totals takes flags only")
	}
	if !*asCSV {
		return c.do(ctx, http.MethodGet, withQuery("/v1/totals", q), nil, stdout)
	}
	q.Set("format", "csv")
	var buf bytes.Buffer
	if err := c.call(ctx, http.MethodGet, withQuery("/v1/totals", q), nil, &buf); err != nil {
		return err
	}
	_, err := stdout.Write(buf.Bytes())
	return err
}
