package virtual

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"showpos/device"
)

// allKeys is every key a keypad has, Key0 … KeyF4.
func allKeys() []device.Key {
	var keys []device.Key
	for k := device.Key0; keyName(k) != ""; k++ {
		keys = append(keys, k)
	}
	return keys
}

func TestPostedKeysAreReadInOrder(t *testing.T) {
	b := newBoard(t, nil)
	ctx := testCtx(t)
	keys := append(allKeys(), device.Key1, device.Key2, device.KeyEnter)
	for _, k := range keys {
		if code, body := post(t, b, "/sim/key", "application/json", fmt.Sprintf(`{"key":%q}`, k)); code != http.StatusNoContent {
			t.Fatalf("POST key %v: %d %s", k, code, body)
		}
	}
	for i, want := range keys {
		got, err := b.Keypad().ReadKey(ctx)
		if err != nil || got != want {
			t.Fatalf("ReadKey #%d = %v, %v; want %v", i, got, err, want)
		}
	}
}

func TestPostKeyRefusals(t *testing.T) {
	b := newBoard(t, nil)
	for _, tc := range []struct {
		name   string
		body   string
		header []string
		want   int
	}{
		{"unknown name", `{"key":"11"}`, nil, http.StatusBadRequest},
		{"none is not a key", `{"key":"none"}`, nil, http.StatusBadRequest},
		{"names are case-sensitive", `{"key":"Enter"}`, nil, http.StatusBadRequest},
		{"not JSON", `7`, nil, http.StatusBadRequest},
		{"member name in another case", `{"Key":"7"}`, nil, http.StatusBadRequest},
		{"member twice", `{"key":"1","key":"7"}`, nil, http.StatusBadRequest},
		{"two objects", `{"key":"7"}{"key":"8"}`, nil, http.StatusBadRequest},
		{"empty", ``, nil, http.StatusBadRequest},
		{"another origin", `{"key":"7"}`, []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"another site", `{"key":"7"}`, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := post(t, b, "/sim/key", "application/json", tc.body, tc.header...); code != tc.want {
				t.Errorf("POST %s: %d %s, want %d", tc.body, code, body, tc.want)
			}
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if k, err := b.Keypad().ReadKey(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a refused press was queued: %v, %v", k, err)
	}
}

func TestFullKeyQueueAnswers503(t *testing.T) {
	b := newBoard(t, nil)
	for i := range keyQueue {
		if err := b.Press(device.Key5); err != nil {
			t.Fatalf("press %d: %v", i, err)
		}
	}
	if code, _ := post(t, b, "/sim/key", "application/json", `{"key":"6"}`); code != http.StatusServiceUnavailable {
		t.Errorf("POST to a full queue: %d, want 503", code)
	}
	b.Keypad().ReadKey(testCtx(t))
	if code, _ := post(t, b, "/sim/key", "application/json", `{"key":"6"}`); code != http.StatusNoContent {
		t.Errorf("POST after a read: %d, want 204", code)
	}
}

func TestHaltedKeypad(t *testing.T) {
	b := newBoard(t, nil)
	b.Press(device.Key1)
	b.Keypad().Halt()
	if _, err := b.Keypad().ReadKey(testCtx(t)); !errors.Is(err, device.ErrHalted) {
		t.Errorf("ReadKey after Halt: %v", err)
	}
	if code, _ := post(t, b, "/sim/key", "application/json", `{"key":"1"}`); code != http.StatusServiceUnavailable {
		t.Errorf("POST after Halt: %d, want 503", code)
	}
	if err := b.Press(device.KeyNone); err == nil {
		t.Error("Press(KeyNone) accepted")
	}
}
