package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"go.bug.st/serial"

	"showpos/terminal/request"
	"showpos/terminal/screen"
	"showpos/tools/devchain"
	"showpos/tools/paytx"
	"showpos/tools/qrread"
)

// A sale as a cashier and a payer make it, through the whole daemon with
// the simulated board and a real dev chain: keys pressed on the virtual
// keypad, the QR read off the virtual display, the payment handed over
// (HTTP, then the scanner pty), PAID on the screen, mined on the chain.
func TestSaleOnTheSimulatedTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain")
	}
	node, simURL, addr := startSimTerminal(t)
	screens, err := screen.New(screen.Size{W: 320, H: 240})
	if err != nil {
		t.Fatal(err)
	}
	eth, err := ethclient.Dial(node.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer eth.Close()
	payer := node.Payers()[0].Key

	for i, via := range []string{"http", "scanner"} {
		t.Run(via, func(t *testing.T) {
			for _, k := range []string{"0", ".", "2", "5", "enter"} {
				resp, err := http.Post(simURL+"/sim/key", "application/json", strings.NewReader(`{"key":"`+k+`"}`))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					t.Fatalf("key %s: %s", k, resp.Status)
				}
			}
			// The payer reads the QR off the screen and fetches the
			// signed request it points to.
			uri := waitQR(t, simURL)
			doc := fetchRequest(t, addr)
			if doc.URI != uri || doc.AmountDisplay != "0.25" {
				t.Fatalf("QR %q, request %q for %s", uri, doc.URI, doc.AmountDisplay)
			}
			if _, err := doc.Verify(); err != nil {
				t.Fatal(err)
			}
			tx, err := paytx.Build(doc.Request(), payer, paytx.Options{Nonce: uint64(i), FeeCap: big.NewInt(50e9)})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tx.MarshalBinary()
			switch via {
			case "http":
				body, _ := json.Marshal(map[string]string{"requestId": doc.ID, "rawTx": hexutil.Encode(raw)})
				resp, err := http.Post("http://"+addr+"/api/showpos/broadcastTx", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					t.Fatalf("broadcastTx: %s", resp.Status)
				}
			case "scanner":
				var st struct {
					Scanner string `json:"scanner"`
				}
				getJSON(t, simURL+"/sim/state", &st)
				port, err := serial.Open(st.Scanner, &serial.Mode{BaudRate: 9600})
				if err != nil {
					t.Fatal(err)
				}
				_, err = port.Write([]byte(hexutil.Encode(raw) + "\r\n"))
				port.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			waitScreen(t, simURL, screens.Result(screen.Result{Kind: screen.ResultPaid}))
			if rcpt, err := eth.TransactionReceipt(context.Background(), tx.Hash()); err != nil || rcpt.Status != 1 {
				t.Fatalf("receipt %v, %v", rcpt, err)
			}
			// Any key goes back to idle for the next sale.
			resp, err := http.Post(simURL+"/sim/key", "application/json", strings.NewReader(`{"key":"cancel"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		})
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func fetchRequest(t *testing.T, addr string) *request.Document {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/showpos/getPaymentRequest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	doc, err := request.ParseDocument(buf.Bytes())
	if err != nil {
		t.Fatalf("%s: %v", buf.Bytes(), err)
	}
	return doc
}

func screenPNG(t *testing.T, simURL string) image.Image {
	t.Helper()
	resp, err := http.Get(simURL + "/sim/screen.png")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	img, err := png.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func waitQR(t *testing.T, simURL string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second) // decoding is slow on a loaded machine
	for time.Now().Before(deadline) {
		if uri, err := qrread.Read(screenPNG(t, simURL)); err == nil {
			return uri
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no QR on the simulated screen")
	return ""
}

func waitScreen(t *testing.T, simURL string, want image.Image) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if screen.SamePicture(screenPNG(t, simURL), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the simulated screen never showed the expected picture")
}

// simBoard is the [board] of a simulated terminal whose page is at sim.
func simBoard(sim string) string {
	return fmt.Sprintf(`
[board.display]
driver = "virtual"
width = 320
height = 240
[board.keypad]
driver = "virtual"
[board.scanner]
driver = "virtual"
[board.virtual]
listen = %q
`, sim)
}

// startSimTerminal runs posd with a simulated board (display, keypad,
// scanner) broadcasting to a real dev chain, until the test ends. It
// returns the chain, the simulator's page URL and the payer API address.
func startSimTerminal(t *testing.T) (*devchain.Chain, string, string) {
	t.Helper()
	node, dir, addr := startChainTerminal(t, simBoard(anyPort))
	return node, simPage(t, dir), addr
}

// simPage is the simulator's page of the terminal in dir, without the
// trailing slash.
func simPage(t *testing.T, dir string) string {
	t.Helper()
	page := listening(t, unixClient(filepath.Join(dir, "data", "posd.sock"))).Simulator
	if page == "" {
		t.Fatal("status names no simulator page")
	}
	return strings.TrimSuffix(page, "/")
}

// A cash register creates the request over the network: the simulated
// screen shows its QR at once, as if keyed; status lists the board's
// devices as present.
func TestRegisterRequestGoesOnTheSimulatedScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("whole daemon with a dev chain")
	}
	_, dir, addr := startChainTerminal(t, simBoard(anyPort))
	tm := &terminal{t: t, dir: dir, addr: addr, op: unixClient(filepath.Join(dir, "data", "posd.sock"))}
	number, key := tm.addClient("Till 4 register", "register")
	a := tm.send(tm.sign("POST", "/v1/requests", `{"amount":"3.5","memo":"order 12"}`, number, key))
	if a.status != http.StatusCreated {
		t.Fatalf("register's request: %d %s", a.status, a.raw)
	}
	doc, err := request.ParseDocument(a.raw)
	if err != nil {
		t.Fatal(err)
	}
	if uri := waitQR(t, simPage(t, dir)); uri != doc.URI {
		t.Errorf("screen shows %q, the register made %q", uri, doc.URI)
	}

	st := tm.operator("GET", "/v1/status", "")
	var got []string
	for _, d := range st.body["devices"].([]any) {
		d := d.(map[string]any)
		got = append(got, fmt.Sprintf("%s/%s/%v", d["kind"], d["driver"], d["present"]))
	}
	if want := "display/virtual/true keypad/virtual/true scanner/virtual/true"; strings.Join(got, " ") != want {
		t.Errorf("devices %v, want %s", got, want)
	}
}
