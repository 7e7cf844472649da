package phantomos

import "context"

// Actor is who is making a request: a signed-in user or an API key, always
// within one publisher.
type Actor struct {
	PublisherID PublisherID
	UserID      string // empty for API keys
	Role        Role
	SessionID   string // empty for API keys
	APIKeyID    string // empty for sessions
	Scope       string // an API key's scope (ScopeFull, ScopeIngest); empty for sessions
	Email       string
	Name        string
}

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx, nil when the request is anonymous.
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}
