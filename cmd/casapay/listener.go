package main

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// capListener accepts at most max connections open at once. One beyond is closed at once, not left
// waiting in the accept queue: a client over the cap learns it at once, and the process keeps the file
// descriptors it needs for the clients it serves and for its database.
type capListener struct {
	net.Listener
	max  int64
	open atomic.Int64
}

func newCapListener(l net.Listener, max int) *capListener {
	return &capListener{Listener: l, max: int64(max)}
}

// Accept returns the next connection under the cap, closing those over it as they come.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			c.Close()
			continue
		}
		return &cappedConn{Conn: c, l: l}, nil
	}
}

// cappedConn gives its place back once, when it is closed.
type cappedConn struct {
	net.Conn
	l    *capListener
	once sync.Once
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// defaultConnectionCaps returns the caps on open connections of the API and of each of the metrics and
// pprof listeners: the API gets most of the file descriptors the process may open, less some for the
// database, the log and the other listeners, which get a few each.
func defaultConnectionCaps() (api, other int) {
	const minAPI, others = 64, 32
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 1000, others
	}
	limit := int(min(rl.Cur, 1<<20))
	return max(minAPI, limit*3/4-2*others-64), others
}
