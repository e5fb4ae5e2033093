package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/sync/uplink"
	"showpos/terminal/fleet"
	"showpos/terminal/httpapi"
	"showpos/terminal/request"
	"showpos/terminal/store"
	"showpos/tools/mosquitto"
	"showpos/tools/paytx"
)

// mqttTerminal is headless with [mqtt] on, to broker.
func mqttTerminal(broker string) string {
	return headless + fmt.Sprintf(`
[mqtt]
enabled = true
broker = %q
keepalive = "5s"
`, broker)
}

// pay makes a request on the operator socket and hands over a payment for
// it (from a fresh key: the terminal checks it offline); it returns the
// tx hash the terminal answered with, or "" if the terminal did not
// answer 202 (it was killed meanwhile). It may run beside the test's
// goroutine: it never stops the test.
func pay(t *testing.T, tm *terminal) string {
	t.Helper()
	resp, err := tm.op.Post("http://posd/v1/requests", "application/json", strings.NewReader(`{"amount":"0.001"}`))
	if err != nil {
		return "" // killed
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		return ""
	}
	d, err := request.ParseDocument(body)
	if err != nil {
		t.Error(err)
		return ""
	}
	doc := d.Request()
	key, _ := crypto.GenerateKey()
	tx, err := paytx.Build(doc, key, paytx.Options{FeeCap: big.NewInt(50e9)})
	if err != nil {
		t.Error(err)
		return ""
	}
	raw, _ := tx.MarshalBinary()
	in, _ := json.Marshal(map[string]string{"requestId": doc.ID, "rawTx": hexutil.Encode(raw)})
	resp, err = http.Post("http://"+tm.addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(in))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return ""
	}
	return tx.Hash().Hex()
}

// mustPay is pay that must be accepted.
func mustPay(t *testing.T, tm *terminal) string {
	t.Helper()
	h := pay(t, tm)
	if h == "" {
		t.Fatal("payment not accepted")
	}
	return h
}

// eventLog collects the events a back office receives, dropping repeats
// by seq, and checks that each seq first arrives right after the one
// before it.
type eventLog struct {
	t        *testing.T
	ch       <-chan mosquitto.Message
	seen     map[uint64]string // seq to kind
	accepted map[string]uint64 // a payment.accepted's tx hash to its seq
	highest  uint64
	repeats  int
}

func newEventLog(t *testing.T, ch <-chan mosquitto.Message) *eventLog {
	return &eventLog{t: t, ch: ch, seen: map[uint64]string{}, accepted: map[string]uint64{}}
}

func (l *eventLog) read() {
	l.t.Helper()
	m := mosquitto.Next(l.t, l.ch, fmt.Sprintf("event after %d", l.highest))
	var e store.Event
	if err := json.Unmarshal(m.Payload, &e); err != nil || e.Seq == 0 || e.V != 1 {
		l.t.Fatalf("event %s: %v", m.Payload, err)
	}
	if _, dup := l.seen[e.Seq]; dup {
		l.repeats++
		return
	}
	if e.Seq != l.highest+1 {
		l.t.Fatalf("event %d (%s) arrived first after %d: out of order or one lost", e.Seq, e.Kind, l.highest)
	}
	l.highest = e.Seq
	l.seen[e.Seq] = string(e.Kind)
	if e.Kind == store.EventPaymentAccepted {
		l.accepted[strings.ToLower(e.Payment.ID.Hex())] = e.Seq
	}
}

// until reads events until every hash has its payment.accepted.
func (l *eventLog) until(hashes []string) {
	l.t.Helper()
	for _, h := range hashes {
		for {
			if _, ok := l.accepted[strings.ToLower(h)]; ok {
				break
			}
			l.read()
		}
	}
}

func mqttStatusOf(t *testing.T, tm *terminal) httpapi.Status {
	t.Helper()
	return status(t, tm.op)
}

