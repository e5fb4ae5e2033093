// Package mosquitto runs a real Eclipse Mosquitto broker for tests and
// benchmarks: the MQTT tests of the terminal's uplink, posctl fleet and the
// fleet benchmark talk to it on loopback. It is a test and development
// tool; posd never links it.
//
// The broker is Debian's mosquitto (apt-get install mosquitto; .ci/run
// installs it), found as $SHOWPOS_MOSQUITTO or mosquitto on the PATH or in
// /usr/sbin. Without it a test is skipped, unless SHOWPOS_REQUIRE_MOSQUITTO
// is set, when it fails.
//
// Mosquitto cannot bind port 0 and say which port it got, so Start picks a
// random loopback port and, should another process hold it, starts again on
// another: a broker that is running owns its port.
package mosquitto

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary finds mosquitto: $SHOWPOS_MOSQUITTO, else mosquitto on the PATH,
// else /usr/sbin/mosquitto (Debian installs it there, often off a user's
// PATH).
func Binary() (string, error) {
	if p := os.Getenv("SHOWPOS_MOSQUITTO"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto", nil
	}
	return "", errors.New("mosquitto not found (Debian: apt-get install mosquitto; or set SHOWPOS_MOSQUITTO)")
}

// Options shape the broker. The zero Options: anonymous clients, messages
// kept in memory only.
type Options struct {
	// Persist keeps retained messages and sessions in a file, so a
	// Restart keeps them (mosquitto writes it on a clean stop).
	Persist bool
	// Extra lines appended to mosquitto.conf (e.g. max_connections).
	Extra []string
	// Users, when not nil, are the only clients let in (user name to
	// password; mosquitto_passwd hashes them): anonymous clients are
	// refused, and with an empty map every client is.
	Users map[string]string
	// TLS, when set, makes the listener speak TLS (URL gives mqtts://).
	TLS *TLS
}

// TLS is a TLS listener's files (PEM).
type TLS struct {
	CertFile, KeyFile string // the broker's certificate and key
	// CAFile signs the client certificates the broker takes; with
	// RequireCertificate a client without one is refused.
	CAFile             string
	RequireCertificate bool
}

// Broker is a running mosquitto. Its methods may be called from any
// goroutine.
type Broker struct {
	tb   testing.TB // nil for one from Launch
	bin  string
	dir  string
	opts Options

	mu   sync.Mutex
	port int
	cmd  *exec.Cmd
	done chan struct{}
	logb *bytes.Buffer
}

// Start runs a broker for tb and stops it at tb's cleanup.
func Start(tb testing.TB, o Options) *Broker {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("SHOWPOS_REQUIRE_MOSQUITTO") != "" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
	b, err := launch(bin, tb.TempDir(), o)
	if err != nil {
		tb.Fatal(err)
	}
	b.tb = tb
	tb.Cleanup(b.Stop)
	return b
}

// Launch runs a broker outside a test (the fleet benchmark), keeping its
// files in dir; the caller stops it.
func Launch(dir string, o Options) (*Broker, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mosquitto: %w", err)
	}
	return launch(bin, dir, o)
}

func launch(bin, dir string, o Options) (*Broker, error) {
	b := &Broker{bin: bin, dir: dir, opts: o}
	var last error
	for range 10 {
		port := 20000 + rand.IntN(40000)
		if last = b.start(port); last == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("mosquitto: %w", last)
}

// URL is the broker's address for a client: mqtt://127.0.0.1:PORT, or
// mqtts:// with Options.TLS.
func (b *Broker) URL() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	scheme := "mqtt"
	if b.opts.TLS != nil {
		scheme = "mqtts"
	}
	return fmt.Sprintf("%s://127.0.0.1:%d", scheme, b.port)
}

// Addr is host:port.
func (b *Broker) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("127.0.0.1:%d", b.port)
}

// Log is what the broker has written so far.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.logb == nil {
		return ""
	}
	return b.logb.String()
}

