package api

import (
	"net/http"
	"time"

	"github.com/phantomos/phantomos"
)

// Period is a range of calendar days in the publisher's time zone.
type Period struct {
	From phantomos.Day `json:"from"`
	To   phantomos.Day `json:"to"`
}

// Last12Months is the period of twelve calendar months ending with the
// current one in loc: from the first day of the month eleven months ago to
// today, so that every month in it but the last is whole.
func Last12Months(now time.Time, loc *time.Location) Period {
	today := now.In(loc)
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -11, 0)
	return Period{From: phantomos.DayOf(first, loc), To: phantomos.DayOf(today, loc)}
}

// Previous is the period of the same length that ends the day before p
// starts.
func (p Period) Previous() Period {
	from, to := p.From.Time(), p.To.Time()
	days := int(to.Sub(from).Hours()/24) + 1
	return Period{
		From: phantomos.DayOf(from.AddDate(0, 0, -days), time.UTC),
		To:   phantomos.DayOf(from.AddDate(0, 0, -1), time.UTC),
	}
}

type analyticsResponse struct {
	Currency          string  `json:"currency"`
	Period            Period  `json:"period"`
	NetRevenue        int64   `json:"net_revenue"`
	GrossRevenue      int64   `json:"gross_revenue"`
	Discounts         int64   `json:"discounts"`
	Refunds           int64   `json:"refunds"`
	Orders            int64   `json:"orders"`
	Units             int64   `json:"units"`
	AverageOrderValue int64   `json:"average_order_value"`
	Months            []month `json:"months"`
}

type month struct {
	Month      string `json:"month"`
	NetRevenue int64  `json:"net_revenue"`
}

// HandleAnalytics serves GET /api/analytics: the headline figures of the
// last 12 months in minor units of the reporting currency.
func (h *Handler) HandleAnalytics(w http.ResponseWriter, r *http.Request) error {
	a := actor(r.Context())
	pub, err := h.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	p := Last12Months(time.Now(), pub.Location())
	sum, err := h.store.Summary(r.Context(), pub.ID, p.From, p.To)
	if err != nil {
		return err
	}
	months, err := h.store.MonthlyNet(r.Context(), pub.ID, p.From, p.To)
	if err != nil {
		return err
	}
	resp := analyticsResponse{
		Currency: pub.ReportingCurrency, Period: p,
		NetRevenue: sum.Net, GrossRevenue: sum.Gross, Discounts: sum.Discount, Refunds: sum.Refunded,
		Orders: sum.Orders, Units: sum.Units, AverageOrderValue: sum.AverageOrderValue(),
		Months: []month{},
	}
	for _, m := range months {
		resp.Months = append(resp.Months, month{m.Month, m.Value})
	}
	return writeJSON(w, http.StatusOK, resp)
}

type meResponse struct {
	User      userJSON      `json:"user"`
	Publisher publisherJSON `json:"publisher"`
}

type userJSON struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	Role  string `json:"role"`
}

type publisherJSON struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Slug              string `json:"slug"`
	ReportingCurrency string `json:"reporting_currency"`
	Timezone          string `json:"timezone"`
	SubscriptionTier  string `json:"subscription_tier"`
}

// HandleMe serves GET /api/v1/me: who the caller is and in which publisher.
func (h *Handler) HandleMe(w http.ResponseWriter, r *http.Request) error {
	a := actor(r.Context())
	pub, err := h.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, meResponse{
		User: userJSON{ID: a.UserID, Email: a.Email, Name: a.Name, Role: string(a.Role)},
		Publisher: publisherJSON{ID: string(pub.ID), Name: pub.Name, Slug: pub.Slug, ReportingCurrency: pub.ReportingCurrency,
			Timezone: pub.Timezone, SubscriptionTier: pub.SubscriptionTier},
	})
}
