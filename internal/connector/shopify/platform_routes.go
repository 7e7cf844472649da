package shopify

import (
	"context"
	"fmt"
	"net/http"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/store"
)

// The platform's routes (Registration.Routes): the public app's OAuth
// install, its callback, and the webhook endpoint.

// handleInstall starts the OAuth install of the public app on a store
// from the wizard: the signed, single-use state binds it to the signed-in
// user, the publisher and (when reconnecting) the connector; the browser
// goes to the store's consent screen, which returns to the callback.
func handleInstall(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	fail := func(err error) error { return h.ConnectFailed(w, r, p, err) }
	app, err := p.oauthApp(h, r)
	if err != nil {
		return fail(err)
	}
	a := phantomos.ActorFrom(r.Context())
	if len(r.PostFormValue("shop")) > shopField.MaxLen {
		return fail(phantomos.Errorf(phantomos.EINVALID, "The store address is too long."))
	}
	shop, err := NormalizeShop(r.PostFormValue("shop"))
	if err != nil {
		return fail(phantomos.Errorf(phantomos.EINVALID, "%s", err.Error()))
	}
	st := State{Publisher: a.PublisherID, UserID: a.UserID}
	if id := r.PostFormValue("connector"); id != "" {
		c, err := h.ConnectorFor(r.Context(), a.PublisherID, p, shop, id)
		if err != nil {
			return fail(err)
		}
		st.ConnectorID = c.ID
	}
	return redirectToConsent(h, w, r, app, shop, st)
}

// handleInstallLink is the app's URL in Shopify: a merchant who installs
// the app from the Shopify admin arrives here with a request Shopify
// signed, signed in to PhantomOS or not. Signed in (with the right to
// manage connectors), the install is bound to them as from the wizard;
// otherwise it goes on without a publisher, and after the callback the
// person signs in or creates an organization and claims the store.
func handleInstallLink(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	app, err := pl.(*live).oauthApp(h, r)
	if err != nil {
		return err
	}
	shop, err := app.VerifyRequest(r.URL.Query())
	if err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "%s Start from Connectors → Connect a store.", phantomos.ErrorMessage(err))
	}
	st := State{}
	if a := phantomos.ActorFrom(r.Context()); a != nil {
		if !a.Role.Can(phantomos.PermConnectors) {
			return phantomos.Errorf(phantomos.EFORBIDDEN, "Your role (%s) cannot connect stores. Ask an owner or admin of your team.", a.Role)
		}
		st.Publisher, st.UserID = a.PublisherID, a.UserID
	}
	return redirectToConsent(h, w, r, app, shop, st)
}