func (b *Broker) start(port int) error {
	conf := filepath.Join(b.dir, "mosquitto.conf")
	anonymous := "allow_anonymous true"
	if b.opts.Users != nil {
		pw, err := b.passwords()
		if err != nil {
			return err
		}
		anonymous = "allow_anonymous false\npassword_file " + pw
	}
	lines := []string{
		fmt.Sprintf("listener %d 127.0.0.1", port),
		anonymous,
		// Started as root, mosquitto would drop to the mosquitto user,
		// who cannot write the test's directory: stay who we are.
		"user " + username(),
		"log_dest stderr",
		"log_type error",
		"log_type warning",
		"log_type notice",
		"log_type information",
	}
	if t := b.opts.TLS; t != nil {
		lines = append(lines, "certfile "+t.CertFile, "keyfile "+t.KeyFile)
		if t.CAFile != "" {
			lines = append(lines, "cafile "+t.CAFile)
		}
		if t.RequireCertificate {
			lines = append(lines, "require_certificate true")
		}
	}
	if b.opts.Persist {
		lines = append(lines, "persistence true", "persistence_location "+b.dir+"/")
	}
	lines = append(lines, b.opts.Extra...)
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	var logb bytes.Buffer
	cmd := exec.Command(b.bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = &syncWriter{mu: &b.mu, w: &logb}, &syncWriter{mu: &b.mu, w: &logb}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", b.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			b.mu.Lock()
			out := logb.String()
			b.mu.Unlock()
			return fmt.Errorf("exited on port %d: %s", port, strings.TrimSpace(out))
		default:
		}
		// Ready once it logs its listener open and accepts a connection.
		b.mu.Lock()
		listening := strings.Contains(logb.String(), fmt.Sprintf("listen socket on port %d", port))
		b.mu.Unlock()
		if listening {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				break
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("not ready on port %d after 10 s", port)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.mu.Lock()
	b.port, b.cmd, b.done, b.logb = port, cmd, done, &logb
	b.mu.Unlock()
	return nil
}

// Stop stops the broker cleanly (SIGTERM: a persistent broker saves its
// retained messages and sessions). Stopping a stopped broker does nothing.
func (b *Broker) Stop() { b.signal(syscall.SIGTERM) }

// Kill stops the broker with SIGKILL: nothing saved since its last
// autosave survives.
func (b *Broker) Kill() { b.signal(syscall.SIGKILL) }

func (b *Broker) signal(sig syscall.Signal) {
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart starts a stopped broker again on the same port (a client
// reconnects to the same URL). Another process may have taken the port
// meanwhile; the test then fails. Only for a broker from Start.
func (b *Broker) Restart() {
	b.tb.Helper()
	b.mu.Lock()
	port, running := b.port, b.cmd != nil
	b.mu.Unlock()
	if running {
		b.Stop()
	}
	var err error
	for range 50 { // the old socket may linger a moment
		if err = b.start(port); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.tb.Fatalf("mosquitto restart: %v", err)
}

// passwords writes Users to a mosquitto password file, hashed by
// mosquitto_passwd (beside the broker, from the same package).
func (b *Broker) passwords() (string, error) {
	path := filepath.Join(b.dir, "passwords")
	var plain strings.Builder
	for u, p := range b.opts.Users {
		fmt.Fprintf(&plain, "%s:%s\n", u, p)
	}
	if err := os.WriteFile(path, []byte(plain.String()), 0o600); err != nil {
		return "", err
	}
	if len(b.opts.Users) == 0 {
		return path, nil
	}
	tool := filepath.Join(filepath.Dir(b.bin), "mosquitto_passwd")
	if _, err := os.Stat(tool); err != nil {
		if tool, err = exec.LookPath("mosquitto_passwd"); err != nil {
			return "", fmt.Errorf("mosquitto_passwd not found: %w", err)
		}
	}
	if out, err := exec.Command(tool, "-U", path).CombinedOutput(); err != nil {
		return "", fmt.Errorf("mosquitto_passwd -U: %v: %s", err, out)
	}
	return path, nil
}

func username() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}

type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
