package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"showpos/terminal/config"
	"showpos/terminal/fleet"
)

// fleetLocal runs the fleet commands that need no terminal: "keygen",
// "sign" and "certify". args are what follows "fleet".
//
//	posctl fleet keygen -o FILE
//	posctl fleet sign -key FILE -version N [-expires RFC3339 | -ttl DURATION] [-terminal ID]... [-group G]... CONFIG.toml
func fleetLocal(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErr("fleet needs a command: keygen, sign or certify")
	}
	switch args[0] {
	case "keygen":
		return fleetKeygen(args[1:], stdout)
	case "sign":
		return fleetSign(args[1:], stdout, time.Now())
	case "certify":
		return fleetCertify(args[1:], stdout, time.Now())
	}
	return usageErr("unknown fleet command %q", args[0])
}

// fleetKeygen writes a new fleet private key file and prints the public
// key in the form [fleet] public_key takes.
func fleetKeygen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fleet keygen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("o", "", "private key file to create (mode 0600; never overwritten)")
	if err := fs.Parse(args); err != nil {
		return usageErr("fleet keygen: %v", err)
	}
	if *out == "" || fs.NArg() > 0 {
		return usageErr("fleet keygen needs -o FILE and nothing else")
	}
	pub, priv, err := fleet.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if err := fleet.WritePrivateKey(*out, priv); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]string{"public_key": hex.EncodeToString(pub)})
}

// fleetListFlag collects a repeated flag.
type fleetListFlag []string

func (l *fleetListFlag) String() string     { return fmt.Sprint(*l) }
func (l *fleetListFlag) Set(v string) error { *l = append(*l, v); return nil }

// fleetSign prints a bundle carrying the TOML fragment in the named file,
// signed with the fleet key. A fragment setting a key a bundle may not set
// is refused here, before any terminal sees it.
func fleetSign(args []string, stdout io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("fleet sign", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	keyPath := fs.String("key", "", "fleet private key file")
	version := fs.Uint64("version", 0, "bundle version, above every version signed before")
	expires := fs.String("expires", "", "expiry, RFC 3339")
	ttl := fs.Duration("ttl", 7*24*time.Hour, "expiry from now (instead of -expires)")
	var terminals, groups fleetListFlag
	fs.Var(&terminals, "terminal", "target terminal id (repeatable)")
	fs.Var(&groups, "group", "target group (repeatable)")
	if err := fs.Parse(args); err != nil {
		return usageErr("fleet sign: %v", err)
	}
	ttlSet := false
	fs.Visit(func(f *flag.Flag) { ttlSet = ttlSet || f.Name == "ttl" })
	switch {
	case *keyPath == "" || *version == 0 || fs.NArg() != 1:
		return usageErr("fleet sign needs -key FILE, -version N (at least 1) and one CONFIG.toml")
	case *expires != "" && ttlSet:
		return usageErr("fleet sign takes -expires or -ttl, not both")
	case *ttl <= 0:
		return usageErr("fleet sign: -ttl must be positive")
	}
	issued := now.UTC().Truncate(time.Second)
	exp := issued.Add(*ttl)
	if *expires != "" {
		t, err := time.Parse(time.RFC3339, *expires)
		if err != nil {
			return usageErr("fleet sign: -expires: %v", err)
		}
		exp = t
	}
	frag, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("read bundle config: %w", err)
	}
	if err := config.CheckBundleKeys(frag); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	priv, err := fleet.ReadPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	raw, err := fleet.Sign(priv, fleet.Payload{
		Version: *version, Issued: issued, Expires: exp,
		Targets: fleet.Targets{Terminals: terminals, Groups: groups},
		Config:  string(frag),
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", raw)
	return err
}

// fleetCertify prints a terminal certificate: the fleet key's word that
// -signer (the address posd logs as signer) signs the requests of terminal
// -terminal paying -merchant, until the expiry. Put it in that terminal's
// terminal.certificate (its file, or a bundle).
//
//	posctl fleet certify -key FILE -terminal ID -signer 0x… -merchant 0x… [-name NAME] [-expires RFC3339 | -ttl DURATION]
func fleetCertify(args []string, stdout io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("fleet certify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	keyPath := fs.String("key", "", "fleet private key file")
	terminal := fs.String("terminal", "", "terminal id")
	signer := fs.String("signer", "", "the terminal's signing address (posd logs it at start)")
	merchant := fs.String("merchant", "", "the merchant address it pays")
	name := fs.String("name", "", "the merchant's name, as payers should see it (optional)")
	expires := fs.String("expires", "", "expiry, RFC 3339")
	ttl := fs.Duration("ttl", 365*24*time.Hour, "expiry from now (instead of -expires)")
	if err := fs.Parse(args); err != nil {
		return usageErr("fleet certify: %v", err)
	}
	ttlSet := false
	fs.Visit(func(f *flag.Flag) { ttlSet = ttlSet || f.Name == "ttl" })
	switch {
	case *keyPath == "" || *terminal == "" || fs.NArg() != 0:
		return usageErr("fleet certify needs -key FILE, -terminal ID, -signer 0x… and -merchant 0x…")
	case !common.IsHexAddress(*signer) || !common.IsHexAddress(*merchant):
		return usageErr("fleet certify: -signer and -merchant must be addresses (0x and 40 hex digits)")
	case *expires != "" && ttlSet:
		return usageErr("fleet certify takes -expires or -ttl, not both")
	case *ttl <= 0:
		return usageErr("fleet certify: -ttl must be positive")
	}
	exp := now.UTC().Truncate(time.Second).Add(*ttl)
	if *expires != "" {
		t, err := time.Parse(time.RFC3339, *expires)
		if err != nil {
			return usageErr("fleet certify: -expires: %v", err)
		}
		exp = t
	}
	priv, err := fleet.ReadPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	raw, err := fleet.Certify(priv, fleet.Certificate{
		Terminal: *terminal, Signer: common.HexToAddress(*signer), Merchant: common.HexToAddress(*merchant),
		MerchantName: *name, Expires: exp,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", raw)
	return err
}
