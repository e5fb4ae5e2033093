package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestPutRequest(t *testing.T) {
	s := openTemp(t)
	r := putRequest(t, s, "r1")
	got, err := s.Request("r1")
	if err != nil {
		t.Fatal(err)
	}
	r.Status = RequestPending
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("Request() = %+v, want %+v", got, r)
	}
	wantErr(t, "second PutRequest", s.PutRequest(context.Background(), newRequest("r1")), ErrRequestExists)
	_, err = s.Request("r2")
	wantErr(t, "Request(unknown)", err, ErrUnknownRequest)
}

func TestCancelRequest(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(t *testing.T, s *Store)
		now    time.Time
		want   error
		status RequestStatus
	}{
		{name: "cancels a pending request", setup: func(*testing.T, *Store) {}, now: t0, status: RequestCancelled},
		{
			name: "returns a cancelled request unchanged",
			setup: func(t *testing.T, s *Store) {
				if _, err := s.CancelRequest(context.Background(), "r1", t0); err != nil {
					t.Fatal(err)
				}
			},
			now: t0, status: RequestCancelled,
		},
		{
			name:  "refuses a paid request",
			setup: func(t *testing.T, s *Store) { mustAccept(t, s, newPayment("r1")) },
			now:   t0, want: ErrAlreadyPaid, status: RequestPaid,
		},
		{name: "refuses an expired request", setup: func(*testing.T, *Store) {}, now: t0.Add(2 * time.Hour), want: ErrExpired, status: RequestPending},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := openTemp(t)
			putRequest(t, s, "r1")
			tc.setup(t, s)
			got, err := s.CancelRequest(context.Background(), "r1", tc.now)
			wantErr(t, "CancelRequest", err, tc.want)
			if err == nil && got.Status != tc.status {
				t.Fatalf("returned status %s, want %s", got.Status, tc.status)
			}
			if stored, _ := s.Request("r1"); stored.Status != tc.status {
				t.Fatalf("stored status %s, want %s", stored.Status, tc.status)
			}
		})
	}
	t.Run("refuses an unknown request", func(t *testing.T) {
		_, err := openTemp(t).CancelRequest(context.Background(), "nope", t0)
		wantErr(t, "CancelRequest", err, ErrUnknownRequest)
	})
}

func TestRequestStatusAt(t *testing.T) {
	r := newRequest("r")
	r.Status = RequestPending
	for _, tc := range []struct {
		status RequestStatus
		now    time.Time
		want   RequestStatus
	}{
		{RequestPending, t0, RequestPending},
		{RequestPending, r.ExpiresAt, RequestExpired},
		{RequestPaid, r.ExpiresAt.Add(time.Hour), RequestPaid},
		{RequestCancelled, r.ExpiresAt.Add(time.Hour), RequestCancelled},
	} {
		r.Status = tc.status
		if got := r.StatusAt(tc.now); got != tc.want {
			t.Errorf("%s at %v: %s, want %s", tc.status, tc.now, got, tc.want)
		}
	}
}
