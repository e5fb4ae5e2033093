package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"showpos/sync/uplink"
	"showpos/tools/mosquitto"
)

// aclBroker is a broker whose anonymous clients may do what acl allows
// (mosquitto's acl_file lines).
func aclBroker(t *testing.T, acl ...string) *mosquitto.Broker {
	t.Helper()
	f := filepath.Join(t.TempDir(), "acl")
	if err := os.WriteFile(f, []byte(strings.Join(acl, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return mosquitto.Start(t, mosquitto.Options{Extra: []string{"acl_file " + f}})
}

// A broker that lets watch read the statuses but not its own marker: the
// table is what came within -wait, and a warning says so. (Mosquitto
// grants an MQTT 3.1.1 subscription its ACL denies and delivers nothing:
// watch cannot tell the statuses denied from an empty fleet but by this
// warning.)
func TestFleetWatchMarkerDenied(t *testing.T) {
	b := aclBroker(t, "topic readwrite showpos/+/status")
	pub := mqttClient(t, b.URL(), "fleet-sim", nil)
	publishRetained(t, pub, uplink.Topics{Prefix: "showpos", Terminal: "till-1"}.Status(),
		statusJSON(t, uplink.Status{V: 1, Terminal: "till-1", Connected: true, At: time.Now()}))
	var out, errOut bytes.Buffer
	if err := fleetWatch(context.Background(), []string{"-broker", b.URL(), "-once", "-wait", "1s"}, &out, &errOut, time.Now); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\ntill-1    yes") {
		t.Errorf("table:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "posctl: warning: ") || !strings.Contains(errOut.String(), "the table holds the statuses that came in that time") {
		t.Errorf("stderr %q: want the warning", errOut.String())
	}
}
