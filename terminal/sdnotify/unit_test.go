package sdnotify

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// unitPath is the systemd unit this package's notifications are made for.
// It lives in configs/, which is no Go package, so its test lives here.
const unitPath = "../../configs/posd.service"

func readUnit(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatalf("read unit: %v", err)
	}
	return string(b)
}

// unitKeys returns the unit's assignments as section → key → values (keys
// may repeat). It knows comments and sections, which is all posd.service
// uses; line continuations are not supported.
func unitKeys(t *testing.T, unit string) map[string]map[string][]string {
	t.Helper()
	keys := make(map[string]map[string][]string)
	section := ""
	sc := bufio.NewScanner(strings.NewReader(unit))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			keys[section] = make(map[string][]string)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.HasSuffix(line, `\`) {
				t.Fatalf("%s:%d: not a plain key=value in a section: %q", unitPath, n, line)
			}
			k = strings.TrimSpace(k)
			keys[section][k] = append(keys[section][k], strings.TrimSpace(v))
		}
	}
	return keys
}

// TestUnitSaysWhatPosdNeeds holds the unit to what posd and this package
// promise each other, in Go, wherever systemd is missing.
func TestUnitSaysWhatPosdNeeds(t *testing.T) {
	svc := unitKeys(t, readUnit(t))["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	one := func(key string) string {
		t.Helper()
		v := svc[key]
		if len(v) != 1 {
			t.Errorf("%s set %d times, want once", key, len(v))
			return ""
		}
		return v[0]
	}

	if got := one("Type"); got != "notify" {
		t.Errorf("Type=%s, want notify: posd sends READY=1 (notify-reload needs systemd 253)", got)
	}
	if got := one("NotifyAccess"); got != "main" {
		t.Errorf("NotifyAccess=%s, want main", got)
	}
	if d := seconds(t, one("WatchdogSec")); d < 10*time.Second {
		t.Errorf("WatchdogSec=%v: a watchdog of at least 10s is wanted (posd pings every half of it)", d)
	}
	if d := seconds(t, one("TimeoutStopSec")); d <= 10*time.Second {
		t.Errorf("TimeoutStopSec=%v: posd drains for up to 10s before closing its store", d)
	}
	if got := one("Restart"); got != "on-failure" && got != "always" {
		t.Errorf("Restart=%s: a missed watchdog must restart posd", got)
	}

	exec := strings.Fields(one("ExecStart"))
	if len(exec) == 0 || filepath.Base(exec[0]) != "posd" {
		t.Errorf("ExecStart=%v does not run posd", exec)
	}
	if i := indexOf(exec, "-config"); i < 0 || i+1 >= len(exec) || !strings.HasSuffix(exec[i+1], ".toml") {
		t.Errorf("ExecStart=%v: want -config FILE.toml", exec)
	}

	// Each of these cuts posd off from its devices (see the unit's comment).
	for _, key := range []string{"PrivateDevices", "DeviceAllow", "ProtectClock", "ProtectKernelTunables", "ProcSubset", "PrivateUsers"} {
		if v, ok := svc[key]; ok {
			t.Errorf("%s=%v would break serial, I2C, SPI, GPIO, framebuffer or input access", key, v)
		}
	}
}

// seconds parses the systemd time spans the unit uses ("30s", "1min").
func seconds(t *testing.T, span string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(strings.ReplaceAll(span, "min", "m"))
	if err != nil {
		t.Errorf("time span %q: %v", span, err)
	}
	return d
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// systemdAnalyze finds systemd-analyze, or skips the test; with
// SHOWPOS_REQUIRE_SYSTEMD=1 (as CI sets) a missing one fails it instead.
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("SHOWPOS_REQUIRE_SYSTEMD") == "1" {
			t.Fatalf("systemd-analyze is required (SHOWPOS_REQUIRE_SYSTEMD=1): %v", err)
		}
		t.Skipf("systemd-analyze not found (install the systemd package): %v", err)
	}
	return path
}

// verify runs systemd-analyze verify on unit and returns the problems it
// reports: its output lines that name the unit, and a failing exit status.
//
// verify checks that ExecStart's program exists and is executable, and
// /usr/local/bin/posd is not installed where tests run. So the unit is
// verified from a temp copy whose ExecStart runs a stand-in that exists
// everywhere ("true"), with posd's arguments kept. (--root=DIR would
// find a fake posd under DIR instead, but then DIR must also hold
// sysinit.target and the rest of the unit tree; more copying, no more
// checking.) --man=no skips looking for man pages of Documentation=, and
// --generators=no skips the generators, which want privileges a container
// does not have. verify resolves neither User= nor the groups: those fail
// only on a real start (status=216/GROUP).
//
// systemd-analyze exits 0 on an unknown or misspelt key, a bad value it
// ignores, and more; it only says so, on stderr, naming the unit. So any
// line that names the unit is a problem.
func verify(t *testing.T, analyze, unit string) []string {
	t.Helper()
	stand, err := exec.LookPath("true")
	if err != nil {
		t.Fatalf("no stand-in for posd: %v", err)
	}
	unit = regexp.MustCompile(`(?m)^ExecStart=\S+`).ReplaceAllLiteralString(unit, "ExecStart="+stand)
	path := filepath.Join(t.TempDir(), "posd.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, analyze, "verify", "--man=no", "--generators=no", path)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0", "SYSTEMD_PAGER=", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	var problems []string
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, "posd.service") {
			problems = append(problems, strings.TrimSpace(line))
		}
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		problems = append(problems, "systemd-analyze verify: "+exit.String()+"\n"+string(out))
	case err != nil:
		t.Fatalf("run systemd-analyze: %v", err)
	}
	return problems
}

func TestUnitVerifies(t *testing.T) {
	analyze := systemdAnalyze(t)
	for _, p := range verify(t, analyze, readUnit(t)) {
		t.Error(p)
	}
}

// TestVerifyCatchesMistakes shows that TestUnitVerifies would fail on a
// broken unit: systemd-analyze exits 0 on most of these.
func TestVerifyCatchesMistakes(t *testing.T) {
	analyze := systemdAnalyze(t)
	unit := readUnit(t)
	for _, tc := range []struct{ name, line, old, new string }{
		{"misspelt key", "WatchdogSec=", "WatchdogSec", "WatchDogSec"},
		{"bad value", "Type=", "notify", "notifyy"},
		{"bad time span", "TimeoutStopSec=", "20s", "20x"},
		{"bad restart", "Restart=", "on-failure", "on-failures"},
		{"unknown address family", "RestrictAddressFamilies=", "AF_NETLINK", "AF_NETLUNK"},
		{"unknown group set", "SystemCallFilter=", "@system-service", "@system-services"},
		{"no ExecStart", "ExecStart=", "ExecStart", "#ExecStart"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken, ok := breakLine(unit, tc.line, tc.old, tc.new)
			if !ok {
				t.Fatalf("the unit has no %s line with %q to break", tc.line, tc.old)
			}
			if problems := verify(t, analyze, broken); len(problems) == 0 {
				t.Errorf("a unit with %q instead of %q on its %s line passed verification", tc.new, tc.old, tc.line)
			} else {
				t.Logf("caught: %s", problems[0])
			}
		})
	}
}

// breakLine replaces old with new in the first line of unit that starts
// with prefix; comments are never touched.
func breakLine(unit, prefix, old, new string) (string, bool) {
	lines := strings.SplitAfter(unit, "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, old) {
			lines[i] = strings.Replace(line, old, new, 1)
			return strings.Join(lines, ""), true
		}
	}
	return unit, false
}
