//go:build mattn

package main

import (
	"database/sql"

	"github.com/mattn/go-sqlite3"
)

// driverName is mattn's driver ("sqlite3") registered again under its own name with a ConnectHook,
// because mattn's DSN has no key for temp_store; every other pragma goes in the DSN.
const driverName = "sqlite3_hooked"
const driverLabel = "github.com/mattn/go-sqlite3 v1.14.53"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA temp_store = MEMORY", nil)
			return err
		},
	})
}

// mattn has its own DSN keys (README, "Connection String"), one per pragma of pragmas but temp_store.
func dsn(path string, readOnly bool) string {
	s := "file:" + path + "?_busy_timeout=5000&_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on"
	if readOnly {
		s += "&_query_only=1"
	} else {
		s += "&_txlock=immediate"
	}
	return s
}
