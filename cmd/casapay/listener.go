package main

import (
	"container/list"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// stalledWrite is how long an answer may wait on a client that does not read before, with the cap
// reached, its connection may give its place to a new one.
const stalledWrite = time.Second

// capListener accepts at most max connections open at once. When a connection comes over the cap, the
// listener makes room by closing one that serves nobody: the one idle longest (connected with no request
// yet, or kept alive between requests), or else one whose answer has waited longest, over
// stalledWrite, on a client that does not read. With neither, the new connection is closed at once,
// not left waiting in the accept queue. So idle or hoarded connections cannot keep new clients out, and
// the process keeps the file descriptors it needs for the clients it serves and for its database.
//
// The http.Server serving it must report connection states to ConnState.
type capListener struct {
	net.Listener
	max int

	mu     sync.Mutex
	open   int
	idle   list.List // *cappedConn with no request in progress, the longest idle first
	active list.List // *cappedConn with a request in progress, the longest active first
}

func newCapListener(l net.Listener, max int) *capListener {
	return &capListener{Listener: l, max: max}
}

// listenCapped listens on the TCP address, capped at max connections open at once.
func listenCapped(address string, max int) (*capListener, error) {
	l, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", address, err)
	}
	return newCapListener(l, max), nil
}

// Accept returns the next connection, making room under the cap or closing it at once.
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		var victim *cappedConn
		if l.open >= l.max {
			victim = l.victim()
		}
		if l.open >= l.max && victim == nil {
			l.mu.Unlock()
			c.Close()
			continue
		}
		cc := &cappedConn{Conn: c, l: l}
		cc.elem = l.idle.PushBack(cc) // new: idle until its first request
		l.open++
		if victim != nil {
			victim.forget() // its place is the new connection's from now
		}
		l.mu.Unlock()
		if victim != nil {
			victim.Conn.Close()
		}
		return cc, nil
	}
}

// victim returns the connection to close for a new one, or nil. l.mu is held.
func (l *capListener) victim() *cappedConn {
	if e := l.idle.Front(); e != nil {
		return e.Value.(*cappedConn)
	}
	// A stalled answer is likely among the connections active longest; look at a few, not all.
	now := time.Now().UnixNano()
	seen := 0
	for e := l.active.Front(); e != nil && seen < 64; e, seen = e.Next(), seen+1 {
		c := e.Value.(*cappedConn)
		if since := c.writing.Load(); since != 0 && now-since > int64(stalledWrite) {
			return c
		}
	}
	return nil
}

// ConnState moves a connection between the idle and active lists as the server reports its state.
func (l *capListener) ConnState(nc net.Conn, state http.ConnState) {
	c, ok := nc.(*cappedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c.elem == nil { // closed, or given up for a new connection
		return
	}
	switch state {
	case http.StateActive:
		c.list().Remove(c.elem)
		c.elem, c.isActive = l.active.PushBack(c), true
	case http.StateIdle:
		c.list().Remove(c.elem)
		c.elem, c.isActive = l.idle.PushBack(c), false
	}
}

// cappedConn is a connection under the cap. It gives its place back once, when it is closed, and keeps
// when its current Write began, to tell a client that does not read.
type cappedConn struct {
	net.Conn
	l        *capListener
	elem     *list.Element // in l.idle or l.active; nil once its place is given back. Guarded by l.mu.
	isActive bool          // guarded by l.mu
	writing  atomic.Int64  // Unix nanoseconds when the Write in progress began, 0 with none
}

func (c *cappedConn) Write(p []byte) (int, error) {
	c.writing.Store(time.Now().UnixNano())
	defer c.writing.Store(0)
	return c.Conn.Write(p)
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.l.mu.Lock()
	c.forget()
	c.l.mu.Unlock()
	return err
}

// forget gives c's place back, once. l.mu is held.
func (c *cappedConn) forget() {
	if c.elem == nil {
		return
	}
	c.list().Remove(c.elem)
	c.elem = nil
	c.l.open--
}

// list returns the list c is in. l.mu is held.
func (c *cappedConn) list() *list.List {
	if c.isActive {
		return &c.l.active
	}
	return &c.l.idle
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
