package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"showpos/sync/uplink"
	"showpos/terminal/fleet"
	"showpos/tools/mosquitto"
)

// mqttClient connects a paho client to the broker at url, standing in for
// a terminal or a later subscriber.
func mqttClient(t *testing.T, url, id string, adjust func(*paho.ClientOptions)) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetConnectRetry(false).SetAutoReconnect(false)
	if adjust != nil {
		adjust(o)
	}
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s as %s: %v", url, id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publishRetained(t *testing.T, c paho.Client, topic string, payload []byte) {
	t.Helper()
	if tok := c.Publish(topic, 1, true, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// retainedOn is the message the broker retains on topic, nil if none: a
// new subscriber takes what comes on topic until the marker it publishes
// after subscribing comes back (the broker sends a client's messages in
// order, the retained one first).
func retainedOn(t *testing.T, url, topic string) []byte {
	t.Helper()
	id := fmt.Sprintf("probe-%d", time.Now().UnixNano())
	c := mqttClient(t, url, id, nil)
	defer c.Disconnect(100)
	var mu sync.Mutex
	var got []byte
	back := make(chan struct{})
	marker := "probe/" + id
	if tok := c.Subscribe(marker, 1, func(paho.Client, paho.Message) { close(back) }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		defer mu.Unlock()
		if !m.Retained() {
			t.Errorf("a live message on %s while probing", topic)
		}
		got = append([]byte{}, m.Payload()...)
	}); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if tok := c.Publish(marker, 1, false, "x"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	select {
	case <-back:
	case <-time.After(30 * time.Second):
		t.Fatal("the probe's marker never came back")
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

func statusJSON(t *testing.T, st uplink.Status) []byte {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dropConn is a connection to the broker that the test can cut without
// an MQTT DISCONNECT, as a terminal losing power or its network does: the
// broker then publishes the client's last will.
type dropConn struct {
	mu   sync.Mutex
	conn net.Conn
}

func (d *dropConn) open(addr string) func(*paho.ClientOptions) {
	return func(o *paho.ClientOptions) {
		o.SetCustomOpenConnectionFn(func(_ *url.URL, _ paho.ClientOptions) (net.Conn, error) {
			c, err := net.Dial("tcp", addr)
			d.mu.Lock()
			d.conn = c
			d.mu.Unlock()
			return c, err
		})
	}
}

func (d *dropConn) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.conn.Close()
}

// watchAt is "posctl fleet watch" with the clock at now.
func watchAt(t *testing.T, now time.Time, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := fleetWatch(context.Background(), args, &out, &errOut, func() time.Time { return now })
	if errOut.Len() > 0 {
		t.Errorf("fleet watch wrote to stderr: %s", errOut.String())
	}
	return out.String(), err
}

// Terminals simulated by their retained statuses, one gone by its last
// will and two whose status cannot be read, are all listed, sorted by
// id, once the retained messages are in: -once's table and -json.
func TestFleetWatchOnceShowsEveryTerminal(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pub := mqttClient(t, b.URL(), "fleet-sim", nil)
	topic := func(id string) string { return uplink.Topics{Prefix: "shops", Terminal: id}.Status() }

	publishRetained(t, pub, topic("till-b"), statusJSON(t, uplink.Status{V: 1, Terminal: "till-b", Connected: true,
		At: now.Add(-10 * time.Second), ConfigVersion: 7, Online: true,
		Queue:                  map[string]int{"queued": 2, "broadcast": 1, "confirmed": 40},
		OldestQueuedAgeSeconds: 95, LastPayment: now.Add(-3 * time.Minute), LastEvent: 88}))
	publishRetained(t, pub, topic("till-a"), statusJSON(t, uplink.Status{V: 1, Terminal: "till-a", Connected: true,
		At: now.Add(-2 * time.Hour), Online: false, Queue: map[string]int{"confirmed": 3}, LastEvent: 3}))
	publishRetained(t, pub, topic("till-c"), []byte(`{"v":1,"terminal":`))
	publishRetained(t, pub, topic("till-d"), statusJSON(t, uplink.Status{V: 1, Terminal: "till-x", Connected: true, At: now}))
	publishRetained(t, pub, topic("till-f"), statusJSON(t, uplink.Status{V: 2, Terminal: "till-f", Connected: true, At: now}))
	// Not statuses of this prefix: never listed.
	publishRetained(t, pub, "shops/till-z/config", []byte("x"))
	publishRetained(t, pub, "other/till-y/status", statusJSON(t, uplink.Status{V: 1, Terminal: "till-y", Connected: true, At: now}))

	// till-e connects with its last will, says it is up, and loses its
	// connection: the broker retains the will in its place.
	var drop dropConn
	will := statusJSON(t, uplink.Status{V: 1, Terminal: "till-e", Connected: false})
	term := mqttClient(t, b.URL(), "till-e", func(o *paho.ClientOptions) {
		o.SetBinaryWill(topic("till-e"), will, 1, true)
		drop.open(b.Addr())(o)
	})
	publishRetained(t, term, topic("till-e"), statusJSON(t, uplink.Status{V: 1, Terminal: "till-e", Connected: true, At: now, ConfigVersion: 3}))
	drop.cut()
	for deadline := time.Now().Add(30 * time.Second); !bytes.Equal(retainedOn(t, b.URL(), topic("till-e")), will); {
		if time.Now().After(deadline) {
			t.Fatal("the broker never retained till-e's last will")
		}
		time.Sleep(50 * time.Millisecond)
	}

	got, err := watchAt(t, now, "-broker", b.URL(), "-prefix", "shops", "-once")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"TERMINAL  CONNECTED  CHAIN    CONFIG  QUEUE  OLDEST QUEUED  LAST PAYMENT  STATUS AGE  LAST EVENT  NOTE",
		"till-a    yes        offline  local   0      -              -             2h00m       #3",
		"till-b    yes        online   v7      3      1m35s          3m00s ago     10s         #88",
		"till-c    -          -        -       -      -              -             -           -           bad status: unexpected end of JSON input",
		"till-d    -          -        -       -      -              -             -           -           bad status: it names terminal \"till-x\"",
		"till-e    no         -        -       -      -              -             -           -",
		"till-f    -          -        -       -      -              -             -           -           bad status: version 2, this posctl reads 1",
		"",
	}, "\n")
	if got != want {
		t.Errorf("fleet watch -once printed\n%s\nwant\n%s", got, want)
	}

	// -json, through posctl's own dispatch: the same terminals, the
	// statuses as they came.
	var out bytes.Buffer
	if err := run([]string{"fleet", "watch", "-broker", b.URL(), "-prefix", "shops", "-json"}, &out); err != nil {
		t.Fatal(err)
	}
	var rows []fleetRow
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("-json printed %q: %v", out.String(), err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.Terminal)
	}
	if strings.Join(ids, ",") != "till-a,till-b,till-c,till-d,till-e,till-f" {
		t.Errorf("-json terminals %v", ids)
	}
	if st := rows[1].Status; st == nil || st.ConfigVersion != 7 || st.Queue["queued"] != 2 || !st.LastPayment.Equal(now.Add(-3*time.Minute)) {
		t.Errorf("-json till-b: %+v", rows[1].Status)
	}
	if rows[2].Bad == "" || rows[2].Status != nil || rows[4].Status == nil || rows[4].Status.Connected {
		t.Errorf("-json till-c %+v, till-e %+v", rows[2], rows[4].Status)
	}
}

