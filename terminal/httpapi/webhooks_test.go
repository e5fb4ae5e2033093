package httpapi_test

import (
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"

	"showpos/sync/webhook"
	"showpos/terminal/httpapi"
	"showpos/terminal/store"
)

var webhookSecretRE = regexp.MustCompile(`^whsec_[A-Za-z0-9_-]{43}$`)

// hooks is posd's join of the store and the deliverer, over the real
// store and a real (not running) deliverer.
type hooks struct {
	*store.Store
	d *webhook.Deliverer
}

func (h hooks) WebhookStatus() ([]webhook.Status, error)   { return h.d.Status() }
func (h hooks) WebhookLog(number string) []webhook.Attempt { return h.d.Log(number) }

func newHooks(t *testing.T, tm *terminal) hooks {
	d, err := webhook.New(webhook.Options{Store: tm.store})
	if err != nil {
		t.Fatal(err)
	}
	return hooks{tm.store, d}
}

func TestARegisterSetsReadsAndRemovesItsOwnWebhook(t *testing.T) {
	tm := newTerminal(t)
	h := newHooks(t, tm)
	op := operatorServer(t, tm)
	net := networkServer(t, tm, httpapi.NetworkOptions{Webhooks: h})
	number, key := addClient(t, op.URL, "Till 4", store.RoleRegister)
	fleet, fleetKey := addClient(t, op.URL, "Fleet HQ", store.RoleFleet)

	set := tm.signed("PUT", net.URL+"/v1/webhook", `{"url":"https://pos.example/hook?token=abc"}`, number, key)
	secret, _ := set.body["secret"].(string)
	if set.status != 200 || set.body["client"] != number || set.body["url"] != "https://pos.example/hook?token=abc" || !webhookSecretRE.MatchString(secret) {
		t.Fatalf("PUT /v1/webhook: %d %v", set.status, set.body)
	}
	stored, err := tm.store.Webhook(number)
	if err != nil || string(stored.Secret) != secret {
		t.Fatalf("stored %+v, %v: want the secret as shown", stored, err)
	}

	again := tm.signed("PUT", net.URL+"/v1/webhook", `{"url":"https://pos.example/other"}`, number, key)
	if again.status != 200 || again.body["secret"] != nil || again.body["url"] != "https://pos.example/other" {
		t.Errorf("PUT again: %d %v; want the URL changed and no secret shown", again.status, again.body)
	}
	if h, _ := tm.store.Webhook(number); string(h.Secret) != secret {
		t.Errorf("setting the URL again changed the secret")
	}
	rot := tm.signed("PUT", net.URL+"/v1/webhook", `{"url":"https://pos.example/other","rotate":true}`, number, key)
	if s, _ := rot.body["secret"].(string); rot.status != 200 || !webhookSecretRE.MatchString(s) || s == secret {
		t.Errorf("rotate: %d %v; want a new secret", rot.status, rot.body)
	}

	show := tm.signed("GET", net.URL+"/v1/webhook", "", number, key)
	if show.status != 200 || show.body["url"] != "https://pos.example/other" || show.body["client"] != number {
		t.Errorf("GET /v1/webhook: %d %v", show.status, show.body)
	}
	if s := fmtJSON(show.body); strings.Contains(s, "whsec_") || strings.Contains(s, "secret") {
		t.Errorf("GET shows a secret: %s", s)
	}
	if a := tm.signed("PUT", net.URL+"/v1/webhook", `{"url":"https://pos.example/f"}`, fleet, fleetKey); a.status != 403 || a.code() != "forbidden_role" {
		t.Errorf("a fleet client's PUT: %d %v", a.status, a.body)
	}
	list := call(t, "GET", op.URL+"/v1/webhooks", "")
	if list.status != 404 {
		t.Errorf("GET /v1/webhooks without Webhooks on the socket: %d, want 404", list.status)
	}

	del := tm.signed("DELETE", net.URL+"/v1/webhook", "", number, key)
	if del.status != 200 || del.body["removed"] != true {
		t.Errorf("DELETE: %d %v", del.status, del.body)
	}
	if _, err := tm.store.Webhook(number); !errors.Is(err, store.ErrNoWebhook) {
		t.Errorf("after DELETE: %v", err)
	}
	if a := tm.signed("DELETE", net.URL+"/v1/webhook", "", number, key); a.status != 404 || a.code() != "no_webhook" {
		t.Errorf("DELETE again: %d %v", a.status, a.body)
	}
	if a := tm.signed("GET", net.URL+"/v1/webhook", "", number, key); a.status != 404 || a.code() != "no_webhook" {
		t.Errorf("GET without one: %d %v", a.status, a.body)
	}
}

