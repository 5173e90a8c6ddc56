package pgwire

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/etlc/etlc/exec/session"
)

// encode concatenates encoded frontend messages.
func encode(t testing.TB, msgs ...pgproto3.FrontendMessage) []byte {
	var buf []byte
	for _, m := range msgs {
		var err error
		if buf, err = m.Encode(buf); err != nil {
			t.Fatal(err)
		}
	}
	return buf
}

// FuzzMessageLoop sends a valid startup message followed by arbitrary
// bytes: whatever they are, the session must end without a panic and the
// server must stay up.
func FuzzMessageLoop(f *testing.F) {
	f.Add(encode(f, &pgproto3.Query{String: "SELECT 1"}))
	f.Add(encode(f, &pgproto3.Query{String: "CREATE TABLE t (a INT); INSERT INTO t VALUES (1); SELECT a, 'x' FROM t"}))
	f.Add(encode(f, &pgproto3.Parse{Name: "s", Query: "SELECT $1 || 'x'"}, &pgproto3.Describe{ObjectType: 'S', Name: "s"},
		&pgproto3.Bind{PreparedStatement: "s", Parameters: [][]byte{[]byte("a")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{}))
	f.Add(encode(f, &pgproto3.Bind{PreparedStatement: "missing"}, &pgproto3.Execute{Portal: "nope"}, &pgproto3.Sync{}))
	f.Add(encode(f, &pgproto3.Parse{Query: "SELECT $1"}, &pgproto3.Bind{Parameters: [][]byte{{1, 2}}, ParameterFormatCodes: []int16{1}},
		&pgproto3.Execute{}, &pgproto3.Close{ObjectType: 'P'}, &pgproto3.Flush{}, &pgproto3.Sync{}))
	f.Add(encode(f, &pgproto3.Query{String: "CREATE TABLE c (a INT, b VARCHAR)"}, &pgproto3.Query{String: "COPY c FROM STDIN (FORMAT csv)"},
		&pgproto3.CopyData{Data: []byte("1,\"x\n")}, &pgproto3.CopyData{Data: []byte("y\"\n2,z\n")}, &pgproto3.CopyDone{},
		&pgproto3.Query{String: "COPY c TO STDOUT (FORMAT binary)"}))
	f.Add(encode(f, &pgproto3.Query{String: "CREATE TABLE c (a INT)"}, &pgproto3.Query{String: "COPY c FROM STDIN BINARY"},
		&pgproto3.CopyData{Data: append([]byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 1, 0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff)}, &pgproto3.CopyDone{}))
	f.Add(encode(f, &pgproto3.Query{String: "BEGIN; DECLARE k CURSOR FOR SELECT 1 AS x"}, &pgproto3.Query{String: "FETCH 2 FROM k"},
		&pgproto3.Query{String: "SELECT 1/0"}, &pgproto3.Query{String: "COMMIT"}))
	f.Add([]byte("Q\x00\x00\x00\x04"))
	f.Add([]byte("B\xff\xff\xff\xff"))
	f.Add([]byte{'P', 0, 0, 0, 8, 0, 0, 0, 0})
	f.Add(encode(f, &pgproto3.FunctionCall{Function: 1}, &pgproto3.CopyData{Data: []byte("x")}, &pgproto3.Terminate{}))

	eng, err := session.Open(context.Background(), filepath.Join(f.TempDir(), "data"), session.Config{})
	if err != nil {
		f.Fatal(err)
	}
	defer eng.Close()
	srv, err := New(Config{Engine: eng})
	if err != nil {
		f.Fatal(err)
	}
	startup := encode(f, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "fuzz", "database": "fuzz"}})
	terminate := encode(f, &pgproto3.Terminate{})

	// A TCP connection on loopback per input: the client sends everything
	// and half-closes, so the server reads the whole input, answers it and
	// then meets the end of the stream.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer ln.Close()

	f.Fuzz(func(t *testing.T, data []byte) {
		cc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			srv.ServeConn(context.Background(), sc)
			close(done)
		}()
		go func() {
			for _, b := range [][]byte{startup, data, terminate} {
				if _, err := cc.Write(b); err != nil {
					break
				}
			}
			cc.(*net.TCPConn).CloseWrite()
		}()
		cc.SetReadDeadline(time.Now().Add(20 * time.Second))
		// The session ends with EOF, or with a reset when the server hung
		// up on a bad message before reading all of the input.
		if _, err := io.Copy(io.Discard, cc); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the session did not end: %v", err)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the session goroutine did not return")
		}
		if n := srv.Panics(); n != 0 {
			t.Fatalf("%d panics while serving the input", n)
		}
	})
}
