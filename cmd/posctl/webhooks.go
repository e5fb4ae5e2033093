package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// clientWebhook runs "clients webhook NUMBER [URL [-rotate] | -off]": set
// the client's webhook (the answer carries its secret when new, shown
// once), remove it, or, with neither, print its delivery status and the
// attempts kept. The operator socket only.
func clientWebhook(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	const usage = "clients webhook needs NUMBER [URL [-rotate] | -off]"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageErr(usage)
	}
	path := "/v1/clients/" + url.PathEscape(args[0]) + "/webhook"
	var target string
	var rotate, off bool
	for _, a := range args[1:] {
		switch {
		case a == "-rotate" || a == "--rotate":
			rotate = true
		case a == "-off" || a == "--off":
			off = true
		case !strings.HasPrefix(a, "-") && target == "":
			target = a
		default:
			return usageErr("%s: %q", usage, a)
		}
	}
	switch {
	case off && (target != "" || rotate):
		return usageErr("clients webhook NUMBER -off takes nothing more")
	case off:
		return c.do(ctx, http.MethodDelete, path, nil, stdout)
	case target == "" && rotate:
		return usageErr("clients webhook -rotate needs the URL")
	case target == "":
		return c.do(ctx, http.MethodGet, path, nil, stdout)
	}
	body, err := json.Marshal(map[string]any{"url": target, "rotate": rotate})
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, path, body, stdout)
}
