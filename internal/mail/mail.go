// Package mail sends PhantomOS email (team invitations, notifications,
// digests and reports) over SMTP when
// PHANTOMOS_SMTP_URL is set. Without it, nothing is sent and the web layer
// shows a link to copy instead.
package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Message is one email: plain text, with an HTML alternative, inline
// images and attachments when set.
type Message struct {
	To      string
	Subject string
	Body    string
	// HTML is the HTML alternative of Body (optional).
	HTML string
	// Parts are inline images (with a ContentID the HTML refers to as
	// cid:…) and attachments.
	Parts []Part
	// Headers are extra headers, such as List-Unsubscribe.
	Headers map[string]string
}

// Part is an inline image or an attachment.
type Part struct {
	Filename    string
	ContentType string
	ContentID   string // set: shown inline in the HTML
	Data        []byte
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through an SMTP server described by a URL:
// smtp://user:pass@host:587?from=noreply@example.com (STARTTLS when the
// server offers it) or smtps://… (implicit TLS is not supported by net/smtp
// and is refused at parse time).
type SMTP struct {
	addr string
	host string
	auth smtp.Auth
	from string
}

// NewSMTP parses an SMTP URL.
func NewSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Host == "" {
		return nil, fmt.Errorf("mail: PHANTOMOS_SMTP_URL must look like smtp://user:pass@host:587?from=noreply@example.com")
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "587"
	}
	s := &SMTP{addr: net.JoinHostPort(host, port), host: host, from: u.Query().Get("from")}
	if s.from == "" {
		s.from = "phantomos@" + host
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		s.auth = smtp.PlainAuth("", u.User.Username(), pw, host)
	}
	return s, nil
}

// Send delivers m, giving up after the context's deadline or 30 seconds.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := checkHeaders(m); err != nil {
		return err
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("mail: connect %s: %w", s.addr, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: %s: %w", s.addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return fmt.Errorf("mail: starttls: %w", err)
		}
	}
	if s.auth != nil {
		if err := c.Auth(s.auth); err != nil {
			return fmt.Errorf("mail: auth: %w", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("mail: to %s: %w", m.To, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: data: %w", err)
	}
	if _, err := w.Write(Render(s.from, m, time.Now())); err != nil {
		return fmt.Errorf("mail: write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: send: %w", err)
	}
	return c.Quit()
}

func checkHeaders(m Message) error {
	bad := strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n")
	for k, v := range m.Headers {
		bad = bad || strings.ContainsAny(k, "\r\n:") || strings.ContainsAny(v, "\r\n")
	}
	for _, p := range m.Parts {
		bad = bad || strings.ContainsAny(p.Filename, "\r\n\"") || strings.ContainsAny(p.ContentType, "\r\n") || strings.ContainsAny(p.ContentID, "\r\n<>")
	}
	if bad {
		return fmt.Errorf("mail: header injection refused")
	}
	return nil
}

// Render returns the RFC 5322 text of m: UTF-8, quoted-printable text;
// with HTML or parts, a MIME tree of multipart/mixed (attachments) over
// multipart/related (inline images) over multipart/alternative.
func Render(from string, m Message, date time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: PhantomOS <%s>\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", m.To)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", m.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, m.Headers[k])
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	if m.HTML == "" && len(m.Parts) == 0 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		writeQP(&b, m.Body)
		return b.Bytes()
	}
	var inline, attached []Part
	for _, p := range m.Parts {
		if p.ContentID != "" {
			inline = append(inline, p)
		} else {
			attached = append(attached, p)
		}
	}
	// Each level is written into its own buffer, then framed by its parent.
	alt := func(w *multipart.Writer) {
		text := textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}}
		pw, _ := w.CreatePart(text)
		writeQP(pw, m.Body)
		if m.HTML != "" {
			html := textproto.MIMEHeader{"Content-Type": {"text/html; charset=utf-8"}, "Content-Transfer-Encoding": {"quoted-printable"}}
			pw, _ = w.CreatePart(html)
			writeQP(pw, m.HTML)
		}
	}
	related := func(w *multipart.Writer) {
		nested(w, "multipart/alternative", alt)
		for _, p := range inline {
			writePart(w, p, "inline")
		}
	}
	mixed := func(w *multipart.Writer) {
		if len(inline) > 0 {
			nested(w, "multipart/related", related)
		} else {
			nested(w, "multipart/alternative", alt)
		}
		for _, p := range attached {
			writePart(w, p, "attachment")
		}
	}
	top := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%s\r\n\r\n", top.Boundary())
	mixed(top)
	top.Close()
	return b.Bytes()
}

// nested writes a multipart part of type kind into w, filled by fill.
func nested(w *multipart.Writer, kind string, fill func(*multipart.Writer)) {
	var inner bytes.Buffer
	iw := multipart.NewWriter(&inner)
	fill(iw)
	iw.Close()
	pw, _ := w.CreatePart(textproto.MIMEHeader{"Content-Type": {kind + "; boundary=" + iw.Boundary()}})
	pw.Write(inner.Bytes())
}

func writePart(w *multipart.Writer, p Part, disposition string) {
	h := textproto.MIMEHeader{
		"Content-Type":              {p.ContentType},
		"Content-Transfer-Encoding": {"base64"},
		"Content-Disposition":       {fmt.Sprintf("%s; filename=%q", disposition, p.Filename)},
	}
	if p.ContentID != "" {
		h.Set("Content-ID", "<"+p.ContentID+">")
	}
	pw, _ := w.CreatePart(h)
	enc := base64.StdEncoding.EncodeToString(p.Data)
	for len(enc) > 76 {
		io.WriteString(pw, enc[:76]+"\r\n")
		enc = enc[76:]
	}
	io.WriteString(pw, enc+"\r\n")
}

func writeQP(w io.Writer, s string) {
	qp := quotedprintable.NewWriter(w)
	qp.Write([]byte(strings.ReplaceAll(s, "\n", "\r\n")))
	qp.Close()
}
