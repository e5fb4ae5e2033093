package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"showpos/sync/uplink"
)

// mqttFlags are the broker options every "posctl fleet" command that talks
// MQTT takes (watch, publish): one parser, so both connect alike.
type mqttFlags struct {
	broker       string // mqtt://HOST[:1883] or mqtts://HOST[:8883]
	prefix       string
	user         string
	passwordFile string
	caCert       string // PEM CA to trust (mqtts); default: the system's
	cert, key    string // PEM client certificate and key (mqtts)
}

// mqttTimeout bounds connecting, subscribing and each publish's PUBACK.
const mqttTimeout = 10 * time.Second

func (m *mqttFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.broker, "broker", "", "broker URL: mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
	fs.StringVar(&m.prefix, "prefix", uplink.DefaultPrefix, "topic prefix (the terminals' mqtt.topic_prefix)")
	fs.StringVar(&m.user, "user", "", "user name for the broker")
	fs.StringVar(&m.passwordFile, "password-file", "", "file holding the broker password (white space around it is trimmed, as posd trims mqtt.password_file)")
	fs.StringVar(&m.caCert, "cacert", "", "PEM CA certificate to trust for mqtts (default: the system's)")
	fs.StringVar(&m.cert, "cert", "", "PEM client certificate for mqtts")
	fs.StringVar(&m.key, "key", "", "PEM key of the client certificate")
}

// brokerAddr checks the broker URL and gives it with its port: paho dials
// the host as written, and MQTT's ports are 1883 and 8883 (mqtts).
func brokerAddr(raw string) (u *url.URL, tlsOn bool, err error) {
	u, err = url.Parse(raw)
	if err != nil || (u.Scheme != "mqtt" && u.Scheme != "mqtts") || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, false, usageErr("-broker %q: want mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (user and password by -user and -password-file)", raw)
	}
	tlsOn = u.Scheme == "mqtts"
	if u.Port() == "" {
		port := "1883"
		if tlsOn {
			port = "8883"
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	u.Path = ""
	return u, tlsOn, nil
}

// checkPrefix: a prefix is one or more topic levels.
func checkPrefix(p string) error {
	for _, level := range strings.Split(p, "/") {
		if err := uplink.ValidLevel(level); err != nil {
			return usageErr("-prefix %q: %v", p, err)
		}
	}
	return nil
}

// clientOptions are paho's options for these flags, files read and
// checked: a usage error for a wrong flag, else an error naming the file.
// The client id is "posctl-" and random hex, in a clean session: posctl
// keeps nothing at the broker between runs.
func (m *mqttFlags) clientOptions() (*paho.ClientOptions, error) {
	if m.broker == "" {
		return nil, usageErr("-broker URL is required (mqtt://HOST[:PORT] or mqtts://HOST[:PORT])")
	}
	u, tlsOn, err := brokerAddr(m.broker)
	if err != nil {
		return nil, err
	}
	if err := checkPrefix(m.prefix); err != nil {
		return nil, err
	}
	if !tlsOn && (m.caCert != "" || m.cert != "" || m.key != "") {
		return nil, usageErr("-cacert, -cert and -key need an mqtts:// broker")
	}
	if (m.cert == "") != (m.key == "") {
		return nil, usageErr("-cert and -key go together")
	}
	if m.passwordFile != "" && m.user == "" {
		return nil, usageErr("-password-file needs -user")
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	o := paho.NewClientOptions().AddBroker(u.String()).SetClientID("posctl-" + hex.EncodeToString(id)).
		SetCleanSession(true).SetConnectTimeout(mqttTimeout).SetConnectRetry(false).SetAutoReconnect(false).
		SetOrderMatters(true)
	if m.user != "" {
		o.SetUsername(m.user)
	}
	if m.passwordFile != "" {
		b, err := os.ReadFile(m.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("read broker password: %w", err)
		}
		// Trimmed as posd trims mqtt.password_file: one file serves both.
		o.SetPassword(strings.TrimSpace(string(b)))
	}
	if tlsOn {
		conf, err := tlsConfig(m.caCert)
		if err != nil {
			return nil, err
		}
		if m.cert != "" {
			pair, err := tls.LoadX509KeyPair(m.cert, m.key)
			if err != nil {
				return nil, fmt.Errorf("client certificate: %w", err)
			}
			conf.Certificates = []tls.Certificate{pair}
		}
		o.SetTLSConfig(conf)
	}
	return o, nil
}

// Codes of broker failures, stable, first in the error's message.
const (
	codeBrokerUnreachable = "broker_unreachable" // no connection to the broker
	codeBrokerRefused     = "broker_refused"     // the broker refused the connection (credentials, ACL)
)

// connect dials the broker with o and waits for its CONNACK.
func connect(ctx context.Context, broker string, o *paho.ClientOptions) (paho.Client, error) {
	c := paho.NewClient(o)
	if err := waitToken(ctx, c.Connect()); err != nil {
		for _, refused := range []error{packets.ErrorRefusedBadUsernameOrPassword, packets.ErrorRefusedNotAuthorised,
			packets.ErrorRefusedIDRejected, packets.ErrorRefusedBadProtocolVersion, packets.ErrorRefusedServerUnavailable} {
			if errors.Is(err, refused) {
				return nil, fmt.Errorf("%s: broker %s: %w", codeBrokerRefused, broker, err)
			}
		}
		return nil, fmt.Errorf("%s: broker %s: %w", codeBrokerUnreachable, broker, err)
	}
	return c, nil
}

// waitToken waits for paho to complete tok (a CONNACK, SUBACK or PUBACK),
// at most mqttTimeout and no longer than ctx.
func waitToken(ctx context.Context, tok paho.Token) error {
	t := time.NewTimer(mqttTimeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-t.C:
		return fmt.Errorf("no answer in %s", mqttTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fleetMQTT runs the fleet commands that talk to a broker, not a
// terminal: "watch" until interrupted (or once), "publish" within the
// usual 30 s. args follow "fleet".
func fleetMQTT(args []string, stdout io.Writer) error {
	if args[0] == "watch" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return fleetWatch(ctx, args[1:], stdout, os.Stderr, time.Now)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return fleetPublish(ctx, args[1:], stdout)
}

// subscribed waits for tok's SUBACK, and fails if the broker refused a
// filter (return code 0x80: an ACL, usually).
func subscribed(ctx context.Context, tok paho.Token) error {
	if err := waitToken(ctx, tok); err != nil {
		return err
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for filter, code := range st.Result() {
			if code == 0x80 {
				return fmt.Errorf("the broker refused the subscription to %s", filter)
			}
		}
	}
	return nil
}