// With nothing retained under the prefix the table is its header alone.
func TestFleetWatchOnceEmptyFleet(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	got, err := watchAt(t, time.Now(), "-broker", b.URL(), "-once")
	if err != nil {
		t.Fatal(err)
	}
	if got != strings.Join(fleetColumns, "  ")+"\n" {
		t.Errorf("empty fleet: %q", got)
	}
}

// -once waits for every retained status, however many the broker has
// to send after its SUBACK (Mosquitto sends at most 20 QoS 1 messages
// unacknowledged at a time): a fleet of 500 is listed whole.
func TestFleetWatchOnceWaitsForEveryRetainedStatus(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	pub := mqttClient(t, b.URL(), "fleet-sim", nil)
	const n = 500
	toks := make([]paho.Token, n)
	for i := range n {
		id := fmt.Sprintf("till-%03d", i)
		toks[i] = pub.Publish(uplink.Topics{Prefix: "showpos", Terminal: id}.Status(), 1, true,
			statusJSON(t, uplink.Status{V: 1, Terminal: id, Connected: true, At: time.Now(), LastEvent: uint64(i)}))
	}
	for _, tok := range toks {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	var out bytes.Buffer
	if err := run([]string{"fleet", "watch", "-broker", b.URL(), "-json"}, &out); err != nil {
		t.Fatal(err)
	}
	var rows []fleetRow
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != n {
		t.Fatalf("listed %d terminals, want %d", len(rows), n)
	}
	for i, r := range rows {
		if r.Terminal != fmt.Sprintf("till-%03d", i) || r.Status == nil || r.Status.LastEvent != uint64(i) {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
}

// signedBundle signs a bundle with a new fleet key, for those targets
// ("-group", "g", "-terminal", "t"), and returns its file and the key.
func signedBundle(t *testing.T, version int, targets ...string) (file string, pub []byte) {
	t.Helper()
	keyFile, pub := runKeygen(t)
	var out bytes.Buffer
	args := append([]string{"sign", "-key", keyFile, "-version", fmt.Sprint(version)}, targets...)
	if err := fleetLocal(append(args, writeBundleFragment(t, "[texts]\nwelcome = \"Hi\"\n")), &out); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), fmt.Sprintf("v%d.json", version))
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, pub
}

// A published bundle is retained on its topic, byte for byte as in its
// file, for a terminal that subscribes later; -clear removes it.
func TestFleetPublishRetainsAndClears(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	for _, tc := range []struct {
		name    string
		targets []string // the bundle's
		args    []string // publish's
		topic   string
	}{
		{"group", []string{"-group", "cafes"}, []string{"-group", "cafes"}, "showpos/config/cafes"},
		{"untargeted to a group", nil, []string{"-group", "all"}, "showpos/config/all"},
		{"terminal", []string{"-terminal", "till-1"}, []string{"-terminal", "till-1"}, "showpos/till-1/config"},
		{"terminal under a prefix", []string{"-terminal", "till-2", "-group", "bars"}, []string{"-terminal", "till-2", "-prefix", "acme/pos"}, "acme/pos/till-2/config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, _ := signedBundle(t, 4, tc.targets...)
			doc, err := posctl(t, append(append([]string{"fleet", "publish", "-broker", b.URL()}, tc.args...), file)...)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(file)
			if doc["topic"] != tc.topic || doc["retained"] != true || doc["version"] != 4.0 || doc["bytes"] != float64(len(want)) {
				t.Errorf("publish printed %v", doc)
			}
			if got := retainedOn(t, b.URL(), tc.topic); !bytes.Equal(got, want) {
				t.Fatalf("retained on %s:\n%q\nwant the file:\n%q", tc.topic, got, want)
			}
			doc, err = posctl(t, append(append([]string{"fleet", "publish", "-broker", b.URL()}, tc.args...), "-clear")...)
			if err != nil {
				t.Fatal(err)
			}
			if doc["topic"] != tc.topic || doc["cleared"] != true || doc["retained"] != false {
				t.Errorf("publish -clear printed %v", doc)
			}
			if got := retainedOn(t, b.URL(), tc.topic); got != nil {
				t.Errorf("after -clear %s retains %q", tc.topic, got)
			}
		})
	}
}

