package web

import (
	"net"
	"net/http"
	"strings"
)

// publicBase is the address absolute links start with (invitation links,
// the OAuth callback): scheme and host, no trailing slash.
//
// The configured base URL (PHANTOMOS_BASE_URL) always wins. Without it the
// request's Host header, which any client sets as it likes, is used only
// when it names a loopback host (localhost, 127.0.0.1, ::1) or the host of
// the listen address: a development or single-machine set-up. Any other
// Host falls back to http://localhost with the listen port, so a spoofed
// Host never lands in a link that is mailed or shown; production sets the
// base URL.
func publicBase(configured, listen string, r *http.Request) string {
	if configured != "" {
		return strings.TrimRight(configured, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	listenHost, listenPort, err := net.SplitHostPort(listen)
	if err != nil {
		listenHost, listenPort = "", ""
	}
	if allowedHost(r.Host, listenHost) {
		return scheme + "://" + r.Host
	}
	base := scheme + "://localhost"
	if listenPort != "" && listenPort != "0" {
		base += ":" + listenPort
	}
	return base
}

// allowedHost reports whether hostport (a Host header) names this machine
// as seen from itself or the configured listen host, and is well formed.
func allowedHost(hostport, listenHost string) bool {
	if hostport == "" || len(hostport) > 300 || strings.ContainsAny(hostport, "/\\@?#%\"'<> \t\r\n") {
		return false
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
		if strings.Contains(host, ":") {
			return false // a bare IPv6 address must be bracketed
		}
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	if lh := strings.ToLower(listenHost); lh != "" {
		if ip := net.ParseIP(lh); ip != nil && ip.IsUnspecified() {
			return false // 0.0.0.0 or :: names no host
		}
		return host == lh
	}
	return false
}