// 1. posd publishes its status retained as it connects; killed with
// SIGKILL, its last will marks it offline, retained, for every screen
// that subscribes later.
func TestPosdMQTTStatusAndLastWill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the daemon")
	}
	b := mosquitto.Start(t, mosquitto.Options{})
	bin := buildPosd(t)
	tm := writeTerminal(t, mqttTerminal(b.URL()))
	cmd := startBinary(t, bin, tm)
	waitUntil(t, "posd connected to the broker", func() bool {
		s := mqttStatusOf(t, tm)
		return s.MQTT != nil && s.MQTT.Connected
	})
	m := mosquitto.Next(t, mosquitto.Subscribe(t, b, "screen1", "showpos/+/status", false), "retained status")
	var s uplink.Status
	if err := json.Unmarshal(m.Payload, &s); err != nil || !m.Retained || m.Topic != "showpos/net-till/status" ||
		!s.Connected || s.Terminal != "net-till" || s.Version == "" || s.Started.IsZero() {
		t.Fatalf("status on %s (retained %v): %s, %v", m.Topic, m.Retained, m.Payload, err)
	}
	cmd.Process.Kill() // SIGKILL: no goodbye
	cmd.Wait()
	screen := mosquitto.Subscribe(t, b, "screen2", "showpos/net-till/status", false)
	for {
		m := mosquitto.Next(t, screen, "the last will")
		if err := json.Unmarshal(m.Payload, &s); err != nil {
			t.Fatal(err)
		}
		if !s.Connected {
			if !m.Retained || s.Terminal != "net-till" {
				t.Fatalf("last will %s, retained %v", m.Payload, m.Retained)
			}
			return
		}
		// the retained connected status the broker had before the will
	}
}

// startBinary runs the posd binary on tm's config until it answers.
func startBinary(t *testing.T, bin string, tm *terminal) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "-config", tm.cfgPath, "-listen", anyPort)
	cmd.Stderr = t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	tm.op.CloseIdleConnections()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := tm.op.Get("http://posd/v1/status"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				tm.addr = listening(t, tm.op).API
				return cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("posd did not come up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// 2. Sales while the broker is stopped go through; once it is back every
// event arrives, in seq order, at least once.
func TestPosdMQTTEventsAcrossABrokerRestart(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{Persist: true})
	backOffice := newEventLog(t, mosquitto.Subscribe(t, b, "backoffice", "showpos/+/events", true))
	tm := newTerminal(t, mqttTerminal(b.URL()))
	hashes := []string{mustPay(t, tm), mustPay(t, tm)}
	backOffice.until(hashes)
	screen := mosquitto.Subscribe(t, b, "screen", "showpos/net-till/status", false)
	for {
		var s uplink.Status
		if err := json.Unmarshal(mosquitto.Next(t, screen, "a status naming the payments").Payload, &s); err != nil {
			t.Fatal(err)
		}
		if s.Queue["queued"] == 2 && !s.LastPayment.IsZero() && s.LastEvent >= backOffice.highest {
			break // the retained one, or the next within a second
		}
	}

	b.Stop()
	for range 3 {
		hashes = append(hashes, mustPay(t, tm)) // the broker is down: sales go on
	}
	if s := mqttStatusOf(t, tm).MQTT; s.Backlog == 0 {
		t.Errorf("status with the broker down: %+v; want a backlog", s)
	}
	b.Restart()
	backOffice.until(hashes)
	waitUntil(t, "the backlog delivered", func() bool {
		s := mqttStatusOf(t, tm).MQTT
		return s.Connected && s.Backlog == 0
	})
	t.Logf("%d events, %d repeats", backOffice.highest, backOffice.repeats)
}

// 3. posd killed with SIGKILL again and again while it takes payments:
// every payment it accepted has its event arrive, in seq order, at least
// once.
func TestPosdMQTTEventsAcrossKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the daemon")
	}
	b := mosquitto.Start(t, mosquitto.Options{})
	backOffice := newEventLog(t, mosquitto.Subscribe(t, b, "backoffice", "showpos/+/events", false))
	bin := buildPosd(t)
	tm := writeTerminal(t, mqttTerminal(b.URL()))
	var accepted []string
	for round := range 5 {
		cmd := startBinary(t, bin, tm)
		var mu sync.Mutex
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if h := pay(t, tm); h != "" {
					mu.Lock()
					accepted = append(accepted, h)
					mu.Unlock()
				} else {
					return // killed
				}
			}
		}()
		time.Sleep(time.Duration(100+round*70) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		close(stop)
		<-done
	}
	startBinary(t, bin, tm)
	if len(accepted) == 0 {
		t.Fatal("no payment accepted")
	}
	backOffice.until(accepted)
	t.Logf("%d payments accepted across 5 kills: all their events arrived (%d events, %d repeats)",
		len(accepted), backOffice.highest, backOffice.repeats)
}