// A file no terminal of the topic would take is refused with the
// terminal's code before anything is sent: the bundle retained before
// stays as it was.
func TestFleetPublishRefusesBadBundles(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	good, pub := signedBundle(t, 2, "-group", "cafes")
	if _, err := posctl(t, "fleet", "publish", "-broker", b.URL(), "-group", "cafes", good); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(good)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oversize := bytes.Replace(before, []byte(`"payload":"`), []byte(`"payload":"`+strings.Repeat("A", fleet.MaxBundle)), 1)
	_, otherKey := runKeygen(t)
	forBars, _ := signedBundle(t, 3, "-group", "bars")
	forTill, _ := signedBundle(t, 3, "-terminal", "till-1")
	_, fleetKey, _ := fleet.GenerateKey(nil)
	expired, err := fleet.Sign(fleetKey, fleet.Payload{Version: 5, Issued: time.Now().Add(-2 * time.Hour), Expires: time.Now().Add(-time.Hour),
		Targets: fleet.Targets{Groups: []string{"cafes"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code string
	}{
		{"garbage", []string{"-group", "cafes", write("garbage.json", []byte("hello, broker"))}, "bad_bundle: bundle: "},
		{"empty", []string{"-group", "cafes", write("empty.json", nil)}, "bad_bundle: empty bundle"},
		{"oversize", []string{"-group", "cafes", write("big.json", oversize)}, "bad_bundle: bundle is larger than"},
		{"a signature of another key", []string{"-group", "cafes", "-public-key", fmt.Sprintf("%x", otherKey), good}, "bad_bundle_signature"},
		{"expired", []string{"-group", "cafes", write("expired.json", expired)}, "expired: "},
		{"another group's", []string{"-group", "cafes", forBars}, "wrong_target"},
		{"a terminal's, to a group", []string{"-group", "cafes", forTill}, "wrong_target"},
		{"a group's, to a terminal", []string{"-terminal", "till-1", good}, "wrong_target"},
		{"no such file", []string{"-group", "cafes", filepath.Join(dir, "missing.json")}, "read bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := posctl(t, append([]string{"fleet", "publish", "-broker", b.URL()}, tc.args...)...)
			var ee *exitError
			if err == nil || !strings.HasPrefix(err.Error(), tc.code) || errors.As(err, &ee) {
				t.Fatalf("publish = %v; want a failure starting %q", err, tc.code)
			}
			for _, topic := range []string{"showpos/config/cafes", "showpos/till-1/config"} {
				want := before
				if topic != "showpos/config/cafes" {
					want = nil
				}
				if got := retainedOn(t, b.URL(), topic); !bytes.Equal(got, want) {
					t.Errorf("%s now retains %.60q", topic, got)
				}
			}
		})
	}
	// The right key passes the same check.
	if _, err := posctl(t, "fleet", "publish", "-broker", b.URL(), "-group", "cafes", "-public-key", fmt.Sprintf("%x", pub), good); err != nil {
		t.Errorf("publish -public-key with the signing key: %v", err)
	}
}

func TestFleetMQTTUsage(t *testing.T) {
	file, _ := signedBundle(t, 1)
	for _, args := range [][]string{
		{"publish", "-broker", "mqtt://127.0.0.1:1", file},                                       // no -group/-terminal
		{"publish", "-broker", "mqtt://127.0.0.1:1", "-group", "g", "-terminal", "t", file},      // both
		{"publish", "-broker", "mqtt://127.0.0.1:1", "-group", "g"},                              // no file
		{"publish", "-broker", "mqtt://127.0.0.1:1", "-group", "g", "-clear", file},              // -clear and a file
		{"publish", "-broker", "mqtt://127.0.0.1:1", "-group", "a/b", file},                      // not one level
		{"publish", "-broker", "mqtt://127.0.0.1:1", "-group", "g", "-public-key", "abc", file},  // not a key
		{"publish", "-group", "g", file},                                                         // no broker
		{"publish", "-broker", "http://127.0.0.1:1", "-group", "g", file},                        // not MQTT
		{"publish", "-broker", "mqtt://u:p@127.0.0.1:1", "-group", "g", file},                    // password in the URL
		{"publish", "-broker", "mqtt://127.0.0.1:1", "-cacert", "ca.pem", "-group", "g", file},   // TLS options without mqtts
		{"publish", "-broker", "mqtts://127.0.0.1:1", "-cert", "c.pem", "-group", "g", file},     // -cert without -key
		{"publish", "-broker", "mqtt://127.0.0.1:1", "-password-file", "p", "-group", "g", file}, // password without user
		{"publish", "-broker", "mqtt://127.0.0.1:1", "-prefix", "a/+/b", "-group", "g", file},    // a wildcard in the prefix
		{"watch"}, // no broker
		{"watch", "-broker", "mqtt://127.0.0.1:1", "extra"},                // an argument
		{"watch", "-broker", "mqtt://127.0.0.1:1", "-once", "-wait", "0s"}, // no wait
		{"watch", "-broker", "mqtt://127.0.0.1:1", "-prefix", "", "-once"}, // empty prefix
	} {
		var ee *exitError
		if err := run(append([]string{"fleet"}, args...), &bytes.Buffer{}); !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("fleet %q = %v, want a usage error", args, err)
		}
	}
}

// A broker that is down, or refuses the client's credentials, is a clear
// failure with its code and exit status 1.
func TestFleetMQTTBrokerFailures(t *testing.T) {
	down := mosquitto.Start(t, mosquitto.Options{})
	down.Stop()
	file, _ := signedBundle(t, 1)

	locked, user, passFile := lockedBroker(t)
	wrongPass := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrongPass, []byte("not-it\n"), 0o600)

	for _, tc := range []struct {
		name string
		args []string
		code string
	}{
		{"publish to a broker that is down", []string{"publish", "-broker", down.URL(), "-group", "g", file}, codeBrokerUnreachable},
		{"watch a broker that is down", []string{"watch", "-broker", down.URL(), "-once"}, codeBrokerUnreachable},
		{"publish without credentials", []string{"publish", "-broker", locked.URL(), "-group", "g", file}, codeBrokerRefused},
		{"publish with a wrong password", []string{"publish", "-broker", locked.URL(), "-user", user, "-password-file", wrongPass, "-group", "g", file}, codeBrokerRefused},
		{"watch without credentials", []string{"watch", "-broker", locked.URL(), "-once"}, codeBrokerRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(append([]string{"fleet"}, tc.args...), &out)
			var ee *exitError
			if err == nil || !strings.HasPrefix(err.Error(), tc.code+": broker ") || errors.As(err, &ee) {
				t.Fatalf("= %v; want a failure starting %q", err, tc.code)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q", out.String())
			}
		})
	}
	// The right password is let in.
	if _, err := posctl(t, "fleet", "publish", "-broker", locked.URL(), "-user", user, "-password-file", passFile, "-group", "g", file); err != nil {
		t.Errorf("publish with the password: %v", err)
	}
}

