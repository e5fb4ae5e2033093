package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func newRegistration(id string, now time.Time) Registration {
	return Registration{ID: id, Name: "Acme back office", Contact: "ops@acme.example", Role: RoleRegister,
		Reason: "nightly books", Created: now, Expires: now.Add(7 * 24 * time.Hour),
		PickupSecret: []byte("ps_0123456789abcdef0123456789")}
}

func newRegClient(number string) Client {
	return Client{Number: number, Role: RoleRegister, Created: t0, Keys: []ClientKey{{Secret: []byte("sk_secret-of-the-approved-one-0123")}}}
}

// The whole life of a registration: pending, approved (its client exists
// at once), collected once with its key, then never again; the copy of the
// key is gone from the file and survives a reopen as collected.
func TestRegistrationApprovedIsCollectedOnce(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	r := newRegistration("rg_1", t0)
	if err := s.PutRegistration(ctx, r, t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Registration("rg_1", t0)
	if err != nil || got.State != RegistrationPending || !bytes.Equal(got.PickupSecret, r.PickupSecret) || got.Key != nil {
		t.Fatalf("Registration = %+v, %v", got, err)
	}
	if _, err := s.CollectRegistration(ctx, "rg_1", t0); !errorsIs(err, ErrRegistrationState) {
		t.Fatalf("collect before approval: %v", err)
	}
	c := newRegClient("sn_reg1")
	a, err := s.ApproveRegistration(ctx, "rg_1", c, t0.Add(time.Minute))
	if err != nil || a.State != RegistrationApproved || a.Number != "sn_reg1" {
		t.Fatalf("approve = %+v, %v", a, err)
	}
	if cl, err := s.Client("sn_reg1"); err != nil || cl.Name != r.Name || !bytes.Equal(cl.Keys[0].Secret, c.Keys[0].Secret) {
		t.Fatalf("client after approval = %+v, %v", cl, err)
	}
	if _, err := s.ApproveRegistration(ctx, "rg_1", newRegClient("sn_other"), t0); !errorsIs(err, ErrRegistrationState) {
		t.Fatalf("second approval: %v", err)
	}
	col, err := s.CollectRegistration(ctx, "rg_1", t0.Add(2*time.Minute))
	if err != nil || col.State != RegistrationCollected || !bytes.Equal(col.Key, c.Keys[0].Secret) || col.Number != "sn_reg1" {
		t.Fatalf("collect = %+v, %v", col, err)
	}
	again, err := s.CollectRegistration(ctx, "rg_1", t0.Add(3*time.Minute))
	if !errorsIs(err, ErrRegistrationState) || again.State != RegistrationCollected || again.Key != nil {
		t.Fatalf("second collect = %+v, %v", again, err)
	}
	path := s.Path()
	s.Close()
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.db.View(func(tx *bbolt.Tx) error {
		v, _ := getChecked(tx, bucketRegistrations, []byte("rg_1"))
		rec, err := decodeRegistration([]byte("rg_1"), v)
		if err != nil || rec.Key != nil || rec.State != RegistrationCollected {
			t.Fatalf("stored after collection: %+v, %v", rec, err)
		}
		return nil
	})
}

func TestRegistrationRejectedAndExpired(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for _, id := range []string{"rg_a", "rg_b"} {
		if err := s.PutRegistration(ctx, newRegistration(id, t0), t0); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.RejectRegistration(ctx, "rg_a", t0); err != nil || r.State != RegistrationRejected {
		t.Fatalf("reject = %+v, %v", r, err)
	}
	if _, err := s.ApproveRegistration(ctx, "rg_a", newRegClient("sn_x"), t0); !errorsIs(err, ErrRegistrationState) {
		t.Fatalf("approve a rejected one: %v", err)
	}
	if _, err := s.Client("sn_x"); !errorsIs(err, ErrUnknownClient) {
		t.Fatalf("a refused approval left a client: %v", err)
	}
	late := t0.Add(7*24*time.Hour + time.Second)
	if r, err := s.Registration("rg_b", late); err != nil || r.State != RegistrationExpired {
		t.Fatalf("after expiry = %+v, %v", r, err)
	}
	if _, err := s.ApproveRegistration(ctx, "rg_b", newRegClient("sn_y"), late); !errorsIs(err, ErrRegistrationState) {
		t.Fatalf("approve an expired one: %v", err)
	}
	if list, _ := s.Registrations(false, late); len(list) != 0 {
		t.Fatalf("open list after expiry: %+v", list)
	}
	if list, _ := s.Registrations(true, late); len(list) != 2 {
		t.Fatalf("full list after expiry: %+v", list)
	}
	// Bounded pruning: one at a time, oldest first.
	if n, err := s.PruneRegistrations(ctx, late, 1); err != nil || n != 1 {
		t.Fatalf("prune = %d, %v", n, err)
	}
	if n, err := s.PruneRegistrations(ctx, late, 10); err != nil || n != 1 {
		t.Fatalf("prune = %d, %v", n, err)
	}
	for _, id := range []string{"rg_a", "rg_b"} {
		if _, err := s.Registration(id, late); !errorsIs(err, ErrUnknownRegistration) {
			t.Fatalf("%s after prune: %v", id, err)
		}
	}
}

// A new registration prunes the expired ones before it is stored.
func TestPutRegistrationPrunesExpired(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.PutRegistration(ctx, newRegistration("rg_old", t0), t0); err != nil {
		t.Fatal(err)
	}
	late := t0.Add(8 * 24 * time.Hour)
	if err := s.PutRegistration(ctx, newRegistration("rg_new", late), late); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Registrations(true, late); len(list) != 1 || list[0].ID != "rg_new" {
		t.Fatalf("list = %+v", list)
	}
}

func TestPutRegistrationRefusesBadOnes(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	for name, mod := range map[string]func(*Registration){
		"no id":           func(r *Registration) { r.ID = "" },
		"space in id":     func(r *Registration) { r.ID = "rg 1" },
		"no name":         func(r *Registration) { r.Name = "" },
		"no contact":      func(r *Registration) { r.Contact = "" },
		"bad role":        func(r *Registration) { r.Role = "admin" },
		"short secret":    func(r *Registration) { r.PickupSecret = []byte("x") },
		"already gone":    func(r *Registration) { r.Expires = r.Created },
		"reason too long": func(r *Registration) { r.Reason = string(make([]byte, MaxRegistrationReason+1)) },
	} {
		r := newRegistration("rg_1", t0)
		mod(&r)
		if err := s.PutRegistration(ctx, r, t0); err == nil {
			t.Errorf("%s: stored", name)
		}
	}
	if list, _ := s.Registrations(true, t0); len(list) != 0 {
		t.Fatalf("stored: %+v", list)
	}
}

func TestOpenMigratesSchema8ToRegistrations(t *testing.T) {
	s := openTemp(t)
	path := s.Path()
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := unchain(tx); err != nil {
			return err
		}
		for _, name := range [][]byte{bucketRegistrations, bucketRegExpiry} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, seal(bucketMeta, keySchema, []byte(schemaV8)))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(path, &Options{HomeChainID: testChain})
	if err != nil {
		t.Fatalf("Open of a schema 8 file: %v", err)
	}
	defer s.Close()
	var schema string
	_ = s.db.View(func(tx *bbolt.Tx) error { schema, _ = readSchema(tx); return nil })
	if schema != schemaVersion { // migrated on to the newest
		t.Fatalf("schema %q after migration", schema)
	}
	if err := s.PutRegistration(context.Background(), newRegistration("rg_1", t0), t0); err != nil {
		t.Fatal(err)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// A pending registration's pickup secret is sealed: a store holding one
// and no client still needs its sealing key, as one with clients does.
func TestOpenWithRegistrationsNeedsTheSealKey(t *testing.T) {
	s := openTemp(t)
	if err := s.PutRegistration(context.Background(), newRegistration("rg_1", t0), t0); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	s.Close()
	if err := os.Remove(filepath.Join(filepath.Dir(path), DefaultSealKeyName)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil)
	wantErr(t, "Open without the key file", err, ErrSealKey)
}