// 4. A bundle published retained before the terminal connects reaches it
// and is applied; bad ones (garbage, a bad signature, oversize) are
// refused and recorded, and change nothing.
func TestPosdMQTTConfigBundles(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	priv, fleetTable := fleetKeys(t)
	merchant, _, v1 := versionedConfig(1)
	mosquitto.Publish(t, b, "fleet-hq", "showpos/config/cafes", true, []byte(bundle(t, priv, fleet.Payload{Version: 1,
		Targets: fleet.Targets{Groups: []string{"cafes"}}, Config: v1})))
	tm := newTerminal(t, mqttTerminal(b.URL())+fleetTable)
	waitUntil(t, "the retained bundle applied", func() bool { return mqttStatusOf(t, tm).ConfigVersion == 1 })
	if s := mqttStatusOf(t, tm).Config; s.Source != fleet.SourceMQTT || s.LastRefusal != nil {
		t.Fatalf("config status %+v; want v1 from mqtt, no refusal", s)
	}

	_, other, _ := ed25519.GenerateKey(rand.Reader)
	huge := make([]byte, fleet.MaxBundle+10)
	for i := range huge {
		huge[i] = 'x'
	}
	for _, tc := range []struct {
		name, code string
		payload    []byte
	}{
		{"garbage", fleet.CodeBadBundle, []byte("not a bundle")},
		{"signed by another key", fleet.CodeBadSignature, []byte(bundle(t, other, fleet.Payload{Version: 2,
			Config: "terminal.request_ttl = \"61s\"\n"}))},
		{"oversize", fleet.CodeBadBundle, huge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mosquitto.Publish(t, b, "fleet-hq", "showpos/net-till/config", true, tc.payload)
			waitUntil(t, "the refusal recorded", func() bool {
				r := mqttStatusOf(t, tm).Config.LastRefusal
				return r != nil && r.Code == tc.code && r.Source == fleet.SourceMQTT
			})
			if s := mqttStatusOf(t, tm); s.ConfigVersion != 1 {
				t.Fatalf("config version %d after a refused bundle, want 1", s.ConfigVersion)
			}
			if r, a := tm.newRequest("0.001"); r == nil || r.Merchant != merchant {
				t.Fatalf("request after a refused bundle: %s; want v1's merchant %s", a.raw, merchant.Hex())
			}
			mosquitto.Publish(t, b, "fleet-hq", "showpos/net-till/config", true, nil) // cleared: ignored
		})
	}
}

// 5. A broker that refuses the terminal holds up no sale; the status says
// why. With mqtt turned off, posd drops the "mqtt" cursor so nothing
// waits on it.
func TestPosdMQTTRefusedByTheBroker(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{Users: map[string]string{"someone-else": "secret"}})
	tm := newTerminal(t, mqttTerminal(b.URL()))
	mustPay(t, tm)
	mustPay(t, tm)
	waitUntil(t, "the refusal in status", func() bool {
		s := mqttStatusOf(t, tm).MQTT
		return s != nil && strings.Contains(s.LastError, "not Authorized")
	})
	if s := mqttStatusOf(t, tm).MQTT; s.Connected || s.Backlog < 4 || s.Broker != b.URL() {
		t.Fatalf("mqtt status %+v; want not connected, the 4 events waiting", s)
	}

	tm.stop()
	tm.write(headless)
	tm.start()
	if s := mqttStatusOf(t, tm); s.MQTT != nil {
		t.Fatalf("mqtt in status with mqtt off: %+v", s.MQTT)
	}
	tm.stop()
	st, err := store.Open(filepath.Join(tm.dir, "data", "showpos.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Sink(uplink.SinkName); !errors.Is(err, store.ErrUnknownSink) {
		t.Fatalf("the mqtt sink after a run with mqtt off: %v; want it removed", err)
	}
}
