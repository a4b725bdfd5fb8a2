package main

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestCapListenerRefusesAtOnce: connections over the cap are closed as soon as they are accepted, and a
// place freed by a closed connection is taken again.
func TestCapListenerRefusesAtOnce(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newCapListener(inner, 2)
	defer l.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dial()
	dial()
	first, second := <-accepted, <-accepted
	over := dial()
	// The third is closed by the listener: reading it ends, with no byte, without waiting on anything.
	over.SetReadDeadline(time.Now().Add(time.Minute)) // bounds a test that would otherwise hang
	if n, err := over.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("a connection over the cap read %d bytes, %v; want it closed (EOF)", n, err)
	}
	first.Close()
	dial()
	select {
	case <-accepted:
	case <-time.After(time.Minute):
		t.Fatal("a freed place was not taken again")
	}
	second.Close()
}
