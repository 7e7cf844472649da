package secret_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phantomos/phantomos/internal/secret"
)

func mustParse(t *testing.T, s string) *secret.Keyring {
	t.Helper()
	k, err := secret.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustParse(t, secret.Generate())
	plain := []byte(`{"access_token":"shpat_123"}`)
	ct, id, err := k.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if id != k.CurrentID() || !strings.HasPrefix(id, "k") {
		t.Errorf("key id = %q, current %q", id, k.CurrentID())
	}
	if bytes.Contains(ct, []byte("shpat_123")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	got, err := k.Open(ct, id)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Two seals of the same plaintext differ (random nonce).
	ct2, _, _ := k.Seal(plain)
	if bytes.Equal(ct, ct2) {
		t.Error("two seals produced the same ciphertext")
	}
	// Any flipped bit is detected.
	for _, i := range []int{0, 1, 13, len(ct) - 1} {
		bad := slices.Clone(ct)
		bad[i] ^= 1
		if _, err := k.Open(bad, id); !errors.Is(err, secret.ErrDecrypt) {
			t.Errorf("flipped byte %d: got %v, want ErrDecrypt", i, err)
		}
	}
	if _, err := k.Open(ct[:10], id); !errors.Is(err, secret.ErrDecrypt) {
		t.Errorf("truncated: got %v", err)
	}
	if _, err := k.Open(ct, "nope"); err == nil || !strings.Contains(err.Error(), "not in the keyring") {
		t.Errorf("unknown key id: got %v", err)
	}
}

func TestAssociatedDataBindsCiphertextToRow(t *testing.T) {
	k := mustParse(t, secret.Generate())
	ct, id, err := k.SealFor([]byte("token"), []byte("pubA/conn1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.OpenFor(ct, id, []byte("pubB/conn1")); !errors.Is(err, secret.ErrDecrypt) {
		t.Errorf("other row: got %v, want ErrDecrypt", err)
	}
	if got, err := k.OpenFor(ct, id, []byte("pubA/conn1")); err != nil || string(got) != "token" {
		t.Errorf("same row: %q, %v", got, err)
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := secret.Generate(), secret.Generate()
	before := mustParse(t, "old:"+oldKey)
	ct, id, _ := before.SealFor([]byte("s3cret"), []byte("row"))
	if id != "old" {
		t.Fatalf("id = %q", id)
	}
	after := mustParse(t, "new:"+newKey+", old:"+oldKey)
	if after.CurrentID() != "new" || !slices.Equal(after.IDs(), []string{"new", "old"}) {
		t.Fatalf("ids = %v", after.IDs())
	}
	// Old ciphertexts still open; re-sealing moves them to the new key.
	out, nid, changed, err := after.Reseal(ct, id, []byte("row"))
	if err != nil || !changed || nid != "new" {
		t.Fatalf("Reseal = %v, %q, %v", changed, nid, err)
	}
	if _, _, changed, _ := after.Reseal(out, nid, []byte("row")); changed {
		t.Error("re-sealing a current ciphertext changed it")
	}
	onlyNew := mustParse(t, "new:"+newKey)
	if got, err := onlyNew.OpenFor(out, nid, []byte("row")); err != nil || string(got) != "s3cret" {
		t.Errorf("after dropping the old key: %q, %v", got, err)
	}
}

func TestParseFormats(t *testing.T) {
	raw := make([]byte, 32)
	copy(raw, []byte{0x9f, 0x12, 0xa7, 0x33, 0x01, 0xfe, 0x5c, 0x88, 0x41, 0xd2, 0x7b, 0x06, 0xe9, 0x3a, 0xc4, 0x50,
		0x2d, 0xb8, 0x67, 0x19, 0xf3, 0x8e, 0x24, 0xaa, 0x0d, 0x71, 0xcf, 0x95, 0x4e, 0xb1, 0x36, 0xea})
	forms := map[string]string{
		"std base64":    base64.StdEncoding.EncodeToString(raw),
		"raw base64":    base64.RawStdEncoding.EncodeToString(raw),
		"url base64":    base64.URLEncoding.EncodeToString(raw),
		"raw url":       base64.RawURLEncoding.EncodeToString(raw),
		"hex":           hex.EncodeToString(raw),
		"with id":       "prod-1:" + base64.StdEncoding.EncodeToString(raw),
		"with newlines": "\n  " + base64.StdEncoding.EncodeToString(raw) + " \n",
	}
	var ids []string
	for name, s := range forms {
		k, err := secret.Parse(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		ids = append(ids, k.CurrentID())
	}
	// The same key gets the same derived id whatever its encoding.
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) != 2 || !slices.Contains(ids, "prod-1") || ids[0] != secret.DeriveID(raw) && ids[1] != secret.DeriveID(raw) {
		t.Errorf("ids = %v", ids)
	}
}

func TestRefusesWeakKeys(t *testing.T) {
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	seq := make([]byte, 32)
	for i := range seq {
		seq[i] = byte(i)
	}
	few := make([]byte, 32)
	for i := range few {
		few[i] = byte(i % 8 * 37)
	}
	skewed := []byte(strings.Repeat("\x00", 13))
	for i := range 19 {
		skewed = append(skewed, byte(0x80+i*3))
	}
	strong := secret.Generate()
	cases := map[string]struct{ in, want string }{
		"empty":          {"", "no key"},
		"short":          {b64(make([]byte, 16)), "16 bytes"},
		"long":           {b64(bytes.Repeat([]byte{1, 2, 3}, 16)), "48 bytes"},
		"not encoded":    {"correct horse battery staple!!", "neither base64 nor hex"},
		"zeros":          {b64(make([]byte, 32)), "every byte is the same"},
		"sequence":       {b64(seq), "fixed pattern"},
		"password":       {b64([]byte("my-super-secret-password-123456!")), "printable text"},
		"few distinct":   {b64(few), "distinct bytes"},
		"low entropy":    {b64(skewed), "distinct bytes"},
		"duplicate id":   {"a:" + strong + ",a:" + secret.Generate(), "appears twice"},
		"bad id":         {"no spaces:" + strong, "id"},
		"second is weak": {strong + "," + b64(make([]byte, 32)), "key 2"},
	}
	for name, c := range cases {
		_, err := secret.Parse(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want error containing %q", name, err, c.want)
		}
		if err != nil && len(c.in) > 20 && strings.Contains(err.Error(), c.in) {
			t.Errorf("%s: error echoes the key", name)
		}
	}
	// Generated keys always pass.
	for range 200 {
		if _, err := secret.Parse(secret.Generate()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := secret.LoadOrCreate(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(k1.Origin(), "(created)") || k1.CurrentID() != "k1" {
		t.Errorf("origin %q id %q", k1.Origin(), k1.CurrentID())
	}
	path := filepath.Join(dir, secret.KeyFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	ct, id, _ := k1.Seal([]byte("x"))
	// A restart reads the same file.
	k2, err := secret.LoadOrCreate(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if k2.Origin() != path {
		t.Errorf("origin = %q", k2.Origin())
	}
	if got, err := k2.Open(ct, id); err != nil || string(got) != "x" {
		t.Fatalf("reopen: %q, %v", got, err)
	}
	// The environment wins over the file.
	env := secret.Generate()
	k3, err := secret.LoadOrCreate(dir, env)
	if err != nil || k3.Origin() != secret.EnvVar || k3.CurrentID() == "k1" {
		t.Fatalf("env: %v, %v", k3, err)
	}
	if _, err := secret.LoadOrCreate(dir, "weak"); err == nil || !strings.Contains(err.Error(), secret.EnvVar) {
		t.Errorf("weak env key: %v", err)
	}
	// Rotation puts a new key first and keeps the old one.
	k4, err := secret.RotateFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k4.CurrentID() != "k2" || !slices.Equal(k4.IDs(), []string{"k2", "k1"}) {
		t.Errorf("after rotate: %v", k4.IDs())
	}
	if got, err := k4.Open(ct, id); err != nil || string(got) != "x" {
		t.Errorf("old ciphertext after rotate: %q, %v", got, err)
	}
	// A key file others can read is refused.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := secret.LoadOrCreate(dir, ""); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable file: %v", err)
	}
	// A weak key in the file is refused too.
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))), 0o600)
	if _, err := secret.LoadOrCreate(dir, ""); err == nil || !strings.Contains(err.Error(), "weak") {
		t.Errorf("weak file key: %v", err)
	}
}
