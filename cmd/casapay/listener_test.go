package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// capServer serves h on a capListener of max connections, as serve does, and returns its address and
// a function that waits until the listener holds idle and active connections.
func capServer(t *testing.T, max int, h http.Handler) (string, func(idle, active int)) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newCapListener(inner, max)
	srv := &http.Server{Handler: h, ConnState: l.ConnState, ReadHeaderTimeout: time.Minute}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	wait := func(idle, active int) {
		t.Helper()
		for range 6000 { // a minute, at most: bounds a test that would otherwise hang
			l.mu.Lock()
			i, a := l.idle.Len(), l.active.Len()
			l.mu.Unlock()
			if i == idle && a == active {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("the listener never held %d idle and %d active connections", idle, active)
	}
	return inner.Addr().String(), wait
}

// rawDial connects and, if request is not empty, sends it; the connection is closed when the test ends.
func rawDial(t *testing.T, addr, request string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if request != "" {
		if _, err := io.WriteString(c, request); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	return c
}

// get sends one GET on a new connection and returns the status, or 0 if the connection was closed first.
func get(t *testing.T, addr, path string) int {
	t.Helper()
	c := rawDial(t, addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(time.Minute)) // bounds a test that would otherwise hang
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// closed reports whether the server closed c, reading at most until a minute passes.
func closed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Minute))
	_, err := io.Copy(io.Discard, c)
	return err == nil // EOF
}

// TestCapListenerMakesRoom: at the cap, a new connection takes the place of the one idle longest; with
// every place serving a request, it is closed at once; and an answer stalled on a client that does not
// read gives its place up too.
func TestCapListenerMakesRoom(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /hold", func(w http.ResponseWriter, r *http.Request) { <-release })
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 1<<20)))
	})

	t.Run("idle", func(t *testing.T) {
		addr, wait := capServer(t, 3, mux)
		first := rawDial(t, addr, "")
		wait(1, 0)
		rawDial(t, addr, "")
		rawDial(t, addr, "")
		wait(3, 0)
		if got := get(t, addr, "/ok"); got != 200 {
			t.Errorf("a new client with the cap held by idle connections: %d, want 200", got)
		}
		if !closed(first) {
			t.Errorf("the connection idle longest was not closed to make room")
		}
	})

	t.Run("busy", func(t *testing.T) {
		addr, wait := capServer(t, 2, mux)
		rawDial(t, addr, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
		rawDial(t, addr, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
		wait(0, 2)
		over := rawDial(t, addr, "")
		if !closed(over) {
			t.Errorf("a connection over a cap of busy ones was not closed at once")
		}
	})

	t.Run("not reading", func(t *testing.T) {
		addr, wait := capServer(t, 2, mux)
		pipeline := strings.Repeat("GET /big HTTP/1.1\r\nHost: x\r\n\r\n", 64) // more than the socket buffers hold
		rawDial(t, addr, pipeline)
		rawDial(t, addr, pipeline)
		wait(0, 2)
		time.Sleep(stalledWrite + 500*time.Millisecond) // their answers stall for longer than stalledWrite
		if got := get(t, addr, "/ok"); got != 200 {
			t.Errorf("a new client with the cap held by clients that do not read: %d, want 200", got)
		}
	})
	close(release)
}
