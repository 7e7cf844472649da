package amazon

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// The platform's routes (Registration.Routes): Seller Central's website
// authorization workflow. The seller chooses "Authorize with Amazon" on the
// wizard; handleAuthorize sends the browser to Seller Central's consent
// page with the application id and a signed, single-use state (and
// version=beta for a draft application); after the seller confirms,
// Seller Central sends the browser to handleCallback with the state,
// selling_partner_id and spapi_oauth_code, which is exchanged at Login
// with Amazon for the seller's refresh token. The credentials are then
// stored sealed, tested, and the first sync starts, as for a pasted token.

// sellingPartnerPattern bounds the selling_partner_id of a callback (a
// merchant token such as A1B2C3D4E5F6G7).
var sellingPartnerPattern = regexp.MustCompile(`^[A-Z0-9]{6,32}$`)

// maxCode bounds the spapi_oauth_code of a callback.
const maxCode = 512

// consentApp is the public application with the callback of this server,
// or ENOTFOUND when the server has none.
func (p *live) consentApp(h platform.Host, r *http.Request) (*App, error) {
	if p.app == nil {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "This server has no public Amazon SP-API application (%s, %s and %s): connect with your own app's self-authorization.", EnvApplicationID, EnvClientID, EnvClientSecret)
	}
	app := *p.app
	app.RedirectURI = h.PublicURL(r) + callbackPath
	return &app, nil
}

// consentOrigins are where the "Authorize with Amazon" form may lead (the
// page's form-action): the consent pages of every region.
func (p *live) consentOrigins() []string {
	if p.opts.ConsentURL != "" {
		if u, err := url.Parse(p.opts.ConsentURL); err == nil {
			return []string{u.Scheme + "://" + u.Host}
		}
	}
	var out []string
	for _, r := range []string{RegionNA, RegionEU, RegionFE} {
		out = append(out, ConsentHost(r, false))
	}
	return out
}

// handleAuthorize starts the consent flow for the region chosen on the
// wizard, bound by its state to the signed-in person, their organization
// and (when reconnecting) the connector.
func handleAuthorize(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	fail := func(err error) error { return h.ConnectFailed(w, r, p, err) }
	app, err := p.consentApp(h, r)
	if err != nil {
		return fail(err)
	}
	if err := r.ParseForm(); err != nil {
		return fail(phantomos.Errorf(phantomos.EINVALID, "The form could not be read."))
	}
	m, _ := p.Info().MethodByID(ModeConsent)
	v, err := m.Values(r.PostForm)
	if err != nil {
		return fail(err)
	}
	region := strings.ToUpper(v["region"])
	if _, err := Endpoint(region); err != nil {
		return fail(phantomos.Errorf(phantomos.EINVALID, "Region must be NA, EU or FE (it is %q).", v["region"]))
	}
	a := phantomos.ActorFrom(r.Context())
	st := platform.OAuthState{Publisher: a.PublisherID, UserID: a.UserID, Data: region}
	if id := r.PostForm.Get("connector"); id != "" {
		// The account is known only when Amazon comes back: the callback's
		// connect checks that this connector is the same account.
		if len(id) > 64 {
			return fail(phantomos.Errorf(phantomos.EINVALID, "The connector id is too long."))
		}
		st.ConnectorID = id
	}
	state, err := platform.IssueState(r.Context(), h, p.stateKey, st)
	if err != nil {
		return err
	}
	h.AuditRequest(r, a.PublisherID, "connector.authorize_started", "Amazon "+region, map[string]any{"type": Type})
	http.Redirect(w, r, app.ConsentURL(region, false, state), http.StatusSeeOther)
	return nil
}

// handleCallback finishes the consent flow: the state must be genuine,
// unexpired, unused and the signed-in person's; only then is the code
// spent. A refusal shows the connect step again with the reason.
func handleCallback(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	fail := func(err error) error { return h.ConnectFailed(w, r, p, err) }
	app, err := p.consentApp(h, r)
	if err != nil {
		return fail(err)
	}
	q := r.URL.Query()
	st, err := platform.OpenState(r.Context(), h, p.stateKey, "Amazon", q.Get("state"))
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.EUNAUTHORIZED {
			// A bad link for the person holding it, who is signed in.
			err = phantomos.Errorf(phantomos.EINVALID, "%s", phantomos.ErrorMessage(err))
		}
		return fail(err)
	}
	if err := st.CheckActor(phantomos.ActorFrom(r.Context()), "Amazon"); err != nil {
		return fail(err)
	}
	spid, code := q.Get("selling_partner_id"), q.Get("spapi_oauth_code")
	if !sellingPartnerPattern.MatchString(spid) {
		return fail(phantomos.Errorf(phantomos.EINVALID, "Amazon's answer lacks a valid selling partner id. Start connecting again."))
	}
	if code == "" || len(code) > maxCode {
		return fail(phantomos.Errorf(phantomos.EINVALID, "Amazon's answer lacks its authorization code. Start connecting again."))
	}
	cr, err := app.Exchange(r.Context(), nil, st.Data, code, spid, h.Now())
	if err != nil {
		return fail(userError(err))
	}
	if err := h.Connect(w, r, p, cr, st.ConnectorID); err != nil {
		return fail(err)
	}
	return nil
}

// userError turns a source failure into a coded error with its message
// for the user; other errors pass through.
func userError(err error) error {
	if _, ok := errors.AsType[*connector.Error](err); ok {
		return phantomos.Errorf(phantomos.EINVALID, "%s", connector.UserMessage(err))
	}
	return err
}
