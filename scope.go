package phantomos

// Scopes of an API key. A full key acts with its role on every route its
// role allows; an ingest key may only push sales and products (the push
// API) and reads nothing, so a system that sends data holds no key that
// could read the publisher's numbers.
const (
	ScopeFull   = "full"
	ScopeIngest = "ingest"
)
