package mosquitto

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func connect(t *testing.T, url, id string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetConnectRetry(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// A persistent broker keeps a retained message across a clean restart on
// the same URL, which the uplink's tests of a bundle published before a
// terminal connects, and of a broker restart, depend on.
func TestRetainedMessageSurvivesRestart(t *testing.T) {
	b := Start(t, Options{Persist: true})
	pub := connect(t, b.URL(), "pub")
	if tok := pub.Publish("showpos/config/g1", 1, true, "bundle"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	pub.Disconnect(100)
	url := b.URL()
	b.Restart()
	if b.URL() != url {
		t.Fatalf("restarted at %s, want %s", b.URL(), url)
	}
	got := make(chan string, 1)
	sub := connect(t, b.URL(), "sub")
	sub.Subscribe("showpos/config/+", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
	select {
	case p := <-got:
		if p != "bundle" {
			t.Fatalf("retained %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no retained message after restart; broker log:\n%s", b.Log())
	}
}

// A stopped broker refuses connections; a killed one too.
func TestStopAndKillStopTheBroker(t *testing.T) {
	for _, stop := range []func(*Broker){(*Broker).Stop, (*Broker).Kill} {
		b := Start(t, Options{})
		stop(b)
		c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("x").SetConnectTimeout(time.Second))
		if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			t.Fatal("connected to a stopped broker")
		}
	}
}
