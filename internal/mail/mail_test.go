package mail_test

import (
	"context"
	"strings"
	"testing"

	"github.com/phantomos/phantomos/internal/mail"
	"github.com/phantomos/phantomos/internal/mail/mailtest"
)

func TestSMTPSend(t *testing.T) {
	srv := mailtest.New(t)
	// net/smtp only sends PLAIN auth over TLS or to localhost.
	s, err := mail.NewSMTP("smtp://user:pw@localhost:" + strings.Split(srv.Addr, ":")[1] + "?from=noreply@phantomos.test")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mail.Message{To: "ada@example.com", Subject: "Join Nebula Forge — PhantomOS", Body: "Hello Ada,\nfollow https://x.test/invite?token=abc"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "ada@example.com" || msgs[0].From != "noreply@phantomos.test" {
		t.Fatalf("received %+v", msgs)
	}
	if !strings.Contains(msgs[0].Data, "https://x.test/invite?token=abc") || !strings.Contains(msgs[0].Data, "Subject: =?utf-8?q?Join_Nebula_Forge") {
		t.Errorf("message:\n%s", msgs[0].Data)
	}
	if err := s.Send(context.Background(), mail.Message{To: "a@b.c\r\nBcc: x@y.z", Subject: "x"}); err == nil {
		t.Error("header injection accepted")
	}
}

func TestNewSMTPRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"mail.example.com", "smtps://h:465", "http://h"} {
		if _, err := mail.NewSMTP(u); err == nil {
			t.Errorf("NewSMTP(%q) accepted", u)
		}
	}
}

func TestSMTPSendMultipart(t *testing.T) {
	srv := mailtest.New(t)
	s, err := mail.NewSMTP("smtp://localhost:" + strings.Split(srv.Addr, ":")[1] + "?from=noreply@phantomos.test")
	if err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\nnot really, but binary = = =")
	csv := []byte("a,b\n1,2\n")
	m := mail.Message{To: "ada@example.com", Subject: "Weekly", Body: "Plain text ü", HTML: "<p>HTML <img src=\"cid:chart\"></p>",
		Parts:   []mail.Part{{Filename: "chart.png", ContentType: "image/png", ContentID: "chart", Data: png}, {Filename: "r.csv", ContentType: "text/csv", Data: csv}},
		Headers: map[string]string{"List-Unsubscribe": "<https://x.test/u?t=1>"}}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()[0]
	if h := got.Header("List-Unsubscribe"); h != "<https://x.test/u?t=1>" {
		t.Errorf("List-Unsubscribe %q", h)
	}
	parts, err := got.Parts()
	if err != nil {
		t.Fatal(err)
	}
	want := []mailtest.Part{{ContentType: "text/plain", Body: []byte("Plain text ü")}, {ContentType: "text/html", Body: []byte(m.HTML)},
		{ContentType: "image/png", Filename: "chart.png", ContentID: "chart", Body: png}, {ContentType: "text/csv", Filename: "r.csv", Body: csv}}
	if len(parts) != len(want) {
		t.Fatalf("parts %+v", parts)
	}
	for i := range want {
		if parts[i].ContentType != want[i].ContentType || parts[i].Filename != want[i].Filename || parts[i].ContentID != want[i].ContentID ||
			(want[i].Filename == "" && strings.ReplaceAll(string(parts[i].Body), "\r\n", "\n") != string(want[i].Body)) ||
			(want[i].Filename != "" && string(parts[i].Body) != string(want[i].Body)) {
			t.Errorf("part %d: %+v, want %+v", i, parts[i], want[i])
		}
	}
	if err := s.Send(context.Background(), mail.Message{To: "a@b.c", Subject: "x", Headers: map[string]string{"X": "1\r\nBcc: x@y.z"}}); err == nil {
		t.Error("header injection in extra headers accepted")
	}
}