// posctl reads a password file as posd reads mqtt.password_file: white
// space around the password (an editor's trailing blank, a tab, CRLF) is
// not part of it, so the file that logs posd in logs posctl in too.
func TestFleetMQTTPasswordFileTrimmedAsPosdTrimsIt(t *testing.T) {
	locked, user, _ := lockedBroker(t)
	file, _ := signedBundle(t, 1)
	for _, tc := range []struct{ name, content string }{
		{"trailing blanks", "s3cret  \n"},
		{"leading tab and CRLF", "\ts3cret\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pass := filepath.Join(t.TempDir(), "password")
			if err := os.WriteFile(pass, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := posctl(t, "fleet", "publish", "-broker", locked.URL(), "-user", user, "-password-file", pass, "-group", "g", file); err != nil {
				t.Errorf("publish with the password file %q: %v", tc.content, err)
			}
		})
	}
}

// lockedBroker is a broker that takes one user, with the password in the
// file it returns.
func lockedBroker(t *testing.T) (b *mosquitto.Broker, user, passFile string) {
	t.Helper()
	tool, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("no mosquitto_passwd")
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "passwd")
	if out, err := exec.Command(tool, "-b", "-c", pwFile, "fleet-hq", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v: %s", err, out)
	}
	passFile = filepath.Join(dir, "password")
	if err := os.WriteFile(passFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return mosquitto.Start(t, mosquitto.Options{Extra: []string{"allow_anonymous false", "password_file " + pwFile}}), "fleet-hq", passFile
}

