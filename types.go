package phantomos

import (
	"encoding/json"
	"fmt"
	"time"
)

// User is a person in one publisher's team.
type User struct {
	ID          string
	PublisherID PublisherID
	Email       string // case-folded
	Name        string
	Role        Role
	LastLoginAt *time.Time
	DisabledAt  *time.Time
	CreatedAt   time.Time
}

// Session is a signed-in browser. Only the SHA-256 of its token is stored.
type Session struct {
	ID          string
	PublisherID PublisherID
	UserID      string
	Role        Role
	ExpiresAt   time.Time
	LastUsedAt  time.Time
	CreatedAt   time.Time
	// MFAPending marks a session that passed the password but not yet the
	// second factor: it authenticates nothing else.
	MFAPending bool
}

// Asset types.
const (
	AssetCharacter = "character"
	AssetLogo      = "logo"
	AssetScene     = "scene"
	AssetItem      = "item"
	AssetTheme     = "theme"
	AssetOther     = "other"
)

// AssetTypes lists every asset type.
var AssetTypes = []string{AssetCharacter, AssetLogo, AssetScene, AssetItem, AssetTheme, AssetOther}

// GameIP is a franchise or game a publisher owns.
type GameIP struct {
	ID          string
	PublisherID PublisherID
	Name        string
	Slug        string
	Genre       string
	Platforms   []string
	ArchivedAt  *time.Time
	CreatedAt   time.Time
}

// Asset is something a product can depict: a character, logo, scene, item or theme.
type Asset struct {
	ID          string
	PublisherID PublisherID
	GameIPID    string
	Name        string
	AssetType   string
	Aliases     []string
	Tags        []string
	Popularity  float64
	ImageURL    string
	ArchivedAt  *time.Time // archived assets keep their history but get no new mappings
	CreatedAt   time.Time
}

// Product categories.
const (
	CategoryApparel      = "apparel"
	CategoryCollectibles = "collectibles"
	CategoryAccessories  = "accessories"
	CategoryHome         = "home"
	CategoryDigital      = "digital"
	CategoryOther        = "other"
)

// Categories lists every product category.
var Categories = []string{CategoryApparel, CategoryCollectibles, CategoryAccessories, CategoryHome, CategoryDigital, CategoryOther}

// Mapping statuses of a product.
const (
	MappingUnmapped  = "unmapped"
	MappingSuggested = "suggested"
	MappingConfirmed = "confirmed"
	MappingSkipped   = "skipped"
)

// Product is a sellable item from one connector.
type Product struct {
	ID            string
	PublisherID   PublisherID
	ConnectorID   string
	ExternalID    string
	GameIPID      string // empty when unknown
	Name          string
	Description   string
	SKU           string
	Category      string
	Price         int64 // minor units
	Currency      string
	ImageURL      string
	Tags          []string
	MappingStatus string
	CreatedAt     time.Time
}

// ProductAsset links a product to an asset it depicts.
type ProductAsset struct {
	ProductID  string
	AssetID    string
	IsPrimary  bool
	Weight     float64
	Source     string // human, local, llm
	Confidence float64
	DecidedBy  string
}

// Connector types.
const (
	ConnectorShopify     = "shopify"
	ConnectorAmazon      = "amazon"
	ConnectorWooCommerce = "woocommerce"
	ConnectorBigCommerce = "bigcommerce"
	ConnectorCustom      = "custom"
	ConnectorCSV         = "csv"
)

// Connector is a source of products and sales.
type Connector struct {
	ID          string
	PublisherID PublisherID
	Type        string
	Name        string
	Status      string // pending, active, error, disconnected
	LastSyncAt  *time.Time
	LastError   string
	CreatedAt   time.Time
}

// Sale is one order line, identified by its publisher, connector, order
// and line. Amounts are minor units of Currency; the *Reporting amounts
// are the same converted to the publisher's reporting currency at the
// order day's rate.
type Sale struct {
	PublisherID       PublisherID
	ProductID         string
	ConnectorID       string
	ExternalOrderID   string
	ExternalLineID    string
	OrderDate         time.Time // UTC
	Day               Day       // order date in the publisher's time zone
	RefundedAt        time.Time // when the refund was made (UTC); zero when unknown or none
	RefundDay         Day       // RefundedAt in the publisher's time zone; "" when unknown or none
	Quantity          int64
	Gross             int64
	Discount          int64
	Refunded          int64
	Net               int64
	Currency          string
	NetReporting      int64
	GrossReporting    int64
	DiscountReporting int64
	RefundedReporting int64
	Country           string // ISO 3166-1 alpha-2
	Region            string
	Channel           string
}

// Day is a calendar date without a time zone, stored as "2006-01-02" on
// every engine so that comparisons and grouping agree.
type Day string

// DayOf returns the calendar date of t in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	return Day(t.In(loc).Format(time.DateOnly))
}

// Time returns midnight UTC of the day.
func (d Day) Time() time.Time {
	t, _ := time.Parse(time.DateOnly, string(d))
	return t
}

// Money is an amount in minor units of a currency.
type Money struct {
	Amount   int64
	Currency string
}

// minorDigits is the number of decimal places of the currencies that do not
// use two.
var minorDigits = map[string]int{"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}

// MinorDigits returns how many decimal places the currency's minor unit has.
func MinorDigits(currency string) int {
	if d, ok := minorDigits[currency]; ok {
		return d
	}
	return 2
}

// String formats the amount with its decimal places and code, e.g. "12.50 USD".
func (m Money) String() string {
	d := MinorDigits(m.Currency)
	if d == 0 {
		return fmt.Sprintf("%d %s", m.Amount, m.Currency)
	}
	div := int64(1)
	for range d {
		div *= 10
	}
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, a/div, d, a%div, m.Currency)
}

// JSONList encodes a string list for a JSON column; nil becomes "[]".
func JSONList(l []string) string {
	if l == nil {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}
