// Package ingest reads publishers' product, sales, asset and exchange-rate
// files and writes them through the store's idempotent write path
// (store.Import): exactly once, all or nothing by default, with an error
// report that names the line, column, value and reason of every bad row.
//
// # Reading
//
// Files are read row by row (memory stays flat whatever their size) with
// encoding/csv: a UTF-8 byte order mark is dropped, the delimiter (comma,
// tab or semicolon) is guessed from the header line, quoted fields may span
// lines (errors then name the line the field starts on), and header names
// are matched case-insensitively with "_", "-", "/" and runs of spaces
// folded to one space ("Order_ID" = "order id"). A row longer than the
// header is refused; a shorter one reads its missing fields as empty. A file
// that is not valid CSV stops the import at the line where it breaks, and so
// does a row longer than MaxRowBytes (1 MiB), so that one huge field costs
// an error, not memory. A field that is not UTF-8 or holds a NUL byte
// refuses its row (line and column named), on every engine, in the preview
// as in the import. A file with a header and no rows is refused ("no
// rows"). Errors quote at most 80 characters of a value and its size.
//
// # Bounds
//
// Every text field is bounded (store.MaxIDLen, MaxNameLen,
// MaxDescriptionLen, MaxLabelLen, MaxTags, MaxURLLen; assets: names and
// aliases as labels, 100 aliases), an order dated more than 36 hours past
// now is refused, and so are negative quantities and prices. Zero units
// are refused except where a format has them: Shopify's orders export
// (an order edit can leave a line at 0) and Amazon's report (cancelled
// items). A cancelled Amazon order (order-status Cancelled) is no sale and
// no order: its rows are not written, and lines stored for it before are
// removed (unless the stored version is newer).
//
// The format is detected from the header (Import's format FormatAuto) or
// named: generic, shopify, woocommerce (products; and sales from the orders
// export of WooCommerce's Customer / Order / Coupon Export extension,
// "Default - One Row per Item"), amazon, bigcommerce (sales). A file of the
// wrong kind is refused with a hint ("this looks like a Shopify products
// export").
//
// # Money
//
// Amounts are parsed exactly into minor units of their currency
// (phantomos.MinorDigits: 2 for most, 0 for JPY, 3 for KWD), never through
// floating point: an optional sign and currency symbol ($ € £ ¥), thousands
// separators only in groups of three, a dot as decimal separator. Extra
// decimal places must be zeros ("12.5000" is fine, "12.505 USD" is refused,
// "12,50" is refused with a hint). Amounts beyond 10^15 minor units are
// refused as implausible. Countries are stored as ISO 3166-1 alpha-2 codes
// in upper case; English country names are accepted and converted.
// Timestamps without a UTC offset are read in the publisher's time zone,
// and the day of a sale is its date in that zone.
//
// Sales are kept in their own currency and converted to the publisher's
// reporting currency at the rate of the order's day (fx_rates, imported
// with kind fx). A rate is "units of the reporting currency per unit of the
// currency" (reporting USD: "2024-05-03,EUR,1.075"). A day without a rate
// borrows the most recent rate of up to Options.FXFallbackDays before it
// (default 7, which covers weekends and holidays, when central banks publish
// none; negative for the exact day only). A line with no usable rate is
// refused with an error naming the currency and the day — never converted at
// a silent 1.0. Each of gross, discount and refunded is converted once,
// rounding half away from zero, and net_reporting is derived from them, so
// reporting amounts reconcile exactly.
//
// # Generic products layout
//
// One product per row. Columns (any accepted name, any order):
//
//	product id   product id, external id, id, handle, product handle  (else the SKU)
//	sku          sku, product sku, variant sku, item sku, seller sku
//	name         name, title, product name, product title, product, item name  (required)
//	description  description, body, body (html), short description, details (HTML is stripped)
//	category     category, categories, product category, type, product type
//	price        price, unit price, regular price, list price, variant price
//	currency     currency, currency code, order currency, curr  (default: reporting currency)
//	image        image url, image, image src, picture, photo, thumbnail
//	tags         tags, tag, keywords, labels  (comma- or |-separated)
//
// The category is one of apparel, collectibles, accessories, home, digital
// or other: taken as is when the column holds one of them, else guessed from
// the category (the leaf of a "Clothing > Hoodies" path first), the tags and
// the name; "other" when nothing fits.
//
// # Generic sales layout
//
// One order line per row. Columns:
//
//	order id   order id, order, order number, order no, order name, order ref, order reference,
//	           transaction id, invoice id, invoice number  (required)
//	line id    line id, line, line number, line no, line item id, lineitem id, order line id, item id
//	date       date, order date, created at, created, purchase date, order created at, timestamp,
//	           datetime, sold at, day  (required; 2006-01-02, 2006-01-02 15:04:05, RFC 3339, …)
//	product    product id, external id, product external id · sku (as for products) ·
//	           name, title, product name, product title, product, item name, item  (one required)
//	category   category, product category, product type  (for products created from sales)
//	quantity   quantity, qty, units, quantity sold, qty sold  (default 1)
//	price      price, unit price, item price, unit amount
//	gross      gross, gross revenue, gross sales, gross amount, subtotal, line subtotal
//	discount   discount, discounts, discount amount, line discount
//	refunded   refunded, refund, refunds, refunded amount, refund amount, returns
//	           (an amount, or yes/no meaning the whole line)
//	refund date  refund date, refunded at, refunded on, refunded date, date refunded, refund at,
//	           refund created at, refund time, refund timestamp  (when the refund was made;
//	           optional; ignored on a line without a refund, refused before the order's day)
//	net        net, net revenue, net sales, revenue, total, amount, line total, sales, net amount
//	currency   currency, currency code, order currency, curr  (default: reporting currency)
//	country    country, country code, country region, ship country, shipping country,
//	           billing country  (a lone "region" column is read as the country)
//	region     region, state, province, ship state, shipping state, shipping province
//	channel    channel, sales channel, source, store, marketplace, platform
//	shipping   shipping, shipping cost, shipping amount, shipping price
//	tax        tax, taxes, tax amount, vat
//	tip        tip, tips
//
// Amounts satisfy net = gross - discount - refunded: gross is the gross
// column, else price × quantity, else net + discount + refunded; a missing
// discount is gross - net - refunded; when all are given they must agree. A
// line without a line id is named by its product (id, else SKU, else
// name), numbered "#2", "#3" when the product repeats within the order's
// consecutive rows — stable across re-imports of the same file.
//
// # Platform exports
//
// Shopify products export: one product per Handle (continuation rows carry
// only variant or image fields), price from the first Variant Price, SKU
// from the first Variant SKU, description from Body (HTML). Shopify orders
// export: see shopifyOrders for how the order totals map to lines; in
// short, Σ (gross - discount + shipping + tax + tip) over an order's lines
// equals its Total, and net is merchandise revenue after refunds.
// WooCommerce product export: variations fold into their parent (whose price
// becomes the lowest variation's), a Type listing downloadable or virtual is
// digital. Amazon "All Orders" report (tab separated; columns in
// AmazonColumns) and BigCommerce order export (Default template): see
// amazonOrders and bigCommerceOrders. No public Amazon or BigCommerce file
// exists; their parsers follow the documented formats, and the fixtures in
// testdata are synthetic.
//
// # Assets and rates
//
// Assets: game_ip (also game, ip, franchise), asset (also asset name, name,
// character), asset_type (character, logo, scene, item, theme, other;
// default other) and aliases ("|"-separated). Rates: date (2006-01-02),
// currency, rate (see Money).
//
// # Writing
//
// Products and sales are keyed under one connector per publisher and source:
// Options.Source names an existing connector (by name or id: a synced store,
// whose history file then keys orders as its sync does) or a csv source
// created on demand, by default named after the format ("Shopify export",
// "Amazon report", "CSV import", …). The order id is the platform's own: the
// Id column of Shopify's orders export (Shopify's numeric order id, as the
// API and webhooks; Name only when a file has no Id), amazon-order-id,
// BigCommerce's Order ID, the generic order id column. An order is the unit
// of replacement (see store.SaleRow): writing it replaces its stored lines
// within the connector, so a file followed by the store's sync counts each
// order once, and a version older than the stored one (or a file's,
// timeless, over a sync's) is skipped and counted as stale. A line key may
// appear once per file. Re-importing a file changes nothing, a corrected
// refund or date updates the line; a preview (dry run) counts the stored
// orders a file would change and names a few. Products are
// matched by external id within the connector, then by SKU across the
// publisher's products; a sale of an unknown product creates it, unmapped
// (external id: its product id, else SKU, else "name:<name>"), and a
// catalogue imported later completes that placeholder rather than adding a
// twin. A sale naming its product by name only (Shopify line items without
// SKU) is matched by exact name.
// The rollups of every day a sale entered or left are recomputed in the same
// transaction.
//
// Refunds reduce the net of the original sale. Where a refund is booked is
// the publisher's choice (organization settings, refund_booking): on the
// order's day (the default), or on the day the refund was made, which moves
// only the refunded amount — gross, discount, units and the order stay on
// the order's day, and the refund is converted at the order day's rate, so
// the totals over any period that holds both days are the same either way.
// A line keeps the date of its refund (refunded_at, and refund_day in the
// publisher's time zone) when its source tells it: the generic layout's
// refund date column, a refund date column in a BigCommerce export (the
// Default template has none), and Shopify syncs (the createdAt of the last
// refund touching the line). Shopify's orders export has no refund date —
// Refunded Amount is undated, and Cancelled at dates a cancellation, not a
// refund — and Amazon's All Orders report carries no refunds at all; a
// refund of unknown date is booked on the order's day in both modes.
package ingest