func TestWebhookRefusalsHaveStableCodesAndChangeNothing(t *testing.T) {
	long := "https://pos.example/" + strings.Repeat("a", store.MaxWebhookURL)
	cases := []struct {
		name, path, body string
		allowHTTP        bool
		status           int
		code             string
	}{
		{"ftp", "sn_X", `{"url":"ftp://pos.example/hook"}`, false, 400, "bad_webhook_url"},
		{"plain http to another host", "sn_X", `{"url":"http://pos.example/hook"}`, false, 400, "bad_webhook_url"},
		{"a user and password", "sn_X", `{"url":"https://u:p@pos.example/hook"}`, false, 400, "bad_webhook_url"},
		{"a fragment", "sn_X", `{"url":"https://pos.example/hook#x"}`, false, 400, "bad_webhook_url"},
		{"a relative URL", "sn_X", `{"url":"/hook"}`, false, 400, "bad_webhook_url"},
		{"no URL", "sn_X", `{}`, false, 400, "bad_webhook_url"},
		{"an oversize URL", "sn_X", `{"url":"` + long + `"}`, false, 400, "bad_webhook_url"},
		{"an unknown field", "sn_X", `{"url":"https://pos.example/hook","secret":"mine"}`, false, 400, "bad_request"},
		{"not JSON", "sn_X", `url=https://pos.example/hook`, false, 400, "bad_request"},
		{"an oversize body", "sn_X", `{"url":"https://pos.example/` + strings.Repeat("a", 5000) + `"}`, false, 413, "body_too_large"},
		{"an unknown client", "sn_nobody", `{"url":"https://pos.example/hook"}`, false, 404, "unknown_client"},
		{"plain http to loopback", "sn_X", `{"url":"http://127.0.0.1:9000/hook"}`, false, 200, ""},
		{"plain http allowed by config", "sn_X", `{"url":"http://pos.example/hook"}`, true, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newTerminal(t)
			h := newHooks(t, tm)
			op := operatorServer(t, tm, httpapi.OperatorOptions{Webhooks: h, WebhookOptions: httpapi.WebhookOptions{AllowHTTP: c.allowHTTP}})
			number, _ := addClient(t, op.URL, "Till 4", store.RoleRegister)
			path := strings.Replace(c.path, "sn_X", number, 1)
			a := call(t, "PUT", op.URL+"/v1/clients/"+path+"/webhook", c.body)
			if a.status != c.status || (c.code != "" && a.code() != c.code) {
				t.Fatalf("PUT: %d %v; want %d %s", a.status, a.body, c.status, c.code)
			}
			_, err := tm.store.Webhook(number)
			if c.status != 200 && !errors.Is(err, store.ErrNoWebhook) {
				t.Errorf("after a refusal the store holds a webhook (%v)", err)
			}
			if c.status == 200 {
				if err != nil {
					t.Errorf("accepted but not stored: %v", err)
				}
				list := call(t, "GET", op.URL+"/v1/webhooks", "")
				if list.status != 200 || len(list.body["webhooks"].([]any)) != 1 {
					t.Errorf("GET /v1/webhooks: %d %v", list.status, list.body)
				}
				one := call(t, "GET", op.URL+"/v1/clients/"+number+"/webhook", "")
				if one.status != 200 || one.body["log"] == nil {
					t.Errorf("GET one: %d %v", one.status, one.body)
				}
			}
		})
	}
}

// A register client reads each attempt's status or error back, so over the
// network it may not point its webhook at the terminal itself (a scanner
// of its loopback) unless webhooks.allow_loopback; LAN addresses are its
// to use, and the operator may still set loopback.
func TestAClientMayNotPointItsWebhookAtTheTerminalItself(t *testing.T) {
	type tc struct {
		name, url     string
		allowLoopback bool
		status        int
	}
	cases := []tc{
		{"http to 127.0.0.1", "http://127.0.0.1:9000/hook", false, 400},
		{"https to 127.0.0.2", "https://127.0.0.2:22/", false, 400},
		{"localhost", "http://localhost:9000/hook", false, 400},
		{"localhost with a dot", "https://LOCALHOST.:9000/hook", false, 400},
		{"a name under .localhost", "https://api.localhost/hook", false, 400},
		{"::1", "http://[::1]:9000/hook", false, 400},
		{"0.0.0.0", "https://0.0.0.0:8443/hook", false, 400},
		{"a LAN address", "https://192.168.1.20:8443/hook", false, 200},
		{"a LAN name", "https://till-4.lan/hook", false, 200},
		{"loopback allowed by config", "http://127.0.0.1:9000/hook", true, 200},
	}
	// One of the terminal's own addresses other than loopback, if it has
	// one: its API port is there.
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				cases = append(cases, tc{"its own address " + n.IP.String(), "https://" + n.IP.String() + ":8443/hook", false, 400})
				break
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newTerminal(t)
			h := newHooks(t, tm)
			op := operatorServer(t, tm, httpapi.OperatorOptions{Webhooks: h})
			netSrv := networkServer(t, tm, httpapi.NetworkOptions{Webhooks: h, WebhookOptions: httpapi.WebhookOptions{AllowLoopback: c.allowLoopback}})
			number, key := addClient(t, op.URL, "Till 4", store.RoleRegister)
			a := tm.signed("PUT", netSrv.URL+"/v1/webhook", `{"url":"`+c.url+`"}`, number, key)
			if a.status != c.status {
				t.Fatalf("PUT /v1/webhook %s: %d %v; want %d", c.url, a.status, a.body, c.status)
			}
			_, err := tm.store.Webhook(number)
			if c.status != 200 {
				if a.code() != "bad_webhook_url" || !strings.Contains(fmtJSON(a.body), "terminal itself") {
					t.Errorf("refusal: %v; want bad_webhook_url saying why", a.body)
				}
				if !errors.Is(err, store.ErrNoWebhook) {
					t.Errorf("after a refusal the store holds a webhook (%v)", err)
				}
				// The operator may set it (a register on the same box).
				if op := call(t, "PUT", op.URL+"/v1/clients/"+number+"/webhook", `{"url":"`+c.url+`"}`); op.status != 200 {
					t.Errorf("the operator's PUT: %d %v", op.status, op.body)
				}
			} else if err != nil {
				t.Errorf("accepted but not stored: %v", err)
			}
		})
	}
}
