package ingest

import (
	"strings"

	"github.com/phantomos/phantomos"
)

// Column aliases of the generic product layout (normalised: lower case,
// single spaces).
var (
	prodIDNames    = []string{"product id", "external id", "id", "handle", "product handle"}
	prodSKUNames   = []string{"sku", "product sku", "variant sku", "item sku", "seller sku"}
	prodNameNames  = []string{"name", "title", "product name", "product title", "product", "item name"}
	prodDescNames  = []string{"description", "body", "body (html)", "short description", "details"}
	prodCatNames   = []string{"category", "categories", "product category", "type", "product type"}
	prodPriceNames = []string{"price", "unit price", "regular price", "list price", "variant price"}
	currencyNames  = []string{"currency", "currency code", "order currency", "curr"}
	prodImageNames = []string{"image url", "image", "image src", "picture", "photo", "thumbnail"}
	prodTagNames   = []string{"tags", "tag", "keywords", "labels"}
)

// genericProducts reads the generic product layout.
type genericProducts struct {
	cfg                                             Config
	id, sku, name, desc, cat, price, cur, img, tags int
}

func newGenericProducts(t *table, cfg Config) (*genericProducts, error) {
	p := &genericProducts{
		cfg: cfg, id: t.col(prodIDNames...), sku: t.col(prodSKUNames...), name: t.col(prodNameNames...),
		desc: t.col(prodDescNames...), cat: t.col(prodCatNames...), price: t.col(prodPriceNames...),
		cur: t.col(currencyNames...), img: t.col(prodImageNames...), tags: t.col(prodTagNames...),
	}
	if p.name < 0 {
		return nil, t.errMissing("product name", prodNameNames...)
	}
	if p.id < 0 && p.sku < 0 {
		return nil, t.errMissing("product id or SKU", append(prodIDNames, prodSKUNames...)...)
	}
	return p, nil
}

func (p *genericProducts) row(t *table, s *Sink[Product]) error {
	r := Product{Line: t.line(), ExternalID: t.get(p.id), SKU: t.get(p.sku), Name: t.get(p.name)}
	if r.Name == "" {
		s.Reject(t.errAt(p.name, "the product name is empty"), 1)
		return nil
	}
	if r.ExternalID == "" {
		r.ExternalID = r.SKU
	}
	if r.ExternalID == "" {
		s.Reject(t.errAt(max(p.id, p.sku), "the product needs an id or a SKU"), 1)
		return nil
	}
	r.Currency = p.cfg.currency()
	if t.get(p.cur) != "" {
		c, err := normCurrency(t.get(p.cur))
		if err != nil {
			s.Reject(t.errAt(p.cur, "currency %v", err), 1)
			return nil
		}
		r.Currency = c
	}
	if t.get(p.price) != "" {
		v, e := money(t, p.price, r.Currency)
		if e != nil {
			s.Reject(*e, 1)
			return nil
		}
		r.Price, r.PriceSet = v, true
	}
	r.Description = plainText(t.get(p.desc))
	r.ImageURL = t.get(p.img)
	if err := checkImageURL(r.ImageURL); err != nil {
		s.Reject(t.errAt(p.img, "%v", err), 1)
		return nil
	}
	tags := t.get(p.tags)
	sep := ","
	if strings.Contains(tags, "|") {
		sep = "|"
	}
	r.Tags = splitList(tags, sep)
	r.Category = classify(t.get(p.cat), tags, r.Name)
	return s.Record(r)
}

func (p *genericProducts) end(*Sink[Product]) error { return nil }

// shopifyProducts reads Shopify's product CSV: one product per Handle. The
// first row of a handle carries the product (Title, Body (HTML), Type,
// Tags) and its first variant; the rows after it with the same Handle carry
// only further variants or images. The price is the first variant's
// Variant Price and the SKU the first variant SKU given.
type shopifyProducts struct {
	cfg                                               Config
	handle, title, body, typ, tags, sku, price, image int
	cur                                               *Product
	curHandle                                         string
	curRows                                           int64
	curErr                                            *RowError
}

