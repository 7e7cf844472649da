package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash %q is not argon2id PHC format", h)
	}
	if err := CheckPassword(h, "correct horse battery"); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := CheckPassword(h, "correct horse batterY"); err != ErrMismatch {
		t.Errorf("wrong password: %v, want mismatch", err)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt is not random")
	}
	for _, bad := range []string{"", "!", "$argon2id$v=19$m=1,t=1,p=1$$", "$bcrypt$x$y$z$w"} {
		if err := CheckPassword(bad, ""); err != ErrMismatch {
			t.Errorf("CheckPassword(%q) = %v, want mismatch", bad, err)
		}
	}
}

func TestTokens(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || len(a) != 43 {
		t.Errorf("tokens %q %q: want distinct 43-char tokens", a, b)
	}
	if h1, h2 := HashToken(a), HashToken(a); h1 == a || len(h1) != 64 || h1 != h2 {
		t.Error("HashToken is not a stable SHA-256 hex digest")
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                   false,
		"password123":             false,
		"PASSWORD123":             false,
		"aaaaaaaaaaaa":            false,
		"abababababab":            false,
		"ada@example.com":         false,
		"correct horse battery":   true,
		"Ünïcödé-pässwörd":        true,
		strings.Repeat("x1", 200): false,
	} {
		err := CheckPasswordPolicy(pw, "ada@example.com")
		if (err == nil) != ok {
			t.Errorf("CheckPasswordPolicy(%q) = %v, want ok=%v", pw, err, ok)
		}
	}
}

func TestTOTPAndRecoveryCodes(t *testing.T) {
	secret, url, err := NewTOTP("PhantomOS", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "otpauth://totp/PhantomOS:ada@example.com?") {
		t.Errorf("url = %s", url)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	code, err := totp.GenerateCode(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckTOTP(secret, code, now) || !CheckTOTP(secret, code, now.Add(30*time.Second)) {
		t.Error("valid code refused")
	}
	if CheckTOTP(secret, code, now.Add(2*time.Minute)) || CheckTOTP(secret, "000000", now) && code != "000000" {
		t.Error("stale or wrong code accepted")
	}
	codes := NewRecoveryCodes(10)
	if len(codes) != 10 || codes[0] == codes[1] || len(codes[0]) != 14 {
		t.Errorf("codes = %v", codes)
	}
	if HashRecoveryCode(codes[0]) != HashRecoveryCode(" "+strings.ToUpper(strings.ReplaceAll(codes[0], "-", ""))+" ") {
		t.Error("recovery code hash is not normalised")
	}
}

// TestTOTPStep: a code names its own time step, within one step of drift
// either way, so that callers can refuse a step used before.
func TestTOTPStep(t *testing.T) {
	secret, _, err := NewTOTP("PhantomOS", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 1, 12, 0, 10, 0, time.UTC)
	step := now.Unix() / 30
	for _, d := range []int64{-1, 0, 1} {
		code, _ := totp.GenerateCode(secret, time.Unix((step+d)*30, 0))
		got, ok := TOTPStep(secret, code, now)
		if !ok || got != step+d {
			t.Errorf("code of step %+d: TOTPStep = %d, %v; want %d, true", d, got, ok, step+d)
		}
	}
	old, _ := totp.GenerateCode(secret, time.Unix((step-2)*30, 0))
	if _, ok := TOTPStep(secret, old, now); ok {
		t.Error("a code two steps old is accepted")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := TOTPStep(secret, bad, now); ok {
			t.Errorf("TOTPStep(%q) accepted", bad)
		}
	}
}
