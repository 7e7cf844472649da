// Package secret encrypts connector credentials at rest with AES-256-GCM.
//
// A Keyring holds the current key, which seals everything new, and older
// keys, which still open what they sealed. Each ciphertext is stored beside
// the id of the key that sealed it, so keys rotate without downtime: put a
// new key first, re-seal the stored credentials (Keyring.Reseal), then drop
// the old key.
//
// Keys come from PHANTOMOS_SECRET_KEY or, when that is unset, from a key
// file in the data directory that is generated on first start. A key is 32
// random bytes written as base64 or hex; a list "id:key,id:key" (ids
// optional) names several, the first being current. Weak keys (wrong
// length, repeated or patterned bytes, text) are refused.
package secret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// KeyFile is the name of the generated key file in the data directory.
const KeyFile = "secret.key"

// EnvVar is the environment variable that holds the keys.
const EnvVar = "PHANTOMOS_SECRET_KEY"

// format is the first byte of every ciphertext, so the layout can change
// later without guessing.
const format = 1

// ErrDecrypt is returned when a ciphertext does not open: wrong key, wrong
// associated data, or tampered bytes.
var ErrDecrypt = errors.New("secret: ciphertext does not decrypt (wrong key or tampered data)")

// Keyring holds the current key and the older keys that still decrypt. It
// is immutable and safe for concurrent use.
type Keyring struct {
	current string
	ids     []string // current first
	aeads   map[string]cipher.AEAD
	origin  string
}

// NewKeyring returns a keyring whose current key is the first of keys.
// Each key must be KeySize strong random bytes; ids must be unique, and an
// empty id is derived from the key.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("secret: no key")
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, key := range keys {
		if err := CheckKey(key.Bytes); err != nil {
			return nil, fmt.Errorf("secret: key %d: %w", i+1, err)
		}
		id := key.ID
		if id == "" {
			id = DeriveID(key.Bytes)
		}
		if !validID(id) {
			return nil, fmt.Errorf("secret: key %d: id %q must be 1-32 letters, digits, '-' or '_'", i+1, id)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("secret: key id %q appears twice", id)
		}
		block, err := aes.NewCipher(key.Bytes)
		if err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret: %w", err)
		}
		k.aeads[id] = aead
		k.ids = append(k.ids, id)
	}
	k.current = k.ids[0]
	return k, nil
}

// Key is one key of a keyring.
type Key struct {
	ID    string
	Bytes []byte
}

// CurrentID returns the id of the key that seals.
func (k *Keyring) CurrentID() string { return k.current }

// IDs returns the ids of all keys, current first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// Origin says where the keys came from ("PHANTOMOS_SECRET_KEY", or the key
// file's path, with "(created)" when it was generated now), for the start-up
// log line. It never contains key material.
func (k *Keyring) Origin() string { return k.origin }

// Seal encrypts plaintext with the current key and returns the ciphertext
// and the id of the key, which must be stored beside it.
func (k *Keyring) Seal(plaintext []byte) ([]byte, string, error) {
	return k.SealFor(plaintext, nil)
}

// Open decrypts a ciphertext sealed by the key keyID.
func (k *Keyring) Open(ciphertext []byte, keyID string) ([]byte, error) {
	return k.OpenFor(ciphertext, keyID, nil)
}

// SealFor is Seal with associated data: the ciphertext only opens with the
// same data, so a ciphertext copied to another row (another tenant's
// connector) does not decrypt there. Callers pass the row's identity.
func (k *Keyring) SealFor(plaintext, associated []byte) ([]byte, string, error) {
	aead := k.aeads[k.current]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = format
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, "", fmt.Errorf("secret: nonce: %w", err)
	}
	out = aead.Seal(out, out[1:1+aead.NonceSize()], plaintext, associated)
	return out, k.current, nil
}

// OpenFor decrypts a ciphertext sealed by SealFor with the same associated data.
func (k *Keyring) OpenFor(ciphertext []byte, keyID string, associated []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("secret: key %q is not in the keyring (was it removed from %s before its credentials were re-sealed?)", keyID, EnvVar)
	}
	n := aead.NonceSize()
	if len(ciphertext) < 1+n+aead.Overhead() || ciphertext[0] != format {
		return nil, ErrDecrypt
	}
	plain, err := aead.Open(nil, ciphertext[1:1+n], ciphertext[1+n:], associated)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// Reseal re-encrypts a ciphertext of key keyID under the current key. It
// reports changed=false, returning the input, when keyID is already current.
func (k *Keyring) Reseal(ciphertext []byte, keyID string, associated []byte) (out []byte, newID string, changed bool, err error) {
	if keyID == k.current {
		return ciphertext, keyID, false, nil
	}
	plain, err := k.OpenFor(ciphertext, keyID, associated)
	if err != nil {
		return nil, "", false, err
	}
	out, newID, err = k.SealFor(plain, associated)
	clear(plain)
	return out, newID, err == nil, err
}

// DeriveID returns the id of a key given without one: a short fingerprint
// that is stable across restarts and reveals nothing usable about the key.
func DeriveID(key []byte) string {
	sum := sha256.Sum256(append([]byte("phantomos key id\x00"), key...))
	return "k" + hex.EncodeToString(sum[:4])
}