// syncBuffer is a bytes.Buffer written by the watch loop and read by the
// test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lastFrame is the last table drawn.
func (s *syncBuffer) lastFrame() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	frames := strings.Split(s.b.String(), "\x1b[H\x1b[2J")
	return frames[len(frames)-1]
}

// On a terminal, watch redraws as statuses come, change and go: a new
// terminal appears, a last will marks one disconnected while what it said
// before stays, a removed status drops its row, and after the broker
// restarts watch subscribes again and shows what comes next.
func TestFleetWatchLiveRedraws(t *testing.T) {
	b := mosquitto.Start(t, mosquitto.Options{})
	pub := mqttClient(t, b.URL(), "fleet-sim", nil)
	topic := func(id string) string { return uplink.Topics{Prefix: "showpos", Terminal: id}.Status() }
	now := time.Now()
	up := func(id string, version uint64) []byte {
		return statusJSON(t, uplink.Status{V: 1, Terminal: id, Connected: true, At: now, ConfigVersion: version, Online: true})
	}
	publishRetained(t, pub, topic("till-1"), up("till-1", 5))

	m := mqttFlags{broker: b.URL(), prefix: "showpos"}
	o, err := m.clientOptions()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- watchLive(ctx, &m, o, newFleetTable("showpos"), &out, func() time.Time { return now }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watchLive = %v", err)
		}
	})
	// until waits for the last frame drawn to hold every line given.
	until := func(step string, lines ...string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			frame, all := out.lastFrame(), true
			for _, l := range lines {
				all = all && strings.Contains(frame, l)
			}
			if all {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the last frame\n%s\nlacks one of %q", step, frame, lines)
			}
		}
	}
	until("retained", "1 terminals, 1 connected", "till-1    yes        online  v5")

	publishRetained(t, pub, topic("till-2"), up("till-2", 6))
	until("a new terminal", "2 terminals, 2 connected", "till-1    yes", "till-2    yes        online  v6")

	publishRetained(t, pub, topic("till-1"), statusJSON(t, uplink.Status{V: 1, Terminal: "till-1", Connected: false}))
	until("a last will", "2 terminals, 1 connected", "till-1    no         online  v5")

	publishRetained(t, pub, topic("till-2"), nil)
	until("a status removed", "1 terminals, 0 connected")
	if strings.Contains(out.lastFrame(), "till-2") {
		t.Errorf("till-2 still shown:\n%s", out.lastFrame())
	}

	b.Restart() // in memory: the retained statuses are gone
	pub = mqttClient(t, b.URL(), "fleet-sim-2", nil)
	publishRetained(t, pub, topic("till-3"), up("till-3", 7))
	until("after a broker restart", "till-3    yes        online  v7")
	if frame := out.lastFrame(); strings.Contains(frame, "broker:") {
		t.Errorf("the frame still reports a broker problem:\n%s", frame)
	}

	// Events are counted by seq, a duplicate once, a message without a
	// seq not at all; a terminal known by its events alone is listed.
	for _, ev := range []string{`{"v":1,"seq":1}`, `{"v":1,"seq":2}`, `{"v":1,"seq":2}`, `not JSON`, `{"v":1,"seq":3}`} {
		if tok := pub.Publish("showpos/till-3/events", 1, false, ev); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		if tok := pub.Publish("showpos/till-4/events", 1, false, ev); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	until("events", "EVENTS/MIN  LAST SEQ  NOTE",
		"till-3    yes        online  v7      0      -              -             0s          #0          3           #3",
		"till-4    -          -       -       -      -              -             -           -           3           #3")
}
