// Package showpos holds no code of the terminal: the repository root is a
// package only so that `go test ./...` runs the repository's own checks
// (layout_test.go), which keep the layout's rules — a doc comment on every
// package, terminal/ apart from drivers/, device/ holding interfaces only,
// drivers/ apart from the domain, development tools out of production, no
// util packages and no init().
package showpos
