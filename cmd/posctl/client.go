package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"showpos/terminal/auth"
	"showpos/terminal/store"
)

// client calls posd: over its unix socket, trusted by the socket's file
// mode and unsigned, or over HTTP(S) at a terminal's URL, every request
// signed with a service number and key (terminal/auth). The calling code
// is the same; only the transport and the signing differ.
type client struct {
	base  string // "http://posd" on the socket, else the terminal's URL
	where string // the socket path or the URL, for messages
	http  *http.Client
	creds *credentials // nil on the socket
}

// credentials are a client's service number and key; the key's bytes are
// the HMAC secret.
type credentials struct {
	number string
	key    []byte
}

func newSocketClient(socket string) *client {
	var d net.Dialer
	return &client{
		base:  "http://posd",
		where: socket,
		http: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", socket)
			},
		}},
	}
}

// newNetworkClient calls the terminal at rawURL (http or https, no query)
// signing with creds. tlsConf, if not nil, says whom to trust.
func newNetworkClient(rawURL string, creds *credentials, tlsConf *tls.Config) (*client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, usageErr("url %q: want http(s)://HOST[:PORT], e.g. https://10.0.0.7:8080", rawURL)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tlsConf
	return &client{
		base:  strings.TrimSuffix(u.String(), "/"),
		where: rawURL,
		http: &http.Client{
			Transport: t,
			// A signature covers the path it was made for: a redirect is
			// reported, not followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		creds: creds,
	}, nil
}

// loadCredentials reads the service key from keyFile (one line; the
// trailing newline is not part of the key).
func loadCredentials(number, keyFile string) (*credentials, error) {
	if number == "" || keyFile == "" {
		return nil, usageErr("signed calls need -client SN and -key-file FILE (or SHOWPOS_CLIENT and SHOWPOS_KEY_FILE)")
	}
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("read service key: %w", err)
	}
	key := strings.TrimRight(string(b), "\r\n")
	if len(key) < store.MinSecret || len(key) > store.MaxSecret {
		return nil, fmt.Errorf("service key in %s: %d bytes, want %d to %d", keyFile, len(key), store.MinSecret, store.MaxSecret)
	}
	return &credentials{number: number, key: []byte(key)}, nil
}

// tlsConfig trusts the certificates in the PEM file caFile (a terminal's
// self-signed certificate, say) and nothing else; "" means the system's
// roots.
func tlsConfig(caFile string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return conf, nil
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA certificate %s: no PEM certificate in it", caFile)
	}
	conf.RootCAs = pool
	return conf, nil
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

// maxAnswer caps what posctl reads of one answer.
const maxAnswer = 64 << 20

// call makes one call and leaves a successful answer's body in into. On
// the network the request is signed at the current time with a fresh
// nonce.
func (c *client) call(ctx context.Context, method, path string, body []byte, into *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.creds != nil {
		auth.Sign(req, body, c.creds.number, c.creds.key, time.Now(), auth.NewNonce())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reach posd at %s: %w", c.where, unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("read answer of %s: %w", c.where, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
			return fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("posd at %s answered %s", c.where, resp.Status)
	}
	into.Write(b)
	return nil
}

// unwrapURLError drops the *url.Error around a transport failure: it
// repeats the method and URL the message already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
