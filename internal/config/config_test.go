package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c := Load(env(nil))
	if c.DatabaseURL != "phantomos.db" || c.Addr != ":8080" || c.Demo || c.Signup != "open" {
		t.Errorf("defaults = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

func TestLoadEnvironment(t *testing.T) {
	c := Load(env(map[string]string{"DATABASE_URL": "postgres://h/db", "PHANTOMOS_ADDR": ":9", "PHANTOMOS_DEMO": "true", "PHANTOMOS_BASE_URL": "https://x.io"}))
	if c.DatabaseURL != "postgres://h/db" || c.Addr != ":9" || !c.Demo || !c.SecureCookies() {
		t.Errorf("from environment = %+v", c)
	}
}

func TestValidateNamesTheSetting(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PHANTOMOS_BASE_URL": "example.com"}, "PHANTOMOS_BASE_URL"},
		{map[string]string{"PHANTOMOS_SIGNUP": "maybe"}, "PHANTOMOS_SIGNUP"},
		{map[string]string{"PHANTOMOS_SMTP_URL": "mail.example.com"}, "PHANTOMOS_SMTP_URL"},
	} {
		err := Load(env(tc.env)).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%v) = %v, want an error naming %s", tc.env, err, tc.want)
		}
	}
}
