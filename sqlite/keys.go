package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/casapay/casapay/storage"
)

var _ storage.KeyWatcher = (*Store)(nil)

// keysFileSuffix names the file beside the database through which processes on it tell each other that
// API keys changed: KeysChanged appends a byte to DATABASE-keys, and KeysVersion is its size and time
// of change. Any process that can open the database can write it, as it writes the -wal and -shm files
// beside it. A stat costs a system call, far less than reading a key.
const keysFileSuffix = "-keys"

// KeysVersion returns the keys file's size and modification time, mixed; 0 while it does not exist.
// ok is false only when the file cannot be examined, so keys are read every time.
func (s *Store) KeysVersion() (uint64, bool) {
	fi, err := os.Stat(s.path + keysFileSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, true
	case err != nil:
		return 0, false
	}
	return uint64(fi.Size())<<40 ^ uint64(fi.ModTime().UnixNano()), true
}

// KeysChanged appends a byte to the keys file: its size grows, so the version moves even when two
// changes land within one tick of the file system's clock.
func (s *Store) KeysChanged(context.Context) error {
	f, err := os.OpenFile(s.path+keysFileSuffix, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("tell other processes that keys changed: %w", err)
	}
	_, err = f.Write([]byte{'\n'})
	if err := errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("tell other processes that keys changed: %w", err)
	}
	return nil
}
