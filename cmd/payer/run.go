package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"showpos/terminal/fleet"
	"showpos/terminal/request"
	"showpos/tools/devchain/devkeys"
)

// options is the parsed command line.
type options struct {
	terminal     string
	terminalSet  bool // -terminal given: broadcast there rather than to the document's broadcastUrl
	id           string
	key          *ecdsa.PrivateKey
	via          string
	scanner      string
	sim          string
	nonce        string
	rpc          string
	network      string // -network: the option to pay on, by name or chain id; "" the request's own
	qrFile       string
	fromScreen   string
	wrong        string
	signer       *common.Address
	fleetKey     ed25519.PublicKey // -fleet-key: a terminal certificate it signed is required
	txType       uint8
	feeCap       *big.Int
	tip          *big.Int
	stateDir     string
	json         bool
	timeout      time.Duration
	printRequest bool
}

// expectedCode is the refusal each -wrong variant must draw.
var expectedCode = map[string]string{
	"underpaid":       "underpaid",
	"overpaid":        "overpaid",
	"wrong-chain":     "wrong_chain",
	"reused":          "tx_reused",
	"wrong-recipient": "wrong_recipient",
	"expired-fee":     "fee_too_low",
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("payer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.terminal, "terminal", "http://127.0.0.1:8080", "the terminal's payer API base URL")
	fs.StringVar(&o.id, "id", "", "request id to pay (default: the one on screen)")
	payerIdx := fs.Int("payer", 0, "dev-chain payer index: pays with devkeys.PayerKey(N)")
	keyHex := fs.String("key", "", "payer private key, 0x and 64 hex digits (instead of -payer)")
	fs.StringVar(&o.via, "via", "http", "how to hand the payment over: http, scanner or nfc; or chain: send it to -rpc yourself, as a wallet does (the terminal is not told); or authorization: sign an EIP-3009 authorization for the request's x402 requirements and post it over HTTP")
	fs.StringVar(&o.scanner, "scanner", "", "the terminal's scanner serial port (the simulator's pty, see GET /sim/state)")
	fs.StringVar(&o.sim, "sim", "http://127.0.0.1:8081", "the simulator's page, for -via nfc (POST /sim/tap holds the phone to its reader)")
	fs.StringVar(&o.nonce, "nonce", "auto", "auto (ask -rpc, else the local counter) or a number")
	fs.StringVar(&o.rpc, "rpc", "http://127.0.0.1:8545", "chain JSON-RPC endpoint for -nonce auto and -via chain: the chain of the network paid on")
	fs.StringVar(&o.network, "network", "", "pay on this network the request offers, by its name (arbitrum) or chain id (42161); default: the network of the QR code read, else the request's own")
	fs.StringVar(&o.qrFile, "qr", "", "read the request by decoding the QR code in this PNG/JPEG file")
	fs.StringVar(&o.fromScreen, "from-screen", "", "read the request by decoding the QR code at this image URL (the simulator's /sim/screen.png)")
	fs.StringVar(&o.wrong, "wrong", "", "send a payment the terminal must refuse: underpaid|overpaid|wrong-chain|reused|wrong-recipient|expired-fee")
	signer := fs.String("signer", "", "the terminal address the request must be signed by")
	fleetKey := fs.String("fleet-key", "", "the merchant fleet's ed25519 public key (64 hex digits): the request must carry a terminal certificate it signed for this terminal, signer and merchant")
	txType := fs.String("type", "1559", "transaction type: legacy, 2930 or 1559")
	feeCap := fs.Uint64("fee-cap-gwei", 50, "maxFeePerGas (gasPrice for legacy and 2930), gwei")
	tip := fs.Uint64("tip-gwei", 1, "maxPriorityFeePerGas, gwei")
	fs.StringVar(&o.stateDir, "state", defaultStateDir(), "directory of the per-payer nonce counter and last payment")
	fs.BoolVar(&o.json, "json", false, "print one JSON object instead of lines")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Second, "give up after this long")
	fs.BoolVar(&o.printRequest, "print-request", false, "also print the verified request document")
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "terminal" {
			o.terminalSet = true
		}
	})
	o.terminal = strings.TrimRight(o.terminal, "/")

	keySet := false
	fs.Visit(func(f *flag.Flag) { keySet = keySet || f.Name == "payer" })
	switch {
	case *keyHex != "" && keySet:
		return nil, usagef("-payer and -key exclude each other")
	case *keyHex != "":
		k, err := crypto.HexToECDSA(strings.TrimPrefix(*keyHex, "0x"))
		if err != nil {
			return nil, usagef("-key: %v", err)
		}
		o.key = k
	case *payerIdx < 0:
		return nil, usagef("-payer must be 0 or more")
	default:
		o.key = devkeys.PayerKey(*payerIdx)
	}

	switch o.via {
	case "http":
	case "scanner":
		if o.scanner == "" {
			return nil, usagef("-via scanner needs -scanner PATH (the simulator's pty: GET /sim/state, field scanner)")
		}
	case "nfc":
		if o.sim == "" {
			return nil, usagef("-via nfc needs -sim URL (the simulator's page)")
		}
	case "chain":
		if o.rpc == "" {
			return nil, usagef("-via chain needs -rpc URL (the chain the payment is sent to)")
		}
	case "authorization":
	default:
		return nil, usagef("-via %q: want http, scanner, nfc, chain or authorization", o.via)
	}
	if o.wrong != "" && o.via == "authorization" {
		if _, ok := expectedAuthCode[o.wrong]; !ok {
			return nil, usagef("-wrong %q with -via authorization: want underpaid, overpaid, wrong-chain, reused, wrong-recipient, expires-soon or bad-signature", o.wrong)
		}
	} else if o.wrong != "" {
		if _, ok := expectedCode[o.wrong]; !ok {
			return nil, usagef("-wrong %q: want underpaid, overpaid, wrong-chain, reused, wrong-recipient or expired-fee", o.wrong)
		}
		if o.via != "http" && o.via != "authorization" {
			return nil, usagef("-wrong needs -via http (or authorization): only the HTTP answer shows the terminal's refusal")
		}
	}
	if o.qrFile != "" && o.fromScreen != "" {
		return nil, usagef("-qr and -from-screen exclude each other")
	}
	if (o.qrFile != "" || o.fromScreen != "") && o.id != "" {
		return nil, usagef("-id is for the payer API; the QR code names its request")
	}
	if o.nonce != "auto" {
		if _, err := strconv.ParseUint(o.nonce, 10, 64); err != nil {
			return nil, usagef("-nonce %q: want auto or a number", o.nonce)
		}
	}
	if *fleetKey != "" {
		k, err := hex.DecodeString(*fleetKey)
		if err != nil || len(k) != ed25519.PublicKeySize {
			return nil, usagef("-fleet-key %q: want 64 hex digits (the fleet's [fleet] public_key)", *fleetKey)
		}
		o.fleetKey = k
	}
	if *signer != "" {
		if !common.IsHexAddress(*signer) {
			return nil, usagef("-signer %q is not an address", *signer)
		}
		a := common.HexToAddress(*signer)
		o.signer = &a
	}
	switch *txType {
	case "legacy", "0":
		o.txType = types.LegacyTxType
	case "2930", "1":
		o.txType = types.AccessListTxType
	case "1559", "2":
		o.txType = types.DynamicFeeTxType
	default:
		return nil, usagef("-type %q: want legacy, 2930 or 1559", *txType)
	}
	gwei := big.NewInt(1_000_000_000)
	o.feeCap = new(big.Int).Mul(new(big.Int).SetUint64(*feeCap), gwei)
	o.tip = new(big.Int).Mul(new(big.Int).SetUint64(*tip), gwei)
	if o.tip.Cmp(o.feeCap) > 0 && o.txType == types.DynamicFeeTxType {
		return nil, usagef("-tip-gwei %d is above -fee-cap-gwei %d", *tip, *feeCap)
	}
	return o, nil
}

