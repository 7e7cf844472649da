package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

type orgPage struct {
	CanEdit bool
	// Claude says whether the server has an Anthropic API key: owners see
	// what it enables, and that the operator sets it.
	Claude     bool
	Timezones  []string
	Currencies []string
	Saved      string
	Error      string
}

// commonTimezones are offered in the form; any IANA name is accepted.
var commonTimezones = []string{"UTC", "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York", "America/Sao_Paulo",
	"Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Stockholm", "Europe/Warsaw", "Asia/Tokyo", "Asia/Seoul", "Asia/Shanghai",
	"Asia/Singapore", "Asia/Kolkata", "Australia/Sydney", "Pacific/Auckland"}

var reportingCurrencies = []string{"USD", "EUR", "GBP", "JPY", "CAD", "AUD", "KRW", "CNY", "SEK", "PLN", "BRL", "CHF"}

func (s *Server) renderOrg(w http.ResponseWriter, r *http.Request, status int, p orgPage) error {
	a := phantomos.ActorFrom(r.Context())
	p.CanEdit = a.Role.Can(phantomos.PermOrganization)
	p.Claude = s.cfg.AnthropicAPIKey != ""
	p.Timezones, p.Currencies = commonTimezones, reportingCurrencies
	data := s.pageData(r, "Organization", "settings")
	data.Data = p
	return s.render(w, status, "organization", data)
}

func (s *Server) handleOrganization(w http.ResponseWriter, r *http.Request) error {
	return s.renderOrg(w, r, http.StatusOK, orgPage{})
}

// handleOrganizationSave stores the organization settings (owner only) and
// audits what changed.
func (s *Server) handleOrganizationSave(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	before := *pub
	pub.Name = strings.TrimSpace(r.PostFormValue("name"))
	pub.Slug = strings.TrimSpace(r.PostFormValue("slug"))
	pub.Logo = strings.TrimSpace(r.PostFormValue("logo"))
	pub.Website = strings.TrimSpace(r.PostFormValue("website"))
	pub.ReportingCurrency = strings.ToUpper(strings.TrimSpace(r.PostFormValue("reporting_currency")))
	pub.Timezone = strings.TrimSpace(r.PostFormValue("timezone"))
	pub.Settings.AttributionModel = r.PostFormValue("attribution_model")
	if v := r.PostFormValue("refund_booking"); v != "" { // a form without the field keeps the booking
		pub.Settings.RefundBooking = v
	}
	pub.Settings.IncludeRefunds = r.PostFormValue("include_refunds") == "on"
	pub.Settings.IncludeDiscounts = r.PostFormValue("include_discounts") == "on"
	pub.Settings.IncludeShipping = r.PostFormValue("include_shipping") == "on"
	pub.Settings.IncludeTax = r.PostFormValue("include_tax") == "on"
	for _, u := range []string{pub.Logo, pub.Website} {
		if u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return s.renderOrg(w, r, http.StatusUnprocessableEntity, orgPage{Error: "Logo and website must be http(s) addresses."})
		}
	}
	if pub.ReportingCurrency != before.ReportingCurrency || pub.Timezone != before.Timezone {
		// Stored sales carry amounts converted to the reporting currency and
		// days in the publisher's time zone; changing either needs every sale
		// re-converted and re-bucketed, which is not built yet.
		n, err := s.store.SalesCount(r.Context(), pub.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return s.renderOrg(w, r, http.StatusConflict, orgPage{Error: "The reporting currency and time zone can only be changed before the first sales arrive: existing sales are stored converted and dated with the current ones."})
		}
	}
	if err := s.store.UpdatePublisher(r.Context(), pub); err != nil {
		return formError(err, func(status int, msg string) error { return s.renderOrg(w, r, status, orgPage{Error: msg}) })
	}
	s.audit(r, a.PublisherID, "organization.update", pub.Slug, changes(&before, pub))
	return s.renderOrg(w, r, http.StatusOK, orgPage{Saved: "Saved. Every page now uses these settings."})
}

// changes lists the settings that differ, as "field": [old, new].
func changes(a, b *phantomos.Publisher) map[string]any {
	out := map[string]any{}
	add := func(k string, x, y any) {
		if x != y {
			out[k] = []any{x, y}
		}
	}
	add("name", a.Name, b.Name)
	add("slug", a.Slug, b.Slug)
	add("logo", a.Logo, b.Logo)
	add("website", a.Website, b.Website)
	add("reporting_currency", a.ReportingCurrency, b.ReportingCurrency)
	add("timezone", a.Timezone, b.Timezone)
	add("attribution_model", a.Settings.AttributionModel, b.Settings.AttributionModel)
	add("refund_booking", refundBooking(a.Settings), refundBooking(b.Settings))
	add("include_refunds", a.Settings.IncludeRefunds, b.Settings.IncludeRefunds)
	add("include_discounts", a.Settings.IncludeDiscounts, b.Settings.IncludeDiscounts)
	add("include_shipping", a.Settings.IncludeShipping, b.Settings.IncludeShipping)
	add("include_tax", a.Settings.IncludeTax, b.Settings.IncludeTax)
	return out
}

// refundBooking names a publisher's refund booking, the default included.
func refundBooking(s phantomos.PublisherSettings) string {
	if s.RefundsOnRefundDate() {
		return phantomos.RefundOnRefundDate
	}
	return phantomos.RefundOnOrderDate
}

// handleOrganizationDelete removes the publisher and all its data after the
// owner types its slug and password. Every member is signed out, since
// their users go with it.
func (s *Server) handleOrganizationDelete(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	fail := func(status int, msg string) error { return s.renderOrg(w, r, status, orgPage{Error: msg}) }
	if err := readOnlyAccount(r); err != nil {
		return formError(err, fail)
	}
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != pub.Slug {
		return fail(http.StatusUnprocessableEntity, "Type the organization's slug exactly to confirm deletion.")
	}
	if err := s.confirmPassword(w, r, r.PostFormValue("password")); err != nil {
		return formError(err, fail)
	}
	start := time.Now()
	if err := s.store.DeletePublisher(r.Context(), pub.ID); err != nil {
		return err
	}
	s.logger.Info("organization deleted", "publisher", pub.ID, "slug", pub.Slug, "by", a.Email, "took", time.Since(start))
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
