package auth

import (
	"strings"
	"unicode/utf8"

	"github.com/phantomos/phantomos"
)

// MaxPasswordLength bounds the work of hashing an attacker-sized password.
const MaxPasswordLength = 256

// commonPasswords are passwords that appear at the top of every leaked
// password list; long enough to pass the length rule, too common to allow.
// Comparison is case-insensitive.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`
		1234567890 0123456789 12345678910 1234567890a 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc
		qwertyuiop qwerty12345 qwerty123456 qwertyuiop1 asdfghjkl; asdfghjkl1 zxcvbnm123
		password12 password123 password1234 password1! passw0rd123 p@ssw0rd123 p@ssword123
		iloveyou12 iloveyou123 letmein123 welcome123 welcome1234 admin12345 administrator
		abc1234567 abcdefghij abcd123456 aaaaaaaaaa 1111111111 0000000000 9876543210
		football12 baseball12 basketball superman12 batman1234 princess12 sunshine12
		starwars12 pokemon123 minecraft1 fortnite12 trustno1234 dragon1234 monkey1234
		changeme12 changeme123 secret1234 master1234 qazwsxedc1 computer12 internet12
		phantomos1 phantomos123 passwordpassword 1234512345 123123123123 123454321
		michael123 jennifer12 whatever12 liverpool1 chelsea123 arsenal123 manchester
		charlie123 shadow1234 freedom123 mustang123 jordan2323 harley1234 ranger1234
		summer2024 summer2025 summer2026 winter2024 winter2025 winter2026 spring2025
		autumn2025 january2025 password2024 password2025 password2026 welcome2025 welcome2026
		qwerty2025 admin2025 letmein2025 hello12345 hellohello loveyou123 asdf123456
		zaq12wsxcde 1qaz2wsx3e 123qweasdzxc qweasdzxc123 11223344556 q1w2e3r4t5 a1b2c3d4e5`) {
		m[p] = true
	}
	return m
}()

// CheckPasswordPolicy returns an EINVALID error explaining why password is
// not acceptable, or nil: at least MinPasswordLength characters, at most
// MaxPasswordLength, not a well-known password, not the email itself.
func CheckPasswordPolicy(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return phantomos.Errorf(phantomos.EINVALID, "Use a password of at least %d characters.", MinPasswordLength)
	case n > MaxPasswordLength:
		return phantomos.Errorf(phantomos.EINVALID, "Use a password of at most %d characters.", MaxPasswordLength)
	}
	lower := strings.ToLower(password)
	if commonPasswords[lower] || isRepetitive(lower) {
		return phantomos.Errorf(phantomos.EINVALID, "This password is among the most common ones. Choose another.")
	}
	if email != "" && (lower == strings.ToLower(email) || lower == strings.ToLower(strings.Split(email, "@")[0])) {
		return phantomos.Errorf(phantomos.EINVALID, "Your password must not be your email address.")
	}
	return nil
}

// isRepetitive catches one or two characters repeated ("aaaaaaaaaa",
// "abababababab").
func isRepetitive(s string) bool {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
		if len(seen) > 2 {
			return false
		}
	}
	return true
}
