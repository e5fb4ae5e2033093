package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"showpos/sync/uplink"
	"showpos/terminal/fleet"
)

// fleetPublish retains a signed config bundle on the broker, where every
// terminal subscribed to the topic takes it, now or when it next connects:
// P/config/G for a group, P/T/config for one terminal. args follow
// "fleet publish".
//
//	posctl fleet publish -broker URL (-group G | -terminal T) [-prefix P] [-public-key HEX] FILE
//	posctl fleet publish -broker URL (-group G | -terminal T) [-prefix P] -clear
//
// The file is read as a terminal reads a bundle (fleet.Inspect: size,
// envelope, payload; with -public-key also the signature) and its targets,
// if it names any, must name the group or the terminal; a bundle that fails
// is refused with the terminal's code (bad_bundle, bad_bundle_signature,
// expired, wrong_target) and nothing is published. The bundle is
// published retained at QoS 1 and posctl waits for the broker's PUBACK.
// -clear publishes an empty retained message, which removes the retained
// bundle.
//
// Over MQTT 3.1.1 a broker that denies the publish by ACL still
// acknowledges it: posctl cannot tell; "fleet watch" shows each terminal's
// config version once it has taken the bundle.
func fleetPublish(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fleet publish", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var m mqttFlags
	m.register(fs)
	group := fs.String("group", "", "publish to P/config/GROUP")
	terminal := fs.String("terminal", "", "publish to P/TERMINAL/config")
	clearIt := fs.Bool("clear", false, "remove the retained bundle instead (no FILE)")
	pubHex := fs.String("public-key", "", "fleet public key (64 hex digits): check the signature too")
	if err := fs.Parse(args); err != nil {
		return usageErr("fleet publish: %v", err)
	}
	switch {
	case (*group == "") == (*terminal == ""):
		return usageErr("fleet publish needs one of -group G and -terminal T")
	case *clearIt && fs.NArg() != 0:
		return usageErr("fleet publish -clear takes no FILE")
	case !*clearIt && fs.NArg() != 1:
		return usageErr("fleet publish takes one bundle FILE (or -clear)")
	}
	level := *group + *terminal
	if err := uplink.ValidLevel(level); err != nil {
		return usageErr("fleet publish: %v", err)
	}
	var pub ed25519.PublicKey
	if *pubHex != "" {
		b, err := hex.DecodeString(*pubHex)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return usageErr("fleet publish: -public-key: want 64 hex digits")
		}
		pub = b
	}
	o, err := m.clientOptions()
	if err != nil {
		return err
	}
	topic := uplink.GroupConfig(m.prefix, *group)
	if *terminal != "" {
		topic = uplink.Topics{Prefix: m.prefix, Terminal: *terminal}.Config()
	}

	var raw []byte
	var version uint64
	if !*clearIt {
		if raw, version, err = readBundleFor(fs.Arg(0), *group, *terminal, pub, time.Now()); err != nil {
			return err
		}
	}
	c, err := connect(ctx, m.broker, o)
	if err != nil {
		return err
	}
	defer c.Disconnect(250)
	if err := waitToken(ctx, c.Publish(topic, 1, true, raw)); err != nil {
		return fmt.Errorf("%s: publish %s: %w", codeBrokerUnreachable, topic, err)
	}
	out := struct {
		Topic    string `json:"topic"`
		Retained bool   `json:"retained"`
		Cleared  bool   `json:"cleared,omitempty"`
		Version  uint64 `json:"version,omitempty"`
		Bytes    int    `json:"bytes"`
	}{topic, !*clearIt, *clearIt, version, len(raw)}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// readBundleFor reads the bundle in path and checks it as a terminal of
// that group, or that terminal, would, but for its own rules (version,
// config): see fleetPublish. A bundle expired by now is refused: no
// terminal would take it.
func readBundleFor(path, group, terminal string, pub ed25519.PublicKey, now time.Time) ([]byte, uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read bundle: %w", err)
	}
	defer f.Close()
	// One byte past the limit is enough to refuse an oversize file.
	raw, err := io.ReadAll(io.LimitReader(f, fleet.MaxBundle+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read bundle: %w", err)
	}
	// Published as read, byte for byte: the newline posctl fleet sign
	// ends with is whitespace after the JSON, which a terminal takes.
	var p fleet.Payload
	if pub != nil {
		p, err = fleet.Open(raw, pub)
	} else {
		p, err = fleet.Inspect(raw)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w (%s)", err, path)
	}
	if !p.Expires.After(now) {
		return nil, 0, &fleet.Refusal{Code: fleet.CodeExpired, Version: p.Version,
			Message: fmt.Sprintf("%s: bundle v%d expired at %s: sign it again", path, p.Version, p.Expires.Format(time.RFC3339))}
	}
	t := p.Targets
	if len(t.Terminals)+len(t.Groups) > 0 {
		if group != "" && !slices.Contains(t.Groups, group) {
			return nil, 0, &fleet.Refusal{Code: fleet.CodeWrongTarget, Version: p.Version,
				Message: fmt.Sprintf("%s: bundle v%d targets groups %q and terminals %q, not group %q", path, p.Version, t.Groups, t.Terminals, group)}
		}
		if terminal != "" && !slices.Contains(t.Terminals, terminal) {
			return nil, 0, &fleet.Refusal{Code: fleet.CodeWrongTarget, Version: p.Version,
				Message: fmt.Sprintf("%s: bundle v%d targets terminals %q and groups %q, not terminal %q (publish a group's bundle with -group)", path, p.Version, t.Terminals, t.Groups, terminal)}
		}
	}
	return raw, p.Version, nil
}
