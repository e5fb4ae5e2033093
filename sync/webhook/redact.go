package webhook

import (
	"errors"
	"net/url"
)

// RedactURL is a webhook URL as it may be shown to anyone but its own
// client and the operator (status, the log, errors): scheme://host[:port],
// and "/…" when it has a path or query, since receivers are told to put a
// token there. "" if it does not parse.
func RedactURL(raw string) string {
	p, err := url.Parse(raw)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return ""
	}
	out := p.Scheme + "://" + p.Host
	switch {
	case (p.Path != "" && p.Path != "/") || p.RawPath != "" || p.RawQuery != "" || p.Opaque != "":
		out += "/…"
	case p.Path == "/":
		out += "/"
	}
	return out
}

// redactErr is err, a *url.Error (what http.Client.Do and url.Parse
// return) or one wrapping it, as the *url.Error with its URL redacted: Op
// and Err kept, so the cause still shows, the path and query not. Any
// other error is returned as it is.
func redactErr(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
}