// result is what one run did; -json prints it.
type result struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	Amount    string `json:"amount,omitempty"` // e.g. "0.01 ETH"
	// Fiat is the signed price in the shop's currency, e.g. "4.95 EUR
	// (tip 0.45) at 2500.00000000 EUR per ETH", when the request has one.
	Fiat         string          `json:"fiat,omitempty"`
	Merchant     string          `json:"merchant,omitempty"`
	ChainID      uint64          `json:"chainId,omitempty"` // the chain paid on
	Network      string          `json:"network,omitempty"` // its name, when the request names its networks
	Offered      int             `json:"offered,omitempty"` // how many networks the request offers
	Source       string          `json:"source,omitempty"`  // api, qr-file or screen
	Signer       string          `json:"signer,omitempty"`
	SignerPinned bool            `json:"signerPinned"`
	Certificate  string          `json:"certificate,omitempty"` // what the terminal certificate check found
	From         string          `json:"from,omitempty"`
	Nonce        *uint64         `json:"nonce,omitempty"`
	NonceSource  string          `json:"nonceSource,omitempty"` // chain, counter or flag
	TxHash       string          `json:"txHash,omitempty"`
	Via          string          `json:"via,omitempty"`
	Wrong        string          `json:"wrong,omitempty"`
	Expected     string          `json:"expectedCode,omitempty"`
	HTTPStatus   int             `json:"httpStatus,omitempty"`
	Block        *uint64         `json:"block,omitempty"` // -via chain: the block it was mined in
	Code         string          `json:"code,omitempty"`  // the terminal's refusal code
	Answer       json.RawMessage `json:"answer,omitempty"`
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "payer:", err)
		}
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	out := &printer{w: stdout, errW: stderr, json: o.json}
	res, err := pay(ctx, o, out)
	if err != nil {
		res.OK = false
		res.Error = err.Error()
		fmt.Fprintln(stderr, "payer:", err)
	}
	out.final(res)
	if !res.OK {
		return exitFail
	}
	return exitOK
}

