// Package mailtest is an in-process SMTP server for tests: it speaks enough
// of RFC 5321 (EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) for net/smtp and
// keeps every message it receives.
package mailtest

import (
	"bufio"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// Mail is a received message.
type Mail struct {
	From string
	To   []string
	Data string // headers and decoded body (a multipart body as it came)
	Raw  string // headers and body as they came
}

// Part is one leaf of a MIME message, its body decoded.
type Part struct {
	ContentType string // without parameters
	Filename    string
	ContentID   string // without the angle brackets
	Body        []byte
}

// Header returns the value of header key of m.
func (m Mail) Header(key string) string {
	msg, err := mail.ReadMessage(strings.NewReader(m.Raw))
	if err != nil {
		return ""
	}
	return msg.Header.Get(key)
}

// Parts returns the leaves of m's MIME tree in order (one for a
// single-part message), each decoded from quoted-printable or base64.
func (m Mail) Parts() ([]Part, error) {
	msg, err := mail.ReadMessage(strings.NewReader(m.Raw))
	if err != nil {
		return nil, err
	}
	var out []Part
	err = walk(textproto.MIMEHeader(msg.Header), msg.Body, &out)
	return out, err
}

func walk(h textproto.MIMEHeader, body io.Reader, out *[]Part) error {
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct, params = "text/plain", nil
	}
	if strings.HasPrefix(ct, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header, p, out); err != nil {
				return err
			}
		}
	}
	var dec io.Reader = body
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "base64":
		dec = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		dec = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(dec)
	if err != nil {
		return err
	}
	p := Part{ContentType: ct, ContentID: strings.Trim(h.Get("Content-ID"), "<>"), Body: b}
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		p.Filename = dp["filename"]
	}
	*out = append(*out, p)
	return nil
}

// Server is a fake SMTP server on 127.0.0.1.
type Server struct {
	Addr string
	ln   net.Listener
	mu   sync.Mutex
	mail []Mail
	// refuse is how many more messages are refused with a temporary
	// failure (Refuse).
	refuse int
}

// Refuse makes the server refuse the next n messages with a temporary
// failure (451 at MAIL FROM), as a mail server under load or greylisting
// does.
func (s *Server) Refuse(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = n
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
			s.mu.Lock()
			refused := s.refuse > 0
			if refused {
				s.refuse--
			}
			s.mu.Unlock()
			if refused {
				tp.PrintfLine("451 4.3.0 Try again later")
				continue
			}
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
			m.Raw = string(raw)
			if strings.Contains(strings.ToLower(head), "content-type: multipart/") {
				m.Data = m.Raw
			} else {
				dec, _ := io.ReadAll(quotedprintable.NewReader(bufio.NewReader(strings.NewReader(body))))
				m.Data = head + "\n\n" + string(dec)
			}
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
