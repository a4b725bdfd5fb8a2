package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casapay/casapay/storage"
)

var _ storage.KeyWatcher = (*Store)(nil)

// keysChannel is the channel on which KeysChanged notifies every process on the database. A notice's
// payload is the schema whose keys changed: stores on other schemas of the same database hear it, and
// pass it over.
const keysChannel = "casapay_api_keys"

// keyWatch follows keysChannel on a connection of its own, taken from the pool the first time a key is
// looked up, so that commands that never authenticate a request never hold one.
type keyWatch struct {
	start   sync.Once
	version atomic.Uint64 // moved by each notice, by this process's own KeysChanged, and whenever listening stops or starts
	live    atomic.Bool   // true while LISTEN holds: between notices nothing has changed
	stop    context.CancelFunc
	done    chan struct{}
}

// KeysVersion returns the version of the keys this process knows of, and ok false while it is not
// listening (at first, and after its connection failed, until it listens again).
func (s *Store) KeysVersion() (uint64, bool) {
	s.watch.start.Do(s.startWatch)
	return s.watch.version.Load(), s.watch.live.Load()
}

// KeysChanged moves this process's version at once, and notifies every other process.
func (s *Store) KeysChanged(ctx context.Context) error {
	s.watch.version.Add(1)
	if _, err := s.pool.Exec(ctx, `SELECT pg_notify($1, coalesce(current_schema(), ''))`, keysChannel); err != nil {
		return fmt.Errorf("notify %s: %w", keysChannel, err)
	}
	return nil
}

func (s *Store) startWatch() {
	ctx, stop := context.WithCancel(context.Background())
	s.watch.stop, s.watch.done = stop, make(chan struct{})
	go func() {
		defer close(s.watch.done)
		for {
			// Whatever ended listening, keys are read every time until it starts again; an outage
			// shows in the requests' own queries, which fail too.
			_ = s.listen(ctx)
			s.watch.live.Store(false)
			s.watch.version.Add(1)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
}

// listen takes a connection out of the pool, listens on keysChannel and moves the version for each
// notice, until the connection fails or ctx ends.
func (s *Store) listen(ctx context.Context) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := c.Hijack() // the pool opens another in its place
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+keysChannel); err != nil {
		return err
	}
	// Keys kept before now were read while nothing was listening: none may be used again.
	s.watch.version.Add(1)
	s.watch.live.Store(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == schema {
			s.watch.version.Add(1)
		}
	}
}

// stopWatch stops the listener, if one started, and keeps one from starting later.
func (s *Store) stopWatch() {
	s.watch.start.Do(func() {})
	if s.watch.stop != nil {
		s.watch.stop()
		<-s.watch.done
	}
}