// printer writes human lines as things happen, or one JSON object at the end.
type printer struct {
	w, errW io.Writer
	json    bool
}

func (p *printer) line(label, format string, a ...any) {
	if !p.json {
		fmt.Fprintf(p.w, "%-9s %s\n", label, fmt.Sprintf(format, a...))
	}
}

func (p *printer) final(r *result) {
	if p.json {
		enc := json.NewEncoder(p.w)
		enc.SetEscapeHTML(false)
		enc.Encode(r)
	}
}

// docURL is the payer API address of the request to pay.
func (o *options) docURL() string {
	u := o.terminal + "/api/showpos/getPaymentRequest"
	if o.id != "" {
		u += "?id=" + o.id
	}
	return u
}

// signerNote says how far the signer was checked.
func signerNote(o *options, signer common.Address) string {
	switch {
	case o.signer != nil && *o.signer == signer:
		return signer.Hex() + " (matches -signer)"
	case o.signer != nil:
		return signer.Hex() + " (DOES NOT match -signer " + o.signer.Hex() + ")"
	}
	return signer.Hex() + " (not pinned: pass -signer to check it is your terminal)"
}

// checkCertificate checks the request's terminal certificate: against
// -fleet-key when given (then one is required), else against the key it
// names, which shows only that it is whole. A certificate that does not
// check is refused either way: the terminal should not serve one.
func checkCertificate(o *options, d *request.Document, signer common.Address, now time.Time) (string, error) {
	key := o.fleetKey
	switch {
	case len(d.Certificate) == 0 && key != nil:
		return "none", fmt.Errorf("refusing to pay: request %s carries no terminal certificate, and -fleet-key asks for one", d.ID)
	case len(d.Certificate) == 0:
		return "none (pass -fleet-key to require one)", nil
	case key == nil:
		k, err := fleet.CertificateKey(d.Certificate)
		if err != nil {
			return "invalid", fmt.Errorf("refusing to pay: %w", err)
		}
		key = k
	}
	c, err := fleet.OpenCertificate(d.Certificate, key)
	if err == nil {
		err = c.Check(d.TerminalID, signer, d.Merchant, now)
	}
	if err != nil {
		return "invalid", fmt.Errorf("refusing to pay: %w", err)
	}
	note := fmt.Sprintf("fleet key %s vouches for terminal %s until %s", hex.EncodeToString(key), c.Terminal, c.Expires.Format(time.RFC3339))
	if c.MerchantName != "" {
		note += fmt.Sprintf(" (merchant %q)", c.MerchantName)
	}
	if o.fleetKey != nil {
		return note + " (matches -fleet-key)", nil
	}
	return note + " (not pinned: pass -fleet-key to check it is your merchant's fleet)", nil
}

// checkRequest refuses a verified document a careful payer would not pay.
func checkRequest(o *options, d *request.Document, signer common.Address, now time.Time) error {
	if o.signer != nil && signer != *o.signer {
		return fmt.Errorf("refusing to pay: request %s is signed by %s, not by the terminal %s you trust (-signer)", d.ID, signer.Hex(), o.signer.Hex())
	}
	if !now.Before(d.ExpiresAt) {
		return fmt.Errorf("refusing to pay: request %s expired at %s", d.ID, d.ExpiresAt.Format(time.RFC3339))
	}
	if d.Status != "" && d.Status != "pending" {
		return fmt.Errorf("refusing to pay: request %s is %s", d.ID, d.Status)
	}
	return nil
}