func redirectToConsent(h platform.Host, w http.ResponseWriter, r *http.Request, app *App, shop string, st State) error {
	u, err := app.AuthorizeURL(r.Context(), shop, st)
	if err != nil {
		return err
	}
	if st.Publisher != "" {
		h.AuditRequest(r, st.Publisher, "connector.install_started", shop, map[string]any{"type": Type})
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

// handleCallback completes an install: Shopify's signature, the state
// (signed, unexpired, issued to this user of this publisher, and consumed
// here so that it works once) and the shop are verified before the code is
// exchanged for a token. The credentials then go to the connector of that
// store (created for a first install), which is tested and starts
// syncing. An install started from Shopify before anyone signed in is
// parked until claimed.
func handleCallback(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	app, err := p.oauthApp(h, r)
	if err != nil {
		return err
	}
	a := phantomos.ActorFrom(r.Context())
	q := r.URL.Query()
	st, err := app.VerifyCallback(r.Context(), q)
	if err == nil && st.Publisher == "" {
		// Started from Shopify before anyone signed in.
		cr, err := app.Exchange(r.Context(), st.Shop, q.Get("code"))
		if err != nil {
			return userError(err)
		}
		return h.Park(w, r, p, cr)
	}
	if err != nil {
		// A refused callback is a bad link for the person holding it, not a
		// failed sign-in: they are signed in, and start again.
		if code := phantomos.ErrorCode(err); code == phantomos.EUNAUTHORIZED || code == phantomos.EINVALID {
			return phantomos.Errorf(phantomos.EINVALID, "%s", phantomos.ErrorMessage(err))
		}
		return err
	}
	if err := st.CheckActor(a); err != nil {
		return err
	}
	cr, err := app.Exchange(r.Context(), st.Shop, q.Get("code"))
	if err != nil {
		return userError(err)
	}
	return h.Connect(w, r, p, cr, st.ConnectorID)
}

// handleWebhook receives every store's Shopify webhooks: each delivery
// proves where it comes from by its signature, which WebhookHandler checks
// against the secrets of the connectors of the shop it names before
// anything is written.
func handleWebhook(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	wh := &WebhookHandler{
		Targets: func(ctx context.Context, shop string) ([]WebhookTarget, error) { return p.webhookTargets(ctx, h, shop) },
		Apply:   h.Apply,
		Uninstalled: func(ctx context.Context, t connector.Target) error {
			return h.Uninstalled(ctx, t, Type)
		},
		Compliance: func(ctx context.Context, req ComplianceRequest) error { return compliance(ctx, h, req) },
		Logger:     h.Logger(),
	}
	if p.app != nil {
		wh.AppSecrets = []string{p.app.ClientSecret}
	}
	wh.ServeHTTP(w, r)
	return nil
}

// webhookTargets lists the connectors, of any publisher, that hold
// credentials for shop, each with the secrets that sign its webhooks: the
// public app's client secret for stores connected through the app, the
// custom app's API secret key for the others. It makes no request to
// Shopify: it runs before the delivery's signature is checked.
func (p *live) webhookTargets(ctx context.Context, h platform.Host, shop string) ([]WebhookTarget, error) {
	ts, err := h.Connectors(ctx, Type, shop, false)
	if err != nil {
		return nil, err
	}
	var out []WebhookTarget
	for _, t := range ts {
		var cr Credentials
		if err := h.Vault().Load(ctx, t, &cr); err != nil {
			h.Logger().Warn("shopify webhook: credentials", "publisher", t.Publisher, "connector", t.ConnectorID, "err", err)
			continue
		}
		wt := WebhookTarget{Target: t, Shop: cr.Shop}
		switch {
		case cr.Mode == ModeOAuth && p.app != nil:
			wt.Secrets = []string{p.app.ClientSecret}
		case (cr.Mode == ModeCustom || cr.Mode == ModeClientCredentials) && cr.WebhookSecret != "":
			wt.Secrets = []string{cr.WebhookSecret}
		default:
			continue // nothing verifies its deliveries
		}
		acc, err := h.Account(ctx, t)
		if err != nil {
			return nil, err
		}
		wt.Currency = acc.Currency
		out = append(out, wt)
	}
	return out, nil
}

// heldCustomerData says what PhantomOS keeps about a store's customers:
// nothing that identifies them. Orders are kept as sale lines (order and
// line ids, product, quantity, amounts, country and region codes, channel);
// names, emails, phone numbers and addresses are never read or stored.
const heldCustomerData = "no personal data of customers: sale lines keep order and line ids, products, quantities, amounts, country and region codes and channel; no names, emails, phone numbers or addresses"

// compliance acts on Shopify's compliance webhooks for every publisher
// that connected the shop (connected now or not):
//
//   - shop/redact erases the store: its products, sales and credentials,
//     with the rollups of the days it sold on recomputed, and an audit
//     entry saying what went;
//   - customers/redact erases what is kept about the customer, which is
//     nothing personal (heldCustomerData), and records that in the audit
//     log;
//   - customers/data_request records, in the audit log for the merchant,
//     what is held about the customer: nothing personal.
func compliance(ctx context.Context, h platform.Host, req ComplianceRequest) error {
	ts, err := h.Connectors(ctx, Type, req.Shop, true)
	if err != nil {
		return err
	}
	for _, t := range ts {
		entry := store.AuditEntry{Actor: Type, Target: req.Shop, Details: map[string]any{"webhook": req.WebhookID}}
		switch req.Topic {
		case TopicShopRedact:
			erased, err := h.Erase(ctx, t)
			if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
				continue // erased by a concurrent delivery
			}
			if err != nil {
				return fmt.Errorf("shop/redact %s: %w", req.Shop, err)
			}
			entry.Action = "connector.shop_redact"
			entry.Details["sales_erased"] = erased.Sales
			entry.Details["products_erased"] = erased.Products
			entry.Details["products_passed_to_other_stores"] = erased.Reassigned
			entry.Details["credentials_erased"] = true
		case TopicCustomersRedact:
			entry.Action = "connector.customer_redact"
			entry.Details["customer_id"] = req.CustomerID
			entry.Details["orders"] = len(req.Orders)
			entry.Details["erased"] = "nothing: " + heldCustomerData
		case TopicCustomersDataRequest:
			entry.Action = "connector.customer_data_request"
			entry.Details["customer_id"] = req.CustomerID
			entry.Details["orders"] = len(req.Orders)
			entry.Details["data_request_id"] = req.DataRequestID
			entry.Details["held"] = heldCustomerData
		default:
			return fmt.Errorf("compliance topic %q", req.Topic)
		}
		if err := h.Audit(ctx, t.Publisher, entry); err != nil {
			return err
		}
	}
	return nil
}
