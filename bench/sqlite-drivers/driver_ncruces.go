//go:build ncruces

package main

import (
	"net/url"

	_ "github.com/ncruces/go-sqlite3/driver"
	// Not github.com/ncruces/go-sqlite3/embed: in v0.37.0 it is deprecated and empty (SQLite is
	// wasm2go-translated Go in github.com/ncruces/go-sqlite3-wasm, which driver imports); it only prints
	// "you're unnecessarily importing ... embed" at start-up.
)

const driverName = "sqlite3"
const driverLabel = "github.com/ncruces/go-sqlite3 v0.37.0"

// ncruces takes the same _pragma=... syntax as modernc, and _txlock=immediate.
func dsn(path string, readOnly bool) string {
	q := url.Values{"_pragma": append([]string(nil), pragmas...)}
	if readOnly {
		q["_pragma"] = append(q["_pragma"], "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}
