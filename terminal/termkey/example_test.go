package termkey_test

import (
	"fmt"
	"os"
	"path/filepath"

	"showpos/terminal/termkey"
)

func Example() {
	dir, err := os.MkdirTemp("", "posd")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "terminal.key")

	_, created, err := termkey.LoadOrCreate(path) // first start: a new key
	fmt.Println(created, err)
	_, created, err = termkey.LoadOrCreate(path) // every later start: the same key
	fmt.Println(created, err)

	os.Chmod(path, 0o644) // someone loosened it
	_, _, err = termkey.LoadOrCreate(path)
	fmt.Println(err != nil)
	// Output:
	// true <nil>
	// false <nil>
	// true
}
