package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// clients runs "clients add|list|rotate|revoke|webhook|webhooks": the integrators that may
// call the terminal's network API. The operator socket only.
func clients(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr("clients needs add, list, rotate, revoke, webhook or webhooks")
	}
	switch args[0] {
	case "add":
		fs := flag.NewFlagSet("clients add", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		name := fs.String("name", "", "who the client is, e.g. \"Till 4 register\"")
		role := fs.String("role", "", "register or fleet")
		number := fs.String("number", "", "register this service number (made elsewhere) instead of drawing one")
		keyFile := fs.String("key-file", "", "with -number: the service key to register, from this file")
		if err := fs.Parse(args[1:]); err != nil {
			return usageErr("clients add: %v", err)
		}
		if *name == "" || *role == "" || fs.NArg() > 0 || (*number == "") != (*keyFile == "") {
			return usageErr("clients add needs -name NAME -role register|fleet [-number SN -key-file FILE] and nothing else")
		}
		in := map[string]string{"name": *name, "role": *role}
		if *number != "" {
			creds, err := loadCredentials(*number, *keyFile)
			if err != nil {
				return err
			}
			in["number"], in["key"] = creds.number, string(creds.key)
		}
		body, err := json.Marshal(in)
		if err != nil {
			return err
		}
		return c.do(ctx, http.MethodPost, "/v1/clients", body, stdout)
	case "list":
		if len(args) != 1 {
			return usageErr("clients list takes nothing more")
		}
		return c.do(ctx, http.MethodGet, "/v1/clients", nil, stdout)
	case "rotate":
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return usageErr("clients rotate needs NUMBER [-grace 24h]")
		}
		fs := flag.NewFlagSet("clients rotate", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		grace := fs.String("grace", "", "how long the old key stays honoured (default 24h, at most 720h)")
		if err := fs.Parse(args[2:]); err != nil {
			return usageErr("clients rotate: %v", err)
		}
		if fs.NArg() > 0 {
			return usageErr("clients rotate takes one NUMBER and -grace")
		}
		var body []byte
		if *grace != "" {
			var err error
			if body, err = json.Marshal(map[string]string{"grace": *grace}); err != nil {
				return err
			}
		}
		return c.do(ctx, http.MethodPost, "/v1/clients/"+url.PathEscape(args[1])+"/rotate", body, stdout)
	case "revoke":
		if len(args) != 2 {
			return usageErr("clients revoke takes one NUMBER")
		}
		return c.do(ctx, http.MethodPost, "/v1/clients/"+url.PathEscape(args[1])+"/revoke", nil, stdout)
	case "webhook":
		return clientWebhook(ctx, c, args[1:], stdout) // webhooks.go
	case "webhooks":
		if len(args) != 1 {
			return usageErr("clients webhooks takes nothing more")
		}
		return c.do(ctx, http.MethodGet, "/v1/webhooks", nil, stdout)
	}
	return usageErr("unknown command \"clients %s\"", args[0])
}
