// Package phantomos holds the domain of PhantomOS: publishers and their
// users, roles and permissions, game IPs and their assets, products, sales,
// connectors and insights, and the coded Error type every layer returns.
//
// It performs no I/O. Storage, HTTP and jobs live under internal/ and depend
// on this package, never the other way round.
package phantomos

import (
	"time"

	"github.com/google/uuid"
)

// NewID returns a new UUIDv7 string: unique and sortable by creation time.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// ValidID reports whether s is a well-formed UUID. Handlers use it to turn a
// malformed id in a URL into not-found before it reaches the database.
func ValidID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// PublisherID identifies a tenant. Every store method that touches tenant
// data takes one, so a missing tenant filter is a compile error.
type PublisherID string

// Publisher is a tenant: a game studio or publisher and everything it owns.
type Publisher struct {
	ID                PublisherID
	Name              string
	Slug              string
	Logo              string
	Website           string
	SubscriptionTier  string // starter, growth, enterprise
	ReportingCurrency string // ISO 4217
	Timezone          string // IANA name
	Settings          PublisherSettings
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Location returns the publisher's time zone, UTC when it is unset or unknown.
func (p *Publisher) Location() *time.Location {
	if loc, err := time.LoadLocation(p.Timezone); err == nil && p.Timezone != "" {
		return loc
	}
	return time.UTC
}

// Attribution models split a product's revenue over its confirmed assets.
const (
	AttributionPrimary  = "primary"
	AttributionEqual    = "equal"
	AttributionWeighted = "weighted"
)

// PublisherSettings are the publisher's analytics choices, stored as JSON.
type PublisherSettings struct {
	AttributionModel string `json:"attribution_model"`
	IncludeRefunds   bool   `json:"include_refunds"`
	IncludeDiscounts bool   `json:"include_discounts"`
	IncludeShipping  bool   `json:"include_shipping"`
	IncludeTax       bool   `json:"include_tax"`
	// RefundBooking says on which day a refund reduces net revenue:
	// RefundOnOrderDate (the default; also "") or RefundOnRefundDate.
	RefundBooking string `json:"refund_booking,omitempty"`
	// ExpiresAt, when set, is when the publisher is removed with all its
	// data: a visitor's private copy of the demo.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Refund bookings: a refund reduces net revenue on the order's day, or on
// the day it was made (when its source tells that day; else the order's).
const (
	RefundOnOrderDate  = "order_date"
	RefundOnRefundDate = "refund_date"
)

// RefundsOnRefundDate reports whether refunds are booked on the day they
// were made rather than on the order's day.
func (s PublisherSettings) RefundsOnRefundDate() bool { return s.RefundBooking == RefundOnRefundDate }

// DefaultSettings are the settings of a new publisher: revenue net of
// refunds and discounts, attributed equally across confirmed assets.
func DefaultSettings() PublisherSettings {
	return PublisherSettings{AttributionModel: AttributionEqual, IncludeRefunds: true, IncludeDiscounts: true, RefundBooking: RefundOnOrderDate}
}

// Validate checks a publisher before it is stored.
func (p *Publisher) Validate() error {
	switch {
	case p.Name == "":
		return Errorf(EINVALID, "Publisher name is required.")
	case !validSlug(p.Slug):
		return Errorf(EINVALID, "Publisher slug %q must be 2-63 lowercase letters, digits or dashes.", p.Slug)
	case !validCurrency(p.ReportingCurrency):
		return Errorf(EINVALID, "Reporting currency %q is not an ISO 4217 code.", p.ReportingCurrency)
	}
	if _, err := time.LoadLocation(p.Timezone); err != nil {
		return Errorf(EINVALID, "Time zone %q is unknown.", p.Timezone)
	}
	switch p.SubscriptionTier {
	case "starter", "growth", "enterprise":
	default:
		return Errorf(EINVALID, "Subscription tier %q must be starter, growth or enterprise.", p.SubscriptionTier)
	}
	return nil
}

func validSlug(s string) bool {
	if len(s) < 2 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