func newShopifyProducts(t *table, cfg Config) (*shopifyProducts, error) {
	p := &shopifyProducts{
		cfg: cfg, handle: t.col("handle"), title: t.col("title"), body: t.col("body (html)", "body html", "body"),
		typ: t.col("type", "product type", "product category"), tags: t.col("tags"), sku: t.col("variant sku"),
		price: t.col("variant price"), image: t.col("image src"),
	}
	if p.handle < 0 || p.title < 0 {
		return nil, t.errMissing("Handle and Title", "Handle", "Title")
	}
	return p, nil
}

func (p *shopifyProducts) row(t *table, s *Sink[Product]) error {
	h := t.get(p.handle)
	if h == "" {
		s.Reject(t.errAt(p.handle, "the Handle is empty"), 1)
		return nil
	}
	if h != p.curHandle {
		if err := p.flush(s); err != nil {
			return err
		}
		p.curHandle = h
		if t.get(p.title) == "" {
			e := t.errAt(p.title, "the first row of product %q has no Title (the rows of a product must follow each other)", h)
			p.curErr = &e
			p.curRows = 1
			return nil
		}
		p.cur = &Product{Line: t.line(), ExternalID: h, Name: t.get(p.title), Currency: p.cfg.currency()}
		p.cur.Description = plainText(t.get(p.body))
		tags := t.get(p.tags)
		p.cur.Tags = splitList(tags, ",")
		p.cur.Category = classify(t.get(p.typ), tags, p.cur.Name)
	}
	p.curRows++
	if p.curErr != nil {
		return nil
	}
	if p.cur.SKU == "" {
		p.cur.SKU = t.get(p.sku)
	}
	if p.cur.ImageURL == "" {
		p.cur.ImageURL = t.get(p.image)
		if err := checkImageURL(p.cur.ImageURL); err != nil {
			e := t.errAt(p.image, "%v", err)
			p.curErr = &e
			return nil
		}
	}
	if t.get(p.price) != "" {
		v, e := money(t, p.price, p.cur.Currency)
		if e != nil {
			p.curErr = e
			return nil
		}
		if !p.cur.PriceSet {
			p.cur.Price, p.cur.PriceSet = v, true
		}
	}
	return nil
}

func (p *shopifyProducts) flush(s *Sink[Product]) error {
	defer func() { p.cur, p.curErr, p.curRows, p.curHandle = nil, nil, 0, "" }()
	if p.curErr != nil {
		s.Reject(*p.curErr, p.curRows)
		return nil
	}
	if p.cur == nil {
		return nil
	}
	return s.Record(*p.cur)
}

func (p *shopifyProducts) end(s *Sink[Product]) error { return p.flush(s) }

// wooProducts reads WooCommerce's product CSV. A variation ("Type" holds
// "variation") is not a product of its own: it folds into its parent, named
// in "Parent" by SKU or as "id:N", whose price becomes the lowest variation
// price when the parent has none. Variable parents are therefore held until
// the end of the file. "Type" may list several values ("simple,
// downloadable, virtual"); downloadable or virtual products are digital.
type wooProducts struct {
	cfg                                                              Config
	id, typ, sku, name, short, desc, regular, sale, cats, tags, imgs int
	parent                                                           int
	held                                                             map[string]*wooHeld
	order                                                            []*wooHeld
	orphans                                                          []wooOrphan
}

type wooHeld struct {
	p        Product
	rows     int64
	ownPrice bool // the parent row had a price of its own
}

type wooOrphan struct {
	err      RowError
	parent   string
	price    int64
	hasPrice bool
}

