package main

import (
	"regexp"
	"strings"
	"testing"

	"showpos/sync/webhook"
	"showpos/terminal/store"
)

// hooks is posd's join of the store and the deliverer (not running here:
// these tests set and read webhooks, they deliver nothing).
type hooks struct {
	*store.Store
	d *webhook.Deliverer
}

func (h hooks) WebhookStatus() ([]webhook.Status, error)   { return h.d.Status() }
func (h hooks) WebhookLog(number string) []webhook.Attempt { return h.d.Log(number) }

func testHooks(t *testing.T, st *store.Store) hooks {
	d, err := webhook.New(webhook.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return hooks{st, d}
}

func TestClientsWebhookSetShowListRemove(t *testing.T) {
	d := startDaemon(t)
	added, err := posctl(t, "-socket", d.socket, "clients", "add", "-name", "Till 4", "-role", "register")
	if err != nil {
		t.Fatal(err)
	}
	sn := added["number"].(string)

	set, err := posctl(t, "-socket", d.socket, "clients", "webhook", sn, "https://pos.example/hook")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := set["secret"].(string)
	if !regexp.MustCompile(`^whsec_[A-Za-z0-9_-]{43}$`).MatchString(secret) || set["url"] != "https://pos.example/hook" {
		t.Fatalf("clients webhook SN URL printed %v", set)
	}
	if again, err := posctl(t, "-socket", d.socket, "clients", "webhook", sn, "https://pos.example/hook2"); err != nil || again["secret"] != nil {
		t.Errorf("setting it again: %v, %v; want no secret shown", again, err)
	}
	if rot, err := posctl(t, "-socket", d.socket, "clients", "webhook", sn, "https://pos.example/hook2", "-rotate"); err != nil || rot["secret"] == nil || rot["secret"] == secret {
		t.Errorf("-rotate: %v, %v; want a new secret", rot, err)
	}
	show, err := posctl(t, "-socket", d.socket, "clients", "webhook", sn)
	if err != nil || show["url"] != "https://pos.example/hook2" || show["client"] != sn {
		t.Errorf("clients webhook SN: %v, %v", show, err)
	}
	list, err := posctl(t, "-socket", d.socket, "clients", "webhooks")
	if err != nil || len(list["webhooks"].([]any)) != 1 {
		t.Errorf("clients webhooks: %v, %v", list, err)
	}
	if _, err := posctl(t, "-socket", d.socket, "clients", "webhook", sn, "-off"); err != nil {
		t.Errorf("-off: %v", err)
	}
	if _, err := d.store.Webhook(sn); err == nil {
		t.Errorf("the webhook is still stored after -off")
	}

	for _, tc := range []struct {
		args     []string
		exit     int
		contains string
	}{
		{[]string{"clients", "webhook", sn, "-off"}, 1, "no_webhook"},
		{[]string{"clients", "webhook", sn, "ftp://pos.example/"}, 1, "bad_webhook_url"},
		{[]string{"clients", "webhook", "sn_nobody", "https://pos.example/"}, 1, "unknown_client"},
		{[]string{"clients", "webhook"}, 2, "NUMBER"},
		{[]string{"clients", "webhook", sn, "https://a.example/", "-off"}, 2, "-off"},
		{[]string{"clients", "webhook", sn, "-rotate"}, 2, "URL"},
		{[]string{"clients", "webhook", sn, "https://a.example/", "https://b.example/"}, 2, "NUMBER"},
	} {
		_, err := posctl(t, append([]string{"-socket", d.socket}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.contains) || exitCode(err) != tc.exit {
			t.Errorf("%v: err = %v (exit %d), want exit %d saying %q", tc.args, err, exitCode(err), tc.exit, tc.contains)
		}
	}
}
