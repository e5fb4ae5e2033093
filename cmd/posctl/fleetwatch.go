package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"showpos/sync/uplink"
	"showpos/terminal/store"
)

// fleetWatch shows every terminal under a prefix from the retained status
// messages on P/+/status (sync/uplink): args follow "fleet watch".
//
//	posctl fleet watch -broker URL [-prefix P] [broker options] [-once] [-json] [-wait D]
//
// On a terminal it redraws the table as statuses change, and counts the
// events each terminal publishes on P/T/events, until interrupted. With -once, -json, or when stdout is not a terminal, it
// prints the table once the broker has sent every retained status, and
// exits: to know when that is, posctl subscribes, then publishes one
// message to a topic of its own (P/posctl/CLIENT-ID/watched) and waits for
// it to come back, after the retained ones (a broker sends one client's
// messages in order). If the broker does not echo it within -wait (an ACL
// that denies the publish), the table holds what came in that time and a
// warning says so.
func fleetWatch(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("fleet watch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var m mqttFlags
	m.register(fs)
	once := fs.Bool("once", false, "print the table once the retained statuses are in, and exit")
	asJSON := fs.Bool("json", false, "print the terminals as JSON, once (implies -once)")
	wait := fs.Duration("wait", 10*time.Second, "with -once: wait at most this for the retained statuses")
	if err := fs.Parse(args); err != nil {
		return usageErr("fleet watch: %v", err)
	}
	if fs.NArg() != 0 {
		return usageErr("fleet watch takes flags only")
	}
	if *wait <= 0 {
		return usageErr("fleet watch: -wait must be positive")
	}
	o, err := m.clientOptions()
	if err != nil {
		return err
	}
	ft := newFleetTable(m.prefix)
	if *once || *asJSON || !isTerminal(stdout) {
		if err := watchRetained(ctx, &m, o, ft, *wait, stderr); err != nil {
			return err
		}
		rows := ft.snapshot()
		if *asJSON {
			b, err := json.MarshalIndent(rows, "", "  ")
			if err != nil {
				return err
			}
			_, err = stdout.Write(append(b, '\n'))
			return err
		}
		return renderFleet(stdout, rows, now(), false)
	}
	return watchLive(ctx, &m, o, ft, stdout, now)
}

// watchRetained collects the retained statuses into ft and returns once
// the marker it publishes after subscribing comes back (see fleetWatch).
func watchRetained(ctx context.Context, m *mqttFlags, o *paho.ClientOptions, ft *fleetTable, wait time.Duration, stderr io.Writer) error {
	c, err := connect(ctx, m.broker, o)
	if err != nil {
		return err
	}
	defer c.Disconnect(250)
	marker := m.prefix + "/posctl/" + o.ClientID + "/watched"
	back := make(chan struct{})
	var backOnce sync.Once
	filter := uplink.StatusFilter(m.prefix)
	if err := subscribed(ctx, c.Subscribe(filter, 1, func(_ paho.Client, msg paho.Message) {
		ft.take(msg.Topic(), msg.Payload())
	})); err != nil {
		return fmt.Errorf("%s: broker %s: subscribe %s: %w", codeBrokerRefused, m.broker, filter, err)
	}
	// An ACL may deny posctl its marker: then the table is what came
	// within -wait, with a warning.
	echo := true
	if err := subscribed(ctx, c.Subscribe(marker, 1, func(paho.Client, paho.Message) {
		backOnce.Do(func() { close(back) })
	})); err != nil {
		fmt.Fprintf(stderr, "posctl: warning: %v: the table holds the statuses that came in %s\n", err, wait)
		echo = false
	}
	if echo {
		if err := waitToken(ctx, c.Publish(marker, 1, false, []byte("watched"))); err != nil {
			return fmt.Errorf("%s: broker %s: publish %s: %w", codeBrokerUnreachable, m.broker, marker, err)
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-back:
	case <-t.C:
		if echo {
			fmt.Fprintf(stderr, "posctl: warning: the broker did not echo %s in %s (an ACL? watch reads %s, and writes and reads %s/posctl/#): the table holds the statuses that came in that time\n", marker, wait, filter, m.prefix)
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// watchLive redraws the table on w as statuses come and go, and every
// second for the ages, until ctx ends. paho reconnects a lost connection
// and the status filter is subscribed again on each connect (the session
// is clean), so the broker sends the retained statuses afresh.
func watchLive(ctx context.Context, m *mqttFlags, o *paho.ClientOptions, ft *fleetTable, w io.Writer, now func() time.Time) error {
	filter := uplink.StatusFilter(m.prefix)
	o.SetAutoReconnect(true).SetMaxReconnectInterval(30 * time.Second)
	o.SetOnConnectHandler(func(c paho.Client) {
		// paho runs this on a goroutine of its own: waiting here holds
		// up nothing else. Events are counted at QoS 0: a screen needs
		// no redelivery, and the broker keeps no queue for it.
		tok := c.SubscribeMultiple(map[string]byte{filter: 1, uplink.EventsFilter(m.prefix): 0}, func(_ paho.Client, msg paho.Message) {
			if strings.HasSuffix(msg.Topic(), "/events") {
				ft.takeEvent(msg.Topic(), msg.Payload(), now())
				return
			}
			ft.take(msg.Topic(), msg.Payload())
		})
		if err := subscribed(context.Background(), tok); err != nil {
			ft.setLink("subscribe " + filter + ": " + err.Error())
		} else {
			ft.setLink("")
		}
	})
	o.SetConnectionLostHandler(func(_ paho.Client, err error) { ft.setLink("connection lost, reconnecting: " + err.Error()) })
	c, err := connect(ctx, m.broker, o)
	if err != nil {
		return err
	}
	defer c.Disconnect(250)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		rows, link := ft.snapshot(), ft.linkState()
		var b strings.Builder
		b.WriteString("\x1b[H\x1b[2J") // home, clear: a redraw in place
		connected := 0
		for _, r := range rows {
			if r.Status != nil && r.Status.Connected {
				connected++
			}
		}
		fmt.Fprintf(&b, "%s on %s at %s: %d terminals, %d connected\n", filter, m.broker, now().Format("15:04:05"), len(rows), connected)
		if link != "" {
			fmt.Fprintf(&b, "broker: %s\n", link)
		}
		b.WriteString("\n")
		if err := renderFleet(&b, rows, now(), true); err != nil {
			return err
		}
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ft.changed:
		case <-tick.C:
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// fleetRow is one terminal in fleet watch: its last status, or why the
// last message on its status topic could not be read.
type fleetRow struct {
	Terminal string `json:"terminal"`
	// Bad says why the last message on the terminal's status topic is not
	// a status; Status is then the one before it, if any.
	Bad    string         `json:"bad,omitempty"`
	Status *uplink.Status `json:"status,omitempty"`

	// Live only, from P/T/events: the highest seq received and when each
	// event of the last minute came (duplicates, by seq, not counted).
	seq    uint64
	recent []time.Time
}

// fleetTable is what fleet watch knows of the fleet, fed by paho's
// handler and read by the drawing loop.
type fleetTable struct {
	prefix  string
	changed chan struct{} // capacity 1: a change not yet drawn

	mu   sync.Mutex
	rows map[string]fleetRow
	link string // the broker connection's trouble, if any
}

func newFleetTable(prefix string) *fleetTable {
	return &fleetTable{prefix: prefix, changed: make(chan struct{}, 1), rows: map[string]fleetRow{}}
}

// maxBadShown caps the reason a bad status is shown with.
const maxBadShown = 120

// take reads one message from P/T/status. An empty one (a retained status
// removed) drops the terminal. A message that is not a version 1 status
// of the terminal its topic names is listed as bad, never trusted. A last
// will (connected false and nothing else) marks the terminal's last full
// status disconnected, so what it said before stays visible.
func (ft *fleetTable) take(topic string, payload []byte) {
	id, ok := strings.CutPrefix(topic, ft.prefix+"/")
	if !ok {
		return
	}
	if id, ok = strings.CutSuffix(id, "/status"); !ok || strings.Contains(id, "/") {
		return
	}
	ft.mu.Lock()
	defer ft.mu.Unlock()
	defer ft.notify()
	row := ft.rows[id]
	row.Terminal = id
	if len(payload) == 0 {
		row.Status, row.Bad = nil, ""
		if row.seq == 0 {
			delete(ft.rows, id)
		} else {
			ft.rows[id] = row
		}
		return
	}
	var st uplink.Status
	bad := ""
	switch err := json.Unmarshal(payload, &st); {
	case err != nil:
		bad = "bad status: " + err.Error()
	case st.V != 1:
		bad = fmt.Sprintf("bad status: version %d, this posctl reads 1", st.V)
	case st.Terminal != id:
		bad = fmt.Sprintf("bad status: it names terminal %q", st.Terminal)
	}
	if len(bad) > maxBadShown {
		bad = bad[:maxBadShown] + "…"
	}
	row.Bad = bad
	if bad == "" {
		if !st.Connected && st.At.IsZero() && row.Status != nil {
			was := *row.Status
			was.Connected = false
			st = was
		}
		row.Status = &st
	}
	ft.rows[id] = row
}

// takeEvent counts one message from P/T/events received at now: only its
// seq is read, and a seq not above the highest seen is a duplicate.
func (ft *fleetTable) takeEvent(topic string, payload []byte, now time.Time) {
	id, ok := strings.CutPrefix(topic, ft.prefix+"/")
	if !ok {
		return
	}
	if id, ok = strings.CutSuffix(id, "/events"); !ok || strings.Contains(id, "/") {
		return
	}
	var ev struct {
		Seq uint64 `json:"seq"`
	}
	if json.Unmarshal(payload, &ev) != nil || ev.Seq == 0 {
		return
	}
	ft.mu.Lock()
	defer ft.mu.Unlock()
	row := ft.rows[id]
	if ev.Seq <= row.seq {
		return
	}
	row.Terminal, row.seq = id, ev.Seq
	// Only the last minute is shown: drop what is older (reslicing
	// leaves the times a snapshot holds as they were).
	i := 0
	for i < len(row.recent) && now.Sub(row.recent[i]) >= time.Minute {
		i++
	}
	row.recent = append(row.recent[i:], now)
	ft.rows[id] = row
	ft.notify()
}

func (ft *fleetTable) notify() {
	select {
	case ft.changed <- struct{}{}:
	default:
	}
}

func (ft *fleetTable) setLink(s string) {
	ft.mu.Lock()
	ft.link = s
	ft.mu.Unlock()
	ft.notify()
}

func (ft *fleetTable) linkState() string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.link
}

// snapshot is every terminal, sorted by id.
func (ft *fleetTable) snapshot() []fleetRow {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	rows := make([]fleetRow, 0, len(ft.rows))
	for _, r := range ft.rows {
		r.recent = slices.Clone(r.recent)
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b fleetRow) int { return strings.Compare(a.Terminal, b.Terminal) })
	return rows
}

// fleetColumns head the table; renderFleet fills them in this order, and
// live adds eventColumns before NOTE.
var (
	fleetColumns = []string{"TERMINAL", "CONNECTED", "CHAIN", "CONFIG", "QUEUE", "OLDEST QUEUED", "LAST PAYMENT", "STATUS AGE", "LAST EVENT", "NOTE"}
	eventColumns = []string{"EVENTS/MIN", "LAST SEQ"}
)

// renderFleet writes rows as a plain-text table, ages counted to now.
// QUEUE is the payments not yet on chain (queued and broadcast); a
// terminal known only by its last will shows "-" for what it never said;
// NOTE says why a terminal's last status could not be read. With events,
// EVENTS/MIN counts the events received in the minute to now and LAST SEQ
// is the highest seq received (LAST EVENT, the terminal's newest, above
// it is what the broker has yet to bring).
func renderFleet(w io.Writer, rows []fleetRow, now time.Time, events bool) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	head := fleetColumns
	if events {
		head = slices.Insert(slices.Clone(head), len(head)-1, eventColumns...)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rows {
		cells := []string{r.Terminal, "-", "-", "-", "-", "-", "-", "-", "-", r.Bad}
		if events {
			perMin, seq := 0, "-"
			for _, at := range r.recent {
				if now.Sub(at) < time.Minute {
					perMin++
				}
			}
			if r.seq > 0 {
				seq = fmt.Sprintf("#%d", r.seq)
			}
			cells = slices.Insert(cells, len(cells)-1, fmt.Sprint(perMin), seq)
		}
		if st := r.Status; st != nil {
			cells[1] = yesNo(st.Connected)
			if !st.At.IsZero() {
				cells[2] = "offline"
				if st.Online {
					cells[2] = "online"
				}
				cells[3] = "local"
				if st.ConfigVersion != 0 {
					cells[3] = fmt.Sprintf("v%d", st.ConfigVersion)
				}
				queued := st.Queue[string(store.PaymentQueued)] + st.Queue[string(store.PaymentBroadcast)]
				cells[4] = fmt.Sprint(queued)
				if queued > 0 {
					cells[5] = age(time.Duration(st.OldestQueuedAgeSeconds * float64(time.Second)))
				}
				if !st.LastPayment.IsZero() {
					cells[6] = age(now.Sub(st.LastPayment)) + " ago"
				}
				cells[7] = age(now.Sub(st.At))
				cells[8] = fmt.Sprintf("#%d", st.LastEvent)
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The padding of an empty NOTE is trailing blanks: cut.
	for line := range bytes.Lines(buf.Bytes()) {
		if _, err := fmt.Fprintln(w, strings.TrimRight(string(line), " \n")); err != nil {
			return err
		}
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// age is d rounded for a glance: 42s, 5m07s, 3h05m, 4d03h.
func age(d time.Duration) string {
	if d < 0 {
		d = 0 // a terminal's clock ahead of ours
	}
	switch s := int64(d / time.Second); {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
	}
}
