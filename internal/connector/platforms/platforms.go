// Package platforms is the registration list of the commerce platforms:
// the one place that names them all. Adding a platform is one line here
// (its package's Registration, replacing its "coming soon" entry); see
// package platform for the contract.
package platforms

import (
	"github.com/phantomos/phantomos/internal/connector/amazon"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/woocommerce"
)

// all lists the platforms in the order of the wizard's cards. Entries
// without New are not live yet: their card says "coming soon".
var all = []platform.Registration{
	shopify.Registration,
	amazon.Registration,
	woocommerce.Registration,
	bigcommerce.Registration,
}

// All returns the registrations, in order.
func All() []platform.Registration { return all }