func newWooProducts(t *table, cfg Config) (*wooProducts, error) {
	p := &wooProducts{
		cfg: cfg, id: t.col("id"), typ: t.col("type"), sku: t.col("sku"), name: t.col("name"),
		short: t.col("short description"), desc: t.col("description"), regular: t.col("regular price"),
		sale: t.col("sale price"), cats: t.col("categories"), tags: t.col("tags"), imgs: t.col("images"),
		parent: t.col("parent"), held: map[string]*wooHeld{},
	}
	if p.name < 0 || p.typ < 0 {
		return nil, t.errMissing("Name and Type", "Name", "Type")
	}
	return p, nil
}

func (p *wooProducts) price(t *table) (int64, bool, *RowError) {
	col := p.regular
	if t.get(col) == "" {
		col = p.sale
	}
	if t.get(col) == "" {
		return 0, false, nil
	}
	v, e := money(t, col, p.cfg.currency())
	return v, e == nil, e
}

func (p *wooProducts) row(t *table, s *Sink[Product]) error {
	types := map[string]bool{}
	for _, ty := range splitList(strings.ToLower(t.get(p.typ)), ",") {
		types[ty] = true
	}
	price, hasPrice, e := p.price(t)
	if e != nil {
		s.Reject(*e, 1)
		return nil
	}
	if types["variation"] {
		parent := t.get(p.parent)
		if parent == "" {
			s.Reject(t.errAt(p.parent, "a variation needs its parent product in Parent"), 1)
			return nil
		}
		if h := p.held[parent]; h != nil {
			h.fold(price, hasPrice)
			return nil
		}
		p.orphans = append(p.orphans, wooOrphan{err: t.errAt(p.parent, "the parent product of this variation is not in the file"),
			parent: parent, price: price, hasPrice: hasPrice})
		return nil
	}
	r := Product{Line: t.line(), ExternalID: t.get(p.id), SKU: t.get(p.sku), Name: t.get(p.name), Currency: p.cfg.currency(),
		Price: price, PriceSet: hasPrice}
	if r.Name == "" {
		s.Reject(t.errAt(p.name, "the product name is empty"), 1)
		return nil
	}
	if r.ExternalID == "" {
		r.ExternalID = r.SKU
	}
	if r.ExternalID == "" {
		s.Reject(t.errAt(p.id, "the product needs an ID or a SKU"), 1)
		return nil
	}
	r.Description = plainText(t.get(p.short))
	if r.Description == "" {
		r.Description = plainText(t.get(p.desc))
	}
	if imgs := splitList(t.get(p.imgs), ","); len(imgs) > 0 {
		r.ImageURL = imgs[0]
		if err := checkImageURL(r.ImageURL); err != nil {
			s.Reject(t.errAt(p.imgs, "%v", err), 1)
			return nil
		}
	}
	tags := t.get(p.tags)
	r.Tags = splitList(tags, ",")
	if types["downloadable"] || types["virtual"] {
		r.Category = phantomos.CategoryDigital
	} else {
		r.Category = classify(t.get(p.cats), tags, r.Name)
	}
	if !types["variable"] {
		return s.Record(r)
	}
	h := &wooHeld{p: r, rows: 1, ownPrice: hasPrice}
	p.order = append(p.order, h)
	if id := t.get(p.id); id != "" {
		p.held["id:"+id] = h
	}
	if r.SKU != "" {
		p.held[r.SKU] = h
	}
	return nil
}

// fold takes in a variation: a parent without a price of its own shows
// the lowest variation price.
func (h *wooHeld) fold(price int64, ok bool) {
	h.rows++
	if !ok || h.ownPrice {
		return
	}
	if !h.p.PriceSet || price < h.p.Price {
		h.p.Price, h.p.PriceSet = price, true
	}
}

func (p *wooProducts) end(s *Sink[Product]) error {
	for _, o := range p.orphans {
		if h := p.held[o.parent]; h != nil {
			h.fold(o.price, o.hasPrice)
			continue
		}
		s.Reject(o.err, 1)
	}
	for _, h := range p.order {
		if err := s.Record(h.p); err != nil {
			return err
		}
	}
	return nil
}
