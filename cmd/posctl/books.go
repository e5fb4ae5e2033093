package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"showpos/terminal/report"
)

// failures lists the open failures after acceptance (-all: acknowledged
// ones too) as JSON, or acknowledges one or all of them:
//
//	posctl failures [-all] [-after ID] [-limit N]
//	posctl failures ack ID|all
func failures(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "ack" {
		if len(args) != 2 {
			return usageErr("failures ack takes one failure id, or all")
		}
		return c.do(ctx, http.MethodPost, "/v1/failures/"+url.PathEscape(args[1])+"/ack", nil, stdout)
	}
	fs, q := queryFlagSet("failures", "after", "limit")
	all := fs.Bool("all", false, "acknowledged failures too")
	if err := fs.Parse(args); err != nil {
		return usageErr("failures: %v", err)
	}
	if fs.NArg() > 0 {
		return usageErr("failures takes flags only, or ack ID|all")
	}
	if *all {
		q.Set("all", "1")
	}
	return c.do(ctx, http.MethodGet, withQuery("/v1/failures", q), nil, stdout)
}

// reportCmd reads the X report, takes the Z report, or shows a stored Z,
// as a table (the printed report at -columns wide) or, with -json, as
// the API's JSON:
//
//	posctl report x [-json] [-columns N]
//	posctl report z [-key KEY] [-json] [-columns N]
//	posctl report show N|last [-json] [-columns N]
func reportCmd(ctx context.Context, c *client, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr("report needs x, z or show N|last")
	}
	kind, args := args[0], args[1:]
	var n string
	if kind == "show" {
		if len(args) == 0 {
			return usageErr("report show needs a Z number, or last")
		}
		n, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("report "+kind, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "the report as JSON")
	columns := fs.Int("columns", 48, "width of the table, in characters (16 to 200)")
	key := ""
	if kind == "z" {
		fs.StringVar(&key, "key", "", "idempotency key: the Z taken with it is answered again, not a second one")
	}
	if err := fs.Parse(args); err != nil {
		return usageErr("report %s: %v", kind, err)
	}
	if fs.NArg() > 0 || *columns < 16 || *columns > 200 {
		return usageErr("report %s takes -json, -columns 16..200 and, for z, -key", kind)
	}
	var method, path string
	var body []byte
	switch kind {
	case "x":
		method, path = http.MethodGet, "/v1/reports/x"
	case "z":
		method, path = http.MethodPost, "/v1/reports/z"
		if key != "" {
			b, err := json.Marshal(map[string]string{"key": key})
			if err != nil {
				return err
			}
			body = b
		}
	case "show":
		method, path = http.MethodGet, "/v1/reports/z/"+url.PathEscape(n)
	default:
		return usageErr("report needs x, z or show N|last, not %q", kind)
	}
	if *asJSON {
		return c.do(ctx, method, path, body, stdout)
	}
	var buf bytes.Buffer
	if err := c.call(ctx, method, path, body, &buf); err != nil {
		return err
	}
	var r report.Report
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		return fmt.Errorf("report: the terminal answered %q: %w", buf.String(), err)
	}
	_, err := io.WriteString(stdout, report.Text(r.Job(*columns), *columns))
	return err
}
