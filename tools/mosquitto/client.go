package mosquitto

import (
	"bytes"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Wait bounds what the test clients wait for: a connection, an
// acknowledgement, a message.
const Wait = 20 * time.Second

// Message is one message a test subscriber received.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Subscribe connects a client of b with id that takes filter at QoS 1
// until the test ends, and returns what it receives, in order. It
// reconnects and subscribes again after a broker restart. persistent: the
// broker keeps its session (and what is published for it) while it is
// away, also across a clean restart of a persistent broker.
func Subscribe(tb testing.TB, b *Broker, id, filter string, persistent bool) <-chan Message {
	tb.Helper()
	ch := make(chan Message, 100000)
	handler := func(_ paho.Client, m paho.Message) {
		ch <- Message{Topic: m.Topic(), Payload: bytes.Clone(m.Payload()), Retained: m.Retained()}
	}
	o := paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetCleanSession(!persistent).
		SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).SetConnectRetry(true).
		SetConnectRetryInterval(200 * time.Millisecond).SetResumeSubs(true).SetOrderMatters(true).
		SetOnConnectHandler(func(c paho.Client) { c.Subscribe(filter, 1, handler) })
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(Wait) || tok.Error() != nil {
		tb.Fatalf("subscriber connect: %v", tok.Error())
	}
	tb.Cleanup(func() { c.Disconnect(100) })
	return ch
}

// Publish publishes payload on topic at QoS 1 from a client with id and
// waits for the broker's acknowledgement.
func Publish(tb testing.TB, b *Broker, id, topic string, retained bool, payload []byte) {
	tb.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id))
	if tok := c.Connect(); !tok.WaitTimeout(Wait) || tok.Error() != nil {
		tb.Fatalf("publisher connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	if tok := c.Publish(topic, 1, retained, payload); !tok.WaitTimeout(Wait) || tok.Error() != nil {
		tb.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// Next is the next message on ch, or the test fails after Wait.
func Next(tb testing.TB, ch <-chan Message, what string) Message {
	tb.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(Wait):
		tb.Fatalf("no %s within %s", what, Wait)
		return Message{}
	}
}
