package woocommerce

import (
	"crypto/rand"
	"net/http"
	"net/url"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// The routes of the key-generation flow started from the wizard
// ("Connect with WooCommerce"): the signed-in user posts the store's
// address to authorizePath and is sent to the store's grant page; the
// store POSTs the key it made to keysPath (server to server, with no
// session: the sealed, single-use state in user_id names the publisher,
// the user and the store); the browser then comes back to returnPath,
// which shows the wizard's next step.
const (
	authorizePath = "/connectors/" + Type + "/authorize"
	keysPath      = "/connectors/" + Type + "/keys"
	returnPath    = "/connectors/" + Type + "/return"
)

// MethodAuthorize is the connect method of the key-generation flow.
const MethodAuthorize = "authorize"

// AppName is how the store's grant page names PhantomOS.
const AppName = "PhantomOS"

// flow is the key-generation flow of the server h.
func flow(h platform.Host) (*KeyFlow, error) {
	v := h.Vault()
	if v == nil {
		return nil, phantomos.Errorf(phantomos.EINVALID, "Credential encryption is not configured on this server, so stores cannot be connected.")
	}
	return &KeyFlow{AppName: AppName, Sealer: v, Now: h.Now}, nil
}

// handleAuthorize starts the flow for the store address posted.
func handleAuthorize(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	fail := func(err error) error { return h.ConnectFailed(w, r, p, err) }
	a := phantomos.ActorFrom(r.Context())
	if a == nil {
		return phantomos.Errorf(phantomos.EUNAUTHORIZED, "Sign in to connect a store.")
	}
	if err := r.ParseForm(); err != nil {
		return fail(phantomos.Errorf(phantomos.EINVALID, "The form could not be read."))
	}
	m, _ := p.Info().MethodByID(MethodAuthorize)
	v, err := m.Values(r.PostForm)
	if err != nil {
		return fail(err)
	}
	base, err := NormalizeURL(v["url"])
	if err != nil {
		return fail(phantomos.Errorf(phantomos.EINVALID, "%s", connector.UserMessage(err)))
	}
	st := KeyState{Publisher: a.PublisherID, User: a.UserID, Nonce: rand.Text()}
	if id := r.PostFormValue("connector"); id != "" {
		c, err := h.ConnectorFor(r.Context(), a.PublisherID, p, base, id)
		if err != nil {
			return fail(err)
		}
		st.ConnectorID = c.ID
	}
	public := h.PublicURL(r)
	if u, err := url.Parse(public); err != nil || !(u.Scheme == "https" || u.Scheme == "http" && Loopback(u.Hostname())) {
		return fail(phantomos.Errorf(phantomos.EINVALID,
			"WooCommerce sends keys only to an https address, and this server's address is %s: set PHANTOMOS_BASE_URL to its https address, or paste a key instead.", public))
	}
	f, err := flow(h)
	if err != nil {
		return fail(err)
	}
	if err := h.Nonces().PutOAuthNonce(r.Context(), a.PublisherID, st.Nonce, h.Now().Add(f.TTLOrDefault())); err != nil {
		return err
	}
	u, err := f.AuthorizeURL(base, st, public+returnPath, public+keysPath)
	if err != nil {
		return fail(phantomos.Errorf(phantomos.EINVALID, "%s", connector.UserMessage(err)))
	}
	h.AuditRequest(r, a.PublisherID, "connector.install_started", base, map[string]any{"type": Type})
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

// handleKeys receives the key the store made. It answers 200 only once
// the key is stored and works; any other answer makes WooCommerce delete
// the key and tell the user that the connection failed.
func handleKeys(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	refuse := func(err error) error {
		h.Logger().Warn("woocommerce key callback refused", "err", err)
		status := http.StatusBadRequest
		switch phantomos.ErrorCode(err) {
		case phantomos.EUNAUTHORIZED:
			status = http.StatusUnauthorized
		case phantomos.EFORBIDDEN:
			status = http.StatusForbidden
		case phantomos.ENOTFOUND:
			status = http.StatusNotFound
		case phantomos.EINVALID, phantomos.ECONFLICT:
			status = http.StatusUnprocessableEntity
		case phantomos.EINTERNAL:
			status = http.StatusInternalServerError
		}
		http.Error(w, phantomos.ErrorMessage(err), status)
		return nil
	}
	f, err := flow(h)
	if err != nil {
		return refuse(err)
	}
	cr, st, err := f.ReadCallback(r.Body)
	if err != nil {
		return refuse(err)
	}
	if st.Nonce == "" || st.User == "" {
		return refuse(phantomos.Errorf(phantomos.EUNAUTHORIZED, "This key does not belong to a connection started from the wizard."))
	}
	fresh, err := h.Nonces().ConsumeOAuthNonce(r.Context(), st.Publisher, st.Nonce)
	if err != nil {
		return refuse(err)
	}
	if !fresh {
		return refuse(phantomos.Errorf(phantomos.EUNAUTHORIZED, "This connection was already completed or has expired; start it again."))
	}
	if cr.WebhookSecret, err = newSecret(); err != nil {
		return refuse(err)
	}
	c, err := h.ConnectAs(r, st.Publisher, st.User, p, cr, st.ConnectorID)
	if err != nil {
		return refuse(err)
	}
	h.Logger().Info("woocommerce key received", "publisher", st.Publisher, "connector", c.ID, "permissions", cr.KeyPermissions)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
	return nil
}

// handleReturn is where the store sends the browser back: approved, to the
// connector's setup step; refused, or when the key never arrived, to the
// connect step with the reason.
func handleReturn(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	fail := func(err error) error { return h.ConnectFailed(w, r, p, err) }
	a := phantomos.ActorFrom(r.Context())
	if a == nil {
		return phantomos.Errorf(phantomos.EUNAUTHORIZED, "Sign in to connect a store.")
	}
	f, err := flow(h)
	if err != nil {
		return fail(err)
	}
	q := r.URL.Query()
	st, err := f.OpenState(q.Get("user_id"))
	if err != nil {
		return fail(phantomos.Errorf(phantomos.EINVALID, "%s", phantomos.ErrorMessage(err)))
	}
	if st.Publisher != a.PublisherID || st.User != a.UserID {
		return fail(phantomos.Errorf(phantomos.EINVALID, "This WooCommerce connection was started by someone else. Start connecting again."))
	}
	if !ReturnSucceeded(q) {
		return fail(phantomos.Errorf(phantomos.EINVALID, "The store did not approve the key, so PhantomOS is not connected. Approve it on the store's page, or paste a key instead."))
	}
	c, err := h.ConnectorFor(r.Context(), a.PublisherID, p, st.URL, st.ConnectorID)
	if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
		return fail(phantomos.Errorf(phantomos.EINVALID, "WooCommerce approved the key but PhantomOS did not receive it. Start again, or paste a key instead."))
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/connectors/"+c.ID+"/setup", http.StatusSeeOther)
	return nil
}
