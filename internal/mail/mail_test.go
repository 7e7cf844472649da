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