func validID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Parse reads a key list: "KEY" or "id:KEY,id:KEY,…" (ids optional), the
// first being current. Each KEY is 32 bytes in standard or URL base64
// (padded or not) or 64 hex digits. Spaces and newlines around entries are
// ignored. Errors never echo key material.
func Parse(s string) (*Keyring, error) {
	var keys []Key
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		var id string
		if before, after, ok := strings.Cut(entry, ":"); ok {
			id, entry = strings.TrimSpace(before), strings.TrimSpace(after)
		}
		b, err := decodeKey(entry)
		if err != nil {
			return nil, fmt.Errorf("secret: entry %d: %w", i+1, err)
		}
		keys = append(keys, Key{ID: id, Bytes: b})
	}
	if len(keys) == 0 {
		return nil, errors.New("secret: no key given")
	}
	return NewKeyring(keys...)
}

func decodeKey(s string) ([]byte, error) {
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("key decodes to %d bytes, want %d (generate one with: openssl rand -base64 32)", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("key is neither base64 nor hex of %d bytes (generate one with: openssl rand -base64 32)", KeySize)
}

// CheckKey refuses keys that are not plausibly random: the wrong length,
// one repeated byte, a constant step (0,1,2,…), few distinct bytes, low
// byte entropy, or only printable ASCII (a password, not a key). The
// thresholds are far below what 32 random bytes ever show (a random key has
// about 30 distinct bytes; fewer than 20 happens with probability far below
// 1e-9), so a real key is never refused.
func CheckKey(b []byte) error {
	if len(b) != KeySize {
		return fmt.Errorf("key is %d bytes, want %d", len(b), KeySize)
	}
	step := b[1] - b[0]
	constStep := true
	printable := true
	var counts [256]int
	for i, c := range b {
		counts[c]++
		if i > 0 && b[i]-b[i-1] != step {
			constStep = false
		}
		if c < 0x20 || c > 0x7e {
			printable = false
		}
	}
	distinct := 0
	entropy := 0.0
	for _, n := range counts {
		if n == 0 {
			continue
		}
		distinct++
		p := float64(n) / KeySize
		entropy -= p * math.Log2(p)
	}
	switch {
	case distinct == 1:
		return errors.New("key is weak: every byte is the same")
	case constStep:
		return errors.New("key is weak: its bytes follow a fixed pattern")
	case printable:
		return errors.New("key is weak: it is printable text, not random bytes (generate one with: openssl rand -base64 32)")
	case distinct < 20 || entropy < 4.0:
		return fmt.Errorf("key is weak: only %d distinct bytes (%.1f bits of entropy per byte); use 32 random bytes", distinct, entropy)
	}
	return nil
}

// Generate returns a new random key, base64 encoded.
func Generate() string {
	for {
		b := make([]byte, KeySize)
		rand.Read(b) // never fails (crypto/rand panics rather than return short)
		if CheckKey(b) == nil {
			return base64.StdEncoding.EncodeToString(b)
		}
	}
}

// LoadOrCreate returns the keyring of env (the value of
// PHANTOMOS_SECRET_KEY) when it is set, and otherwise the one in dir's key
// file, which it creates with a fresh key (mode 0600) when it does not
// exist. A weak or malformed key is an error in both cases: the server must
// not start with credentials it cannot protect.
func LoadOrCreate(dir, env string) (*Keyring, error) {
	if strings.TrimSpace(env) != "" {
		k, err := Parse(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvVar, err)
		}
		k.origin = EnvVar
		return k, nil
	}
	path := filepath.Join(dir, KeyFile)
	k, err := loadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secret: create %s: %w", dir, err)
	}
	content := "# PhantomOS credential encryption keys: id:key, current first. Keep a backup;\n" +
		"# without it stored connector credentials cannot be decrypted.\n" +
		"k1:" + Generate() + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first; use theirs.
		return loadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("secret: create %s: %w", path, err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("secret: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("secret: write %s: %w", path, err)
	}
	k, err = loadFile(path)
	if k != nil {
		k.origin = path + " (created)"
	}
	return k, err
}

func loadFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret: %s is readable by other users (mode %v); run chmod 600 on it", path, fi.Mode().Perm())
	}
	k, err := Parse(fileEntries(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	k.origin = path
	return k, nil
}

// fileEntries turns a key file (one entry a line, # comments) into a list.
func fileEntries(b []byte) string {
	var entries []string
	for line := range bytes.Lines(b) {
		s := strings.TrimSpace(string(line))
		if s != "" && !strings.HasPrefix(s, "#") {
			entries = append(entries, s)
		}
	}
	return strings.Join(entries, ",")
}

// RotateFile puts a new current key at the top of dir's key file, keeping
// the older keys so existing ciphertexts still open, and returns the new
// keyring. Re-seal the stored credentials with it afterwards; once none
// uses an old key, that key can be deleted from the file.
func RotateFile(dir string) (*Keyring, error) {
	path := filepath.Join(dir, KeyFile)
	old, err := loadFile(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	id := ""
	for n := len(old.ids) + 1; ; n++ {
		id = fmt.Sprintf("k%d", n)
		if _, taken := old.aeads[id]; !taken {
			break
		}
	}
	var out bytes.Buffer
	inserted := false
	for line := range bytes.Lines(b) {
		s := strings.TrimSpace(string(line))
		if !inserted && s != "" && !strings.HasPrefix(s, "#") {
			out.WriteString(id + ":" + Generate() + "\n")
			inserted = true
		}
		out.Write(line)
		if len(line) > 0 && line[len(line)-1] != '\n' {
			out.WriteByte('\n')
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("secret: rotate: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("secret: rotate: %w", err)
	}
	return loadFile(path)
}
