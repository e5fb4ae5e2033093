package main

import "showpos/terminal/store"

// chainStore is the store as one chain's parts see it. TEMPORARY: the
// store's per-chain views (schema 13) replace this at merge.
func (d *daemon) chainStore(id uint64) *store.Store { return d.store }
