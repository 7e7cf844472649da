package web

import (
	"github.com/phantomos/phantomos/internal/notify"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/worker"
)

// NotifyOptions configure notifications.
type NotifyOptions struct {
	// AllowPrivateTargets lets webhook and Slack rules reach loopback and
	// private addresses, and Slack rules any URL. Production never sets
	// it (a rule must not reach the server's own network); tests do, to
	// reach their local receivers.
	AllowPrivateTargets bool
}

// notifier is what notifications need beyond the server: keys to seal
// webhook secrets and Slack URLs and to make unsubscribe tokens, and the
// webhook sender.
type notifier struct {
	keys   *secret.Keyring
	sender notify.Sender
	opts   NotifyOptions
}

// EnableNotifications turns on webhook and Slack rules and the weekly
// digest's unsubscribe links, with keys sealing their secrets.
func (s *Server) EnableNotifications(keys *secret.Keyring, opts NotifyOptions) {
	s.notif = &notifier{keys: keys, sender: notify.Sender{AllowPrivate: opts.AllowPrivateTargets}, opts: opts}
	s.work.EnableNotifications(keys, worker.NotifyOptions{AllowPrivateTargets: opts.AllowPrivateTargets})
}
