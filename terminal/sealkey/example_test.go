package sealkey_test

import (
	"fmt"
	"os"
	"path/filepath"

	"showpos/terminal/sealkey"
)

func Example() {
	dir, err := os.MkdirTemp("", "posd")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	key, created, err := sealkey.LoadOrCreate(filepath.Join(dir, "seal.key")) // first start
	fmt.Println(created, err)
	sealed := key.Seal([]byte("sk_service-key"), []byte("sn_1"))

	key, _ = sealkey.Load(filepath.Join(dir, "seal.key")) // a later start
	secret, err := key.Open(sealed, []byte("sn_1"))
	fmt.Println(string(secret), err)
	_, err = key.Open(sealed, []byte("sn_2")) // moved to another client
	fmt.Println(err != nil)
	// Output:
	// true <nil>
	// sk_service-key <nil>
	// true
}
