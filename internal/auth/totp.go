package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// NewTOTP generates a TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s) for
// account in the authenticator app under issuer. It returns the secret and
// the otpauth:// URL to show as a QR code or type in.
func NewTOTP(issuer, account string) (secret, url string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account})
	if err != nil {
		return "", "", err
	}
	return key.Secret(), key.URL(), nil
}

// totpPeriod is the length of one TOTP time step (RFC 6238's default).
const totpPeriod = 30

// CheckTOTP reports whether code is valid for secret at t, allowing one
// 30-second step of clock drift either way.
func CheckTOTP(secret, code string, t time.Time) bool {
	_, ok := TOTPStep(secret, code, t)
	return ok
}

// TOTPStep returns the time step (Unix time / 30 s) whose code code is, when
// it is valid for secret at t, allowing one step of clock drift either way.
// A code must be accepted once only: callers record the step and refuse any
// step not after the last one accepted (store.AcceptTOTPStep).
func TOTPStep(secret, code string, t time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	now := t.Unix() / totpPeriod
	for step := now - 1; step <= now+1; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// recoveryAlphabet avoids characters that read alike (0/O, 1/l/I).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewRecoveryCodes returns n one-time recovery codes like "k7m2-q9xz-4hta".
// Store only HashRecoveryCode of each.
func NewRecoveryCodes(n int) []string {
	codes := make([]string, n)
	for i := range codes {
		b := make([]byte, 12)
		rand.Read(b)
		var sb strings.Builder
		for j, c := range b {
			if j > 0 && j%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		codes[i] = sb.String()
	}
	return codes
}

// HashRecoveryCode normalises a typed recovery code (case, spaces, dashes)
// and hashes it for storage and comparison.
func HashRecoveryCode(code string) string {
	c := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
	return HashToken(c)
}
