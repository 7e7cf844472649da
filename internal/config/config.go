// Package config holds PhantomOS configuration, loaded from the environment
// through a getenv function (never from globals) and overridden by flags.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything the server needs to start.
type Config struct {
	// DatabaseURL is a postgres:// URL or a SQLite file path.
	DatabaseURL string
	// Addr is the listen address of the HTTP server.
	Addr string
	// BaseURL is the public address, used in links sent by email and to
	// decide whether cookies are Secure.
	BaseURL string
	// Demo loads the demo publisher when missing and offers "Explore the demo".
	Demo bool
	// SecretKey encrypts connector credentials (base64, 32 bytes).
	SecretKey string
	// AnthropicAPIKey enables the Claude features when set.
	AnthropicAPIKey string
	// AnthropicModel is the Claude model that reads the questions the
	// local Ask interpreter cannot (ANTHROPIC_MODEL); "" means the
	// default.
	AnthropicModel string
	// AnthropicBaseURL replaces the Messages API address for Ask
	// (PHANTOMOS_ANTHROPIC_BASE_URL): for tests and demos against a fake,
	// never in production.
	AnthropicBaseURL string
	// SMTPURL enables invitation emails when set.
	SMTPURL string
	// Signup is "open" or "closed".
	Signup string
	// DataDir holds files beside the database, such as the generated
	// credential key: PHANTOMOS_DATA_DIR, else the SQLite file's folder, else
	// the working directory.
	DataDir string
	// ScheduleEvery is the period of the periodic schedule job
	// (PHANTOMOS_SCHEDULE_EVERY, a Go duration such as 10m; 0: the
	// default).
	ScheduleEvery time.Duration
	// JobTimeout bounds one attempt at a sync or an import
	// (PHANTOMOS_JOB_TIMEOUT; 0: the default). A job left running longer
	// than a little more than this by a process that died is handed to
	// another.
	JobTimeout time.Duration
	// WorkerID names this process among the queue's clients
	// (PHANTOMOS_WORKER_ID), as jobs record who ran them; "" lets the
	// queue choose.
	WorkerID string
	// PullCAFile names a PEM file of certificate authorities that
	// scheduled pulls trust beside the system's (PHANTOMOS_PULL_CA_FILE):
	// for files served by a company's own CA, such as an internal ERP.
	PullCAFile string

	// invalid are the settings that could not be read, for Validate.
	invalid []string
}

// Bounds of the job settings.
const (
	minScheduleEvery = time.Second
	maxScheduleEvery = 24 * time.Hour
	minJobTimeout    = time.Second
	maxJobTimeout    = 6 * time.Hour
	maxWorkerID      = 64
)

// DataDirectory returns DataDir, or where it defaults to.
func (c Config) DataDirectory() string {
	switch {
	case c.DataDir != "":
		return c.DataDir
	case strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		return "."
	}
	path := strings.TrimPrefix(strings.TrimPrefix(c.DatabaseURL, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return filepath.Dir(path)
}

// Load reads the configuration from the environment.
func Load(getenv func(string) string) Config {
	c := Config{
		DatabaseURL:      getenv("DATABASE_URL"),
		Addr:             getenv("PHANTOMOS_ADDR"),
		BaseURL:          getenv("PHANTOMOS_BASE_URL"),
		SecretKey:        getenv("PHANTOMOS_SECRET_KEY"),
		AnthropicAPIKey:  getenv("ANTHROPIC_API_KEY"),
		AnthropicModel:   getenv("ANTHROPIC_MODEL"),
		SMTPURL:          getenv("PHANTOMOS_SMTP_URL"),
		Signup:           getenv("PHANTOMOS_SIGNUP"),
		DataDir:          getenv("PHANTOMOS_DATA_DIR"),
		AnthropicBaseURL: getenv("PHANTOMOS_ANTHROPIC_BASE_URL"),
		PullCAFile:       getenv("PHANTOMOS_PULL_CA_FILE"),
	}
	c.WorkerID = getenv("PHANTOMOS_WORKER_ID")
	c.ScheduleEvery = c.duration(getenv, "PHANTOMOS_SCHEDULE_EVERY", minScheduleEvery, maxScheduleEvery)
	c.JobTimeout = c.duration(getenv, "PHANTOMOS_JOB_TIMEOUT", minJobTimeout, maxJobTimeout)
	switch strings.ToLower(getenv("PHANTOMOS_DEMO")) {
	case "1", "true", "yes", "on":
		c.Demo = true
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "phantomos.db"
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.Signup == "" {
		c.Signup = "open"
	}
	return c
}

// duration reads variable name as a Go duration between lo and hi; an
// unset one is 0, a bad one is recorded for Validate.
func (c *Config) duration(getenv func(string) string, name string, lo, hi time.Duration) time.Duration {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		c.invalid = append(c.invalid, fmt.Sprintf("%s %q must be a duration between %s and %s (such as 10m)", name, v, lo, hi))
		return 0
	}
	return d
}

// Validate reports the first setting that cannot work, naming it.
func (c Config) Validate() error {
	if len(c.invalid) > 0 {
		return errors.New(c.invalid[0])
	}
	if len(c.WorkerID) > maxWorkerID || strings.ContainsFunc(c.WorkerID, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
	}) {
		return fmt.Errorf("PHANTOMOS_WORKER_ID %q must be at most %d letters, digits, dots, dashes or underscores", c.WorkerID, maxWorkerID)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("PHANTOMOS_BASE_URL %q must be an absolute http or https URL", c.BaseURL)
		}
	}
	if c.Signup != "open" && c.Signup != "closed" {
		return fmt.Errorf("PHANTOMOS_SIGNUP %q must be open or closed", c.Signup)
	}
	if strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		if _, err := url.Parse(c.DatabaseURL); err != nil {
			return fmt.Errorf("DATABASE_URL is not a valid URL: %v", err)
		}
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return fmt.Errorf("PHANTOMOS_SMTP_URL must look like smtp://user:pass@host:587")
		}
	}
	return nil
}

// SecureCookies reports whether cookies must carry the Secure flag: when the
// public address is https.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }
