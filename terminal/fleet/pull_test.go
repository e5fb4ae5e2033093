package fleet

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bundleServer serves whatever bundle it holds at /b and counts GETs.
type bundleServer struct {
	*httptest.Server
	mu     sync.Mutex
	body   []byte
	status int
	gets   atomic.Int32
}

func newBundleServer(t *testing.T) *bundleServer {
	s := &bundleServer{status: http.StatusNotFound}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		s.gets.Add(1)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *bundleServer) serve(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunPullsBundles(t *testing.T) {
	srv := newBundleServer(t)
	f := newFixture(t, "pull_url = \""+srv.URL+"/b\"\npull_every = \"1s\"\n")
	srv.serve(http.StatusOK, f.bundle(1, liveBundle))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "the first pull to apply v1", func() bool { return len(f.applies()) == 1 })
	wantLive(t, f.m.Current())
	if st := f.m.Status(); st.Version != 1 || st.Source != SourcePull {
		t.Errorf("Status = %+v", st)
	}

	// The same bundle again, next interval: nothing happens, nothing logged
	// above debug.
	waitFor(t, "a second pull", func() bool { return srv.gets.Load() >= 2 })
	srv.serve(http.StatusOK, f.bundle(2, "[texts]\nwelcome = \"v2\""))
	waitFor(t, "v2", func() bool { return len(f.applies()) == 2 })
	if c := f.m.Current(); c.Texts.Welcome != "v2" {
		t.Errorf("welcome %q after v2", c.Texts.Welcome)
	}
	if st := f.m.Status(); st.LastRefusal != nil {
		t.Errorf("LastRefusal = %+v", st.LastRefusal)
	}
	if logs := f.logs.String(); strings.Contains(logs, "level=WARN") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("pulling logged a problem:\n%s", logs)
	}
}

func TestRunSurvivesFailuresAndRefusals(t *testing.T) {
	srv := newBundleServer(t)
	f := newFixture(t, "pull_url = \""+srv.URL+"/b\"\npull_every = \"1s\"\n")
	srv.serve(http.StatusInternalServerError, nil)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "a failed pull", func() bool { return strings.Contains(f.logs.String(), "pull failed") })
	srv.serve(http.StatusOK, f.bundle(1, liveBundle, func(p *Payload) { p.Targets.Groups = []string{"bars"} }))
	waitFor(t, "a refusal", func() bool { return f.m.Status().LastRefusal != nil })
	if r := f.m.Status().LastRefusal; r.Code != CodeWrongTarget || r.Source != SourcePull || r.Version != 1 {
		t.Errorf("LastRefusal = %+v", r)
	}
	n := srv.gets.Load()
	waitFor(t, "the next pull", func() bool { return srv.gets.Load() > n })
	srv.serve(http.StatusOK, f.bundle(2, liveBundle))
	waitFor(t, "v2", func() bool { return len(f.applies()) == 1 })
	wantLive(t, f.m.Current())
	if got := strings.Count(f.logs.String(), "level=WARN msg=\"fleet: bundle refused\""); got != 1 {
		t.Errorf("the repeated refusal logged at warn %d times, want once:\n%s", got, f.logs)
	}
}

func TestRunWithoutPullURLReturns(t *testing.T) {
	f := newFixture(t, "")
	done := make(chan struct{})
	go func() { defer close(done); f.m.Run(context.Background()) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run without pull_url did not return")
	}
}
