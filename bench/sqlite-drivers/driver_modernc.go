//go:build modernc

package main

import (
	"net/url"

	_ "modernc.org/sqlite"
)

const driverName = "sqlite"
const driverLabel = "modernc.org/sqlite v1.62.0"

// dsn follows sqlite/sqlite.go: _pragma=... for each pragma, _txlock=immediate on the writer.
func dsn(path string, readOnly bool) string {
	q := url.Values{"_pragma": append([]string(nil), pragmas...)}
	if readOnly {
		q["_pragma"] = append(q["_pragma"], "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}
