package main

import (
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
)

// registrations runs "registrations [-all] | approve ID -role R | reject
// ID": the operator's side of third parties' registrations. The operator
// socket only.
func registrations(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := flag.NewFlagSet("registrations", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		all := fs.Bool("all", false, "every registration kept, not only those waiting")
		if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
			return usageErr("registrations takes -all and nothing else")
		}
		path := "/v1/registrations"
		if *all {
			path += "?all=1"
		}
		return c.do(ctx, http.MethodGet, path, nil, stdout)
	}
	switch args[0] {
	case "approve":
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return usageErr("registrations approve needs ID -role register|fleet")
		}
		fs := flag.NewFlagSet("registrations approve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		role := fs.String("role", "", "the role granted: register or fleet (the one asked for is advisory)")
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() > 0 || *role == "" {
			return usageErr("registrations approve needs ID -role register|fleet and nothing else")
		}
		body, err := json.Marshal(map[string]string{"role": *role})
		if err != nil {
			return err
		}
		return c.do(ctx, http.MethodPost, "/v1/registrations/"+url.PathEscape(args[1])+"/approve", body, stdout)
	case "reject":
		if len(args) != 2 {
			return usageErr("registrations reject takes one ID")
		}
		return c.do(ctx, http.MethodPost, "/v1/registrations/"+url.PathEscape(args[1])+"/reject", nil, stdout)
	}
	return usageErr("unknown command \"registrations %s\"", args[0])
}

// register runs the third party's side: "register -url URL -name N
// -contact C -role R -reason TEXT" asks for a service number (no
// credentials: it prints the registration ID and the pickup secret, shown
// once), and "register pickup -url URL -id ID -secret-file FILE [-key-out
// FILE]" collects the service number and key once approved, signed with
// the pickup secret; -key-out writes the key to a new file (0600) as
// -key-file reads it.
func register(ctx context.Context, g globals, args []string, stdout io.Writer) error {
	pickup := len(args) > 0 && args[0] == "pickup"
	if pickup {
		args = args[1:]
	}
	fs := flag.NewFlagSet("register", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	u := fs.String("url", g.url, "the terminal's network API")
	name := fs.String("name", "", "who you are")
	contact := fs.String("contact", "", "how the operator reaches you")
	role := fs.String("role", "", "register or fleet: the role you ask for")
	reason := fs.String("reason", "", "why, in a line")
	id := fs.String("id", "", "pickup: the registration ID")
	secretFile := fs.String("secret-file", "", "pickup: the file holding the pickup secret")
	keyOut := fs.String("key-out", "", "pickup: write the service key to this new file (0600)")
	if err := fs.Parse(args); err != nil {
		return usageErr("register: %v", err)
	}
	if *u == "" || fs.NArg() > 0 {
		return usageErr("register needs -url URL")
	}
	conf, err := tlsConfig(g.caCert)
	if err != nil {
		return err
	}
	if !pickup {
		if *name == "" || *contact == "" || *role == "" || *reason == "" || *id != "" || *secretFile != "" || *keyOut != "" {
			return usageErr("register needs -url URL -name NAME -contact CONTACT -role register|fleet -reason TEXT")
		}
		c, err := newNetworkClient(*u, nil, conf)
		if err != nil {
			return err
		}
		body, err := json.Marshal(map[string]string{"name": *name, "contact": *contact, "role": *role, "reason": *reason})
		if err != nil {
			return err
		}
		return c.do(ctx, http.MethodPost, "/v1/registrations", body, stdout)
	}
	if *id == "" || *secretFile == "" || *name != "" || *contact != "" || *role != "" || *reason != "" {
		return usageErr("register pickup needs -url URL -id ID -secret-file FILE [-key-out FILE]")
	}
	// The pickup secret signs as a service key does, the ID standing for
	// the service number.
	creds, err := loadCredentials(*id, *secretFile)
	if err != nil {
		return err
	}
	c, err := newNetworkClient(*u, creds, conf)
	if err != nil {
		return err
	}
	if *keyOut == "" {
		return c.do(ctx, http.MethodPost, "/v1/registrations/"+url.PathEscape(*id)+"/pickup", nil, stdout)
	}
	// Made first, so a key is never collected into nowhere.
	f, err := os.OpenFile(*keyOut, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists: the key is shown once, so posctl will not overwrite a file", *keyOut)
	}
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	var out strings.Builder
	if err := c.do(ctx, http.MethodPost, "/v1/registrations/"+url.PathEscape(*id)+"/pickup", nil, &out); err != nil {
		f.Close()
		os.Remove(*keyOut)
		return err
	}
	var got struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil || got.Key == "" {
		f.Close()
		return fmt.Errorf("pickup answered no key (the answer is below): %v", err)
	}
	if _, err := f.WriteString(got.Key + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write %s (the key is in the answer below): %w", *keyOut, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", *keyOut, err)
	}
	_, err = io.WriteString(stdout, out.String())
	return err
}
