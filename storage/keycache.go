package storage

import (
	"context"
	"sync"
	"time"

	"github.com/casapay/casapay"
)

// KeyWatcher is a Driver that can tell when API keys change in any process on its database, so that
// the Store may keep the keys it has looked up instead of reading the key on every request. A Driver
// that is not one has its keys read every time.
type KeyWatcher interface {
	// KeysVersion returns a number that changes after every KeysChanged on the database, in this process
	// or another, and ok false while the driver cannot tell (then keys are read every time). It is called
	// on every request and must cost far less than reading a key.
	KeysVersion() (version uint64, ok bool)

	// KeysChanged tells every process on the database that keys, or what a key lookup returns with them,
	// may have changed. It runs after the transaction that changed them has committed, so that no process
	// can read the old row again after seeing the new version.
	KeysChanged(ctx context.Context) error
}

// KeyCacheTTL bounds how long a looked-up key is used without reading it again, whatever KeysVersion
// says. It keeps the promise that a revoked key stops working in every process within a second when a
// change's KeysChanged never arrives: the process that made it stopped between its commit and the
// notice, a notice was lost on a dropped connection, or the row was changed by hand.
const KeyCacheTTL = 500 * time.Millisecond

// keyCacheSize bounds the keys a process keeps. Keys that are not found are never kept, so the cache
// holds only keys that exist; past the bound, one is dropped for each one added.
const keyCacheSize = 10_000

// keyCache keeps the keys FindAPIKey has read, each with the KeysVersion it was read under.
type keyCache struct {
	watch KeyWatcher // nil: nothing is kept
	ttl   time.Duration
	mu    sync.Mutex
	keys  map[string]cachedKey // by hash
}

type cachedKey struct {
	key     casapay.APIKey
	version uint64
	read    time.Time
}

func newKeyCache(d Driver) *keyCache {
	w, _ := d.(KeyWatcher)
	return &keyCache{watch: w, ttl: KeyCacheTTL, keys: map[string]cachedKey{}}
}

// find returns the key under hash as read returns it, or as a read under the current version kept it.
// The version and the time are taken before the read, so a change that lands during the read moves the
// version past the kept entry's. The time is the system's, not the Store's clock: it measures how old
// an entry is.
func (c *keyCache) find(hash string, read func() (*casapay.APIKey, error)) (*casapay.APIKey, error) {
	if c.watch == nil {
		return read()
	}
	now := time.Now()
	version, ok := c.watch.KeysVersion()
	if !ok {
		return read()
	}
	c.mu.Lock()
	e, hit := c.keys[hash]
	c.mu.Unlock()
	if hit && e.version == version && now.Sub(e.read) < c.ttl && !now.Before(e.read) {
		k := e.key
		return &k, nil
	}
	k, err := read()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, present := c.keys[hash]; !present && len(c.keys) >= keyCacheSize {
		for h := range c.keys { // map order is random: drop any one
			delete(c.keys, h)
			break
		}
	}
	c.keys[hash] = cachedKey{key: *k, version: version, read: now}
	c.mu.Unlock()
	return k, nil
}

// changed runs the driver's KeysChanged after a committed change to keys.
func (c *keyCache) changed(ctx context.Context) error {
	if c.watch == nil {
		return nil
	}
	return c.watch.KeysChanged(ctx)
}

// SetKeyCacheTTL sets how long this Store, and the Stores that share its driver, use a looked-up key
// without reading it again while KeysVersion stays put; KeyCacheTTL unless set. It is for tests that
// check that a change reaches other processes through KeysChanged alone, and must be called before the
// Store is used.
func (s *Store) SetKeyCacheTTL(ttl time.Duration) { s.keys.ttl = ttl }
