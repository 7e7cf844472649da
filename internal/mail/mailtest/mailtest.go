// Package mailtest is an in-process SMTP server for tests: it speaks enough
// of RFC 5321 (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) for net/smtp and
// keeps every message it receives.
package mailtest

import (
	"bufio"
	"io"
	"mime/quotedprintable"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// Mail is a received message.
type Mail struct {
	From string
	To   []string
	Data string // headers and decoded body
}

// Server is a fake SMTP server on 127.0.0.1.
type Server struct {
	Addr string
	ln   net.Listener
	mu   sync.Mutex
	mail []Mail
}

// New starts a server, stopped at the end of the test.
func New(t testing.TB) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln}
	go s.serve()
	t.Cleanup(func() { ln.Close() })
	return s
}

// Messages returns what the server received so far.
func (s *Server) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mail...)
}

func (s *Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.handle(c)
	}
}

func (s *Server) handle(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	tp.PrintfLine("220 mailtest ESMTP")
	var m Mail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		cmd := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			tp.PrintfLine("250-mailtest")
			tp.PrintfLine("250 AUTH PLAIN")
		case strings.HasPrefix(cmd, "AUTH"):
			tp.PrintfLine("235 2.7.0 Authentication successful")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = Mail{From: strings.Trim(line[len("MAIL FROM:"):], "<> ")}
			tp.PrintfLine("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.To = append(m.To, strings.Trim(line[len("RCPT TO:"):], "<> "))
			tp.PrintfLine("250 OK")
		case cmd == "DATA":
			tp.PrintfLine("354 End data with <CR><LF>.<CR><LF>")
			raw, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			head, body, _ := strings.Cut(string(raw), "\n\n") // DotReader turns CRLF into LF
			dec, _ := io.ReadAll(quotedprintable.NewReader(bufio.NewReader(strings.NewReader(body))))
			m.Data = head + "\n\n" + string(dec)
			s.mu.Lock()
			s.mail = append(s.mail, m)
			s.mu.Unlock()
			tp.PrintfLine("250 OK")
		case cmd == "QUIT":
			tp.PrintfLine("221 Bye")
			return
		case cmd == "RSET", cmd == "NOOP":
			tp.PrintfLine("250 OK")
		default:
			tp.PrintfLine("502 Command not implemented")
		}
	}
}
