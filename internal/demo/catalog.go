package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos"
)

// The characters the demo data tells a story about. They are exported so
// that the features built on the demo (insights, forecasts, the tagging
// workbench) and their tests can name what they should find.
const (
	// Hero is the hero of the flagship franchise.
	Hero = "Captain Nova"
	// Villain is the villain of the flagship franchise, slowly catching up
	// with the hero.
	Villain = "Void Empress"
	// RisingCharacter is a character whose sales grow steadily over the two
	// years of demo data.
	RisingCharacter = "Pixel"
	// DecliningCharacter is a character whose sales shrink steadily over the
	// two years of demo data.
	DecliningCharacter = "Sir Bramblewick"
)

// ipSpec is one invented franchise of the demo publisher.
type ipSpec struct {
	name, slug, code, genre string
	platforms               []string
}

// The demo franchises, in the order their assets refer to them.
const (
	ipStarfall = iota
	ipHollowmere
	ipIronroot
)

func demoIPs() []ipSpec {
	return []ipSpec{
		{"Starfall Odyssey", "starfall-odyssey", "SFO", "Action RPG", []string{"pc", "playstation-5", "xbox-series", "switch"}},
		{"Hollowmere", "hollowmere", "HLM", "Dark fantasy action-adventure", []string{"pc", "playstation-5", "xbox-series", "switch"}},
		{"Ironroot Chronicles", "ironroot-chronicles", "IRC", "Cozy farming sim", []string{"pc", "switch", "ios", "android"}},
	}
}

// assetSpec is one asset of a franchise. label is how product names refer
// to it; demand is its relative pull on sales; trendFrom and trendTo are its
// demand multipliers at the start and the end of the sales window.
type assetSpec struct {
	ip                 int
	name, typ          string
	label              string
	aliases, tags      []string
	demand             float64
	trendFrom, trendTo float64
	// fixedTrend keeps trendFrom/trendTo as written instead of drawing a
	// mild drift from the seed.
	fixedTrend bool
	// main marks the assets that get every product kind they fit.
	main bool
}

func demoAssets() []assetSpec {
	c, l, s, i, t, o := phantomos.AssetCharacter, phantomos.AssetLogo, phantomos.AssetScene, phantomos.AssetItem, phantomos.AssetTheme, phantomos.AssetOther
	return []assetSpec{
		// Starfall Odyssey: the flagship space opera.
		{ip: ipStarfall, name: Hero, typ: c, label: Hero, aliases: []string{"Nova", "Cpt. Nova", "Captain Elara Nova"}, tags: []string{"hero", "protagonist"}, demand: 1.0, trendFrom: 0.95, trendTo: 1.1, fixedTrend: true, main: true},
		{ip: ipStarfall, name: Villain, typ: c, label: Villain, aliases: []string{"The Empress", "Empress Vael", "Vael"}, tags: []string{"villain", "antagonist"}, demand: 0.8, trendFrom: 0.75, trendTo: 1.35, fixedTrend: true, main: true},
		{ip: ipStarfall, name: RisingCharacter, typ: c, label: RisingCharacter, aliases: []string{"PX-7", "Pixel the Bot"}, tags: []string{"companion", "robot"}, demand: 0.55, trendFrom: 0.3, trendTo: 2.6, fixedTrend: true, main: true},
		{ip: ipStarfall, name: "Commander Rook", typ: c, label: "Commander Rook", aliases: []string{"Rook", "Cmdr. Rook"}, tags: []string{"ally"}, demand: 0.35},
		{ip: ipStarfall, name: "Lyra Starweaver", typ: c, label: "Lyra Starweaver", aliases: []string{"Lyra", "Starweaver"}, tags: []string{"ally", "pilot"}, demand: 0.4},
		{ip: ipStarfall, name: "Starfall Odyssey Logo", typ: l, label: "Starfall Odyssey", aliases: []string{"Starfall logo", "SO logo"}, tags: []string{"wordmark"}, demand: 0.7, main: true},
		{ip: ipStarfall, name: "Nova Corps Insignia", typ: l, label: "Nova Corps", aliases: []string{"Nova Corps emblem", "Corps badge"}, tags: []string{"faction", "emblem"}, demand: 0.3},
		{ip: ipStarfall, name: "Shattered Moon", typ: s, label: "Shattered Moon", aliases: []string{"Broken Moon"}, tags: []string{"location"}, demand: 0.25},
		{ip: ipStarfall, name: "Nebula Rift", typ: s, label: "Nebula Rift", aliases: []string{"The Rift"}, tags: []string{"location"}, demand: 0.2},
		{ip: ipStarfall, name: "Photon Blade", typ: i, label: "Photon Blade", aliases: []string{"photon sword", "light blade"}, tags: []string{"weapon"}, demand: 0.3},
		{ip: ipStarfall, name: "Starship Meridian", typ: i, label: "Starship Meridian", aliases: []string{"the Meridian", "Meridian"}, tags: []string{"vehicle", "ship"}, demand: 0.25},
		{ip: ipStarfall, name: "Cosmic Neon", typ: t, label: "Starfall Cosmic Neon", aliases: []string{"synthwave", "neon space"}, tags: []string{"art-style"}, demand: 0.3},
		{ip: ipStarfall, name: "Starfall 5th Anniversary", typ: o, label: "Starfall 5th Anniversary", aliases: []string{"5th anniversary", "anniversary edition"}, tags: []string{"event", "limited"}, demand: 0.25},

		// Hollowmere: the older dark-fantasy series.
		{ip: ipHollowmere, name: DecliningCharacter, typ: c, label: DecliningCharacter, aliases: []string{"Bramblewick", "The Bramble Knight"}, tags: []string{"hero", "knight"}, demand: 0.7, trendFrom: 2.6, trendTo: 0.25, fixedTrend: true, main: true},
		{ip: ipHollowmere, name: "The Hollow King", typ: c, label: "The Hollow King", aliases: []string{"Hollow King", "King of Hollows"}, tags: []string{"villain", "boss"}, demand: 0.45, main: true},
		{ip: ipHollowmere, name: "Wren the Lanternbearer", typ: c, label: "Wren", aliases: []string{"Wren", "Lanternbearer"}, tags: []string{"ally"}, demand: 0.4},
		{ip: ipHollowmere, name: "Moth Witch", typ: c, label: "Moth Witch", aliases: []string{"the Moth Witch", "Mothmother"}, tags: []string{"boss"}, demand: 0.25},
		{ip: ipHollowmere, name: "Hollowmere Crest", typ: l, label: "Hollowmere", aliases: []string{"Hollowmere logo", "crest"}, tags: []string{"emblem"}, demand: 0.35},
		{ip: ipHollowmere, name: "Lantern Marsh", typ: s, label: "Lantern Marsh", aliases: []string{"the Marsh"}, tags: []string{"location"}, demand: 0.15},
		{ip: ipHollowmere, name: "Ember Lantern", typ: i, label: "Ember Lantern", aliases: []string{"lantern"}, tags: []string{"relic"}, demand: 0.2},
		{ip: ipHollowmere, name: "Gothic Woodcut", typ: t, label: "Hollowmere Woodcut", aliases: []string{"woodcut", "gothic"}, tags: []string{"art-style"}, demand: 0.15},
		{ip: ipHollowmere, name: "Hollowmere Original Soundtrack", typ: o, label: "Hollowmere Soundtrack", aliases: []string{"Hollowmere OST", "soundtrack"}, tags: []string{"music"}, demand: 0.15},

		// Ironroot Chronicles: the new game, released during the sales window.
		{ip: ipIronroot, name: "Juniper Vale", typ: c, label: "Juniper Vale", aliases: []string{"Juniper", "June"}, tags: []string{"hero", "farmer"}, demand: 0.6, trendFrom: 1.3, trendTo: 0.9, fixedTrend: true, main: true},
		{ip: ipIronroot, name: "Mossy", typ: c, label: "Mossy", aliases: []string{"Mossy the Mole", "Moss"}, tags: []string{"mascot", "critter"}, demand: 0.75, trendFrom: 1.3, trendTo: 1.0, fixedTrend: true, main: true},
		{ip: ipIronroot, name: "Grumblecap", typ: c, label: "Grumblecap", aliases: []string{"Grumble", "the grumpy mushroom"}, tags: []string{"critter"}, demand: 0.4},
		{ip: ipIronroot, name: "Ironroot Leaf Mark", typ: l, label: "Ironroot Chronicles", aliases: []string{"Ironroot logo", "leaf logo"}, tags: []string{"wordmark"}, demand: 0.3},
		{ip: ipIronroot, name: "Copperfield Farm", typ: s, label: "Copperfield Farm", aliases: []string{"Copperfield", "the farm"}, tags: []string{"location"}, demand: 0.2},
		{ip: ipIronroot, name: "Golden Watering Can", typ: i, label: "Golden Watering Can", aliases: []string{"watering can"}, tags: []string{"tool"}, demand: 0.25},
		{ip: ipIronroot, name: "Cottage Pastel", typ: t, label: "Ironroot Cottage Pastel", aliases: []string{"cottagecore", "pastel"}, tags: []string{"art-style"}, demand: 0.25},
		{ip: ipIronroot, name: "Harvest Festival", typ: o, label: "Harvest Festival", aliases: []string{"harvest fest", "festival"}, tags: []string{"event"}, demand: 0.15},
	}
}

// Bits of the fits mask of a product kind: which asset types it is made
// for.
const (
	fitCharacter = 1 << iota
	fitLogo
	fitScene
	fitItem
	fitTheme
	fitOther
)

func fitOf(assetType string) int {
	switch assetType {
	case phantomos.AssetCharacter:
		return fitCharacter
	case phantomos.AssetLogo:
		return fitLogo
	case phantomos.AssetScene:
		return fitScene
	case phantomos.AssetItem:
		return fitItem
	case phantomos.AssetTheme:
		return fitTheme
	}
	return fitOther
}

// kindSpec is a kind of merchandise: "Hoodie", "1/6 Scale Figure".
type kindSpec struct {
	name, code, category string
	price                int64 // USD cents, list price
	demand               float64
	fits                 int
	blurb                string
}

func demoKinds() []kindSpec {
	ap, co, ac, ho, di, ot := phantomos.CategoryApparel, phantomos.CategoryCollectibles, phantomos.CategoryAccessories, phantomos.CategoryHome, phantomos.CategoryDigital, phantomos.CategoryOther
	ch, lo, sc, it, th, ox := fitCharacter, fitLogo, fitScene, fitItem, fitTheme, fitOther
	return []kindSpec{
		{"T-Shirt", "TEE", ap, 2499, 1.0, ch | lo | th | sc, "Soft 100% ringspun cotton tee with a screen-printed front."},
		{"Hoodie", "HOOD", ap, 5499, 0.7, ch | lo | th, "Heavyweight fleece pullover hoodie with kangaroo pocket."},
		{"Crewneck Sweatshirt", "CREW", ap, 4999, 0.35, ch | lo | th, "Brushed-back fleece crewneck with embroidered chest detail."},
		{"Dad Hat", "HAT", ap, 2799, 0.4, lo, "Unstructured cotton twill cap with embroidered front."},
		{"Beanie", "BEAN", ap, 2499, 0.3, lo | th, "Ribbed knit cuffed beanie with woven patch."},
		{"Crew Socks", "SOCK", ap, 1499, 0.35, ch | th, "Cushioned crew socks, one size fits most."},
		{"Varsity Jacket", "VARS", ap, 11999, 0.08, lo, "Wool-blend varsity jacket with chenille patches."},
		{"Kids Tee", "KTEE", ap, 1999, 0.3, ch, "Kids' cotton tee, sizes 4-14."},
		{"1/6 Scale Figure", "FIG6", co, 27999, 0.06, ch, "Fully articulated 1/6 scale figure with interchangeable hands and display base."},
		{"Vinyl Figure", "VINYL", co, 2499, 0.6, ch, "4.5-inch stylised vinyl figure in a window box."},
		{"Plush", "PLUSH", co, 2999, 0.8, ch, "12-inch super-soft plush with embroidered details."},
		{"Enamel Pin", "PIN", co, 1299, 0.7, ch | lo | it, "Hard enamel pin with gold plating and rubber clutch."},
		{"Statue", "STAT", co, 39999, 0.03, ch, "Limited-edition polystone statue, hand-painted, numbered certificate."},
		{"Acrylic Stand", "ACRY", co, 1999, 0.4, ch, "Double-sided acrylic standee, 15 cm."},
		{"Replica", "REPL", co, 14999, 0.08, it, "Full-size replica with light and sound effects."},
		{"Collector Coin", "COIN", co, 2499, 0.15, lo | ox, "Antique-finish collector coin in a display capsule."},
		{"Blind Box Mini Figure", "MINI", co, 1499, 0.5, ch, "Blind-boxed 3-inch mini figure; collect the whole series."},
		{"Keychain", "KEY", ac, 999, 0.8, ch | it | lo, "Rubber keychain with metal ring."},
		{"Phone Case", "CASE", ac, 2999, 0.35, ch | sc | th | lo, "Slim impact-resistant phone case with matte print."},
		{"Backpack", "PACK", ac, 6999, 0.2, lo | th, "Water-resistant backpack with padded laptop sleeve."},
		{"Tote Bag", "TOTE", ac, 2499, 0.3, th | sc | lo, "Heavy canvas tote bag with full-colour print."},
		{"Mousepad", "MPAD", ac, 1999, 0.35, sc | ch, "Extended stitched-edge gaming mousepad."},
		{"Sticker Pack", "STKR", ac, 799, 0.9, ch | lo | th, "Pack of six weatherproof vinyl die-cut stickers."},
		{"Lanyard", "LANY", ac, 999, 0.2, lo, "Woven lanyard with detachable buckle."},
		{"Mug", "MUG", ho, 1699, 0.75, ch | lo | sc | th, "11 oz ceramic mug, dishwasher safe."},
		{"Poster", "POST", ho, 1999, 0.6, ch | sc, "18x24 inch poster printed on heavyweight matte paper."},
		{"Canvas Print", "CANV", ho, 5999, 0.12, sc, "Gallery-wrapped canvas print, ready to hang."},
		{"Throw Blanket", "BLNK", ho, 5999, 0.15, th | sc | ch, "Ultra-soft sherpa throw blanket, 50x60 inches."},
		{"Desk Mat", "DESK", ho, 2999, 0.35, sc | th, "Large desk mat with non-slip rubber base."},
		{"Night Light", "LITE", ho, 3499, 0.2, it | ch, "Colour-changing LED night light, USB powered."},
		{"Cushion", "CUSH", ho, 3499, 0.2, ch | th, "Square cushion with removable printed cover."},
		{"Wallpaper Pack", "WALL", di, 499, 0.5, sc | ch | th, "Desktop and phone wallpapers in 4K, instant download."},
		{"Digital Artbook", "DART", di, 1999, 0.25, lo | ox, "Digital artbook: 200 pages of concept art, instant download."},
		{"Avatar Pack", "AVTR", di, 799, 0.35, ch, "Profile avatars and banners for streaming and social media."},
		{"Digital Soundtrack", "DOST", di, 999, 0.3, ox, "Original soundtrack in lossless FLAC and MP3."},
		{"Jigsaw Puzzle", "PUZZ", ot, 2999, 0.25, sc, "1000-piece jigsaw puzzle with poster insert."},
		{"Vinyl Soundtrack LP", "LP", ot, 3999, 0.15, ox | lo, "Double LP soundtrack on coloured vinyl with gatefold sleeve."},
		{"Trading Card Booster", "CARD", ot, 599, 0.4, lo, "Booster of ten foil trading cards."},
		{"Board Game", "GAME", ot, 4999, 0.06, lo, "Tabletop adaptation for 2-4 players, ages 12+."},
	}
}

// comboSpec is a product depicting two assets: the first is primary.
type comboSpec struct {
	kind, joiner string
	primary      string
	second       string
	weight       float64 // of the primary asset
}

func demoCombos() []comboSpec {
	return []comboSpec{
		{"T-Shirt", " vs ", Hero, Villain, 0.5},
		{"Poster", " vs ", Hero, Villain, 0.5},
		{"Statue", " vs ", Hero, Villain, 0.5},
		{"Plush", " & ", Hero, RisingCharacter, 0.6},
		{"Mug", " & ", Hero, RisingCharacter, 0.6},
		{"Poster", " & ", "Commander Rook", "Lyra Starweaver", 0.5},
		{"Replica", " ", "Photon Blade", Hero, 0.7},
		{"Canvas Print", " over ", Villain, "Shattered Moon", 0.7},
		{"Blind Box Mini Figure", " & ", RisingCharacter, "Starship Meridian", 0.7},
		{"Night Light", " ", "Ember Lantern", "Wren the Lanternbearer", 0.6},
		{"Poster", " in ", "The Hollow King", "Lantern Marsh", 0.7},
		{"Poster", " & ", DecliningCharacter, "Wren the Lanternbearer", 0.6},
		{"Plush", " & ", "Juniper Vale", "Mossy", 0.5},
		{"Keychain", " with ", "Mossy", "Golden Watering Can", 0.7},
		{"Jigsaw Puzzle", " at ", "Grumblecap", "Copperfield Farm", 0.6},
		{"T-Shirt", " ", "Harvest Festival", "Mossy", 0.6},
		{"Vinyl Soundtrack LP", " ", "Hollowmere Original Soundtrack", "The Hollow King", 0.8},
		{"Collector Coin", " ", "Starfall 5th Anniversary", Hero, 0.7},
	}
}

// genericSpec is a product that depicts no asset.
type genericSpec struct {
	name, code, category, status string
	price                        int64
	demand                       float64
	blurb                        string
}

func demoGenerics() []genericSpec {
	return []genericSpec{
		{"Nebula Forge Games Gift Card", "GIFT", phantomos.CategoryDigital, phantomos.MappingSkipped, 2500, 0.4, "Digital gift card for the Nebula Forge store."},
		{"Mystery Merch Box", "MYST", phantomos.CategoryOther, phantomos.MappingUnmapped, 3999, 0.3, "A surprise selection of at least four items worth $60 or more."},
		{"Nebula Forge Studio Sticker", "NFST", phantomos.CategoryAccessories, phantomos.MappingUnmapped, 399, 0.3, "Die-cut studio logo sticker."},
		{"Pixel Art Cross-Stitch Kit", "XSTI", phantomos.CategoryOther, phantomos.MappingUnmapped, 2499, 0.1, "Retro pixel-art cross-stitch kit with hoop and threads."},
		{"Gamer Wrist Rest", "WRST", phantomos.CategoryAccessories, phantomos.MappingUnmapped, 1999, 0.1, "Memory-foam keyboard wrist rest."},
		{"Collector's Display Case", "DISP", phantomos.CategoryHome, phantomos.MappingUnmapped, 4999, 0.08, "Dust-proof acrylic display case with LED base."},
	}
}

// connector indexes.
const (
	connShopify = iota
	connAmazon
	connWoo
	numConnectors
)

// connectorSpec is a sales connector of the demo publisher and the one
// channel it sells through.
type connectorSpec struct {
	typ, name, channel string
	// countries are the buyers' countries and their shares of orders.
	countries []countryShare
}

// countryShare is a country (ISO 3166-1 alpha-2) and its share of a
// connector's orders.
type countryShare struct {
	code   string
	weight float64
}

// Currencies the demo sells in, as indexes into demoCurrencies.
const (
	curUSD = iota
	curEUR
	curGBP
	curJPY
	curCAD
	curAUD
	numCurrencies
)

// currencySpec is a sale currency: its fixed rate to USD and how USD list
// prices translate into local list prices.
type currencySpec struct {
	code      string
	usdRate   float64 // USD per major unit
	priceMult float64 // local list price per USD of list price
}

func demoCurrencies() [numCurrencies]currencySpec {
	return [numCurrencies]currencySpec{
		curUSD: {"USD", 1, 1},
		curEUR: {"EUR", 1.08, 1},
		curGBP: {"GBP", 1.27, 0.9},
		curJPY: {"JPY", 0.0067, 155},
		curCAD: {"CAD", 0.73, 1.35},
		curAUD: {"AUD", 0.66, 1.5},
	}
}

// countrySpec is a buyer country, its currency and, where it helps regional
// reports, its subdivisions (ISO 3166-2) with their shares of buyers.
type countrySpec struct {
	code     string
	currency int
	regions  []string
	regionW  []float64
}

func demoCountries() []countrySpec {
	return []countrySpec{
		{"US", curUSD, []string{"US-CA", "US-TX", "US-NY", "US-FL", "US-WA", "US-IL", "US-PA", "US-OH", "US-GA", "US-NC", "US-MI", "US-NJ", "US-VA", "US-AZ", "US-MA", "US-CO", "US-OR", "US-MN"},
			[]float64{14, 9, 8, 7, 5, 5, 4, 3.5, 3.5, 3.5, 3, 3, 3, 2.5, 2.5, 2, 2, 2}},
		{"CA", curCAD, []string{"CA-ON", "CA-QC", "CA-BC", "CA-AB"}, []float64{40, 22, 20, 18}},
		{"GB", curGBP, []string{"GB-ENG", "GB-SCT", "GB-WLS", "GB-NIR"}, []float64{84, 8, 5, 3}},
		{"DE", curEUR, nil, nil},
		{"FR", curEUR, nil, nil},
		{"AU", curAUD, []string{"AU-NSW", "AU-VIC", "AU-QLD", "AU-WA"}, []float64{38, 32, 18, 12}},
		{"JP", curJPY, nil, nil},
		{"NL", curEUR, nil, nil},
		{"ES", curEUR, nil, nil},
		{"IT", curEUR, nil, nil},
		{"SE", curUSD, nil, nil},
		{"BR", curUSD, nil, nil},
		{"MX", curUSD, nil, nil},
		{"KR", curUSD, nil, nil},
		{"PL", curUSD, nil, nil},
		{"IE", curEUR, nil, nil},
		{"NZ", curUSD, nil, nil},
		{"SG", curUSD, nil, nil},
		{"NO", curUSD, nil, nil},
		{"DK", curUSD, nil, nil},
		{"BE", curEUR, nil, nil},
		{"AT", curEUR, nil, nil},
	}
}

// demoConnectors are the demo's sales sources: two live connectors of
// platforms the product syncs (a Shopify store and an Amazon Seller
// Central account, each with the backfill run that brought its history),
// and the partner sales, which arrive as imported files. The live ones
// hold no credentials: they show what a connected store looks like, and
// cannot sync against the real platforms (a sync asks to reconnect).
func demoConnectors() [numConnectors]connectorSpec {
	return [numConnectors]connectorSpec{
		connShopify: {phantomos.ConnectorShopify, "Nebula Forge Store (Shopify)", "online_store", []countryShare{
			{"US", 42}, {"CA", 7}, {"GB", 9}, {"DE", 7}, {"FR", 5}, {"AU", 5}, {"JP", 3}, {"NL", 3}, {"ES", 2}, {"IT", 2},
			{"SE", 2}, {"BR", 2}, {"MX", 2}, {"KR", 1.5}, {"PL", 1.5}, {"IE", 1}, {"NZ", 1}, {"SG", 1}, {"NO", 1}, {"DK", 1}, {"BE", 1}, {"AT", 0.5}}},
		connAmazon: {phantomos.ConnectorAmazon, "Nebula Forge on Amazon (Seller Central)", "marketplace", []countryShare{
			{"US", 55}, {"GB", 12}, {"DE", 12}, {"FR", 5}, {"IT", 4}, {"ES", 4}, {"JP", 5}, {"CA", 3}}},
		connWoo: {phantomos.ConnectorCSV, "Retail Partner Portal (WooCommerce exports)", "retail_partner", []countryShare{
			{"US", 50}, {"CA", 10}, {"GB", 15}, {"DE", 10}, {"AU", 10}, {"NL", 5}}},
	}
}

// listing is one product row: a catalog item as one connector sells it.
type listing struct {
	conn        int
	item        int // index of the catalog item across connectors
	name        string
	description string
	sku         string
	externalID  string
	category    string
	gameIP      int // -1 when the product is not tied to a franchise
	price       int64
	tags        []string
	status      string
	// assets and mix are what the product really depicts and how much each
	// asset drives its demand, whether or not it is mapped yet.
	assets []int
	mix    []float64
	// links are the stored product_assets rows (confirmed products only).
	links []link
	// launch is the day index of the first sale; negative when the product
	// was launched before the sales window.
	launch     int
	spike      float64 // extra demand on the launch day, decaying after
	tau        float64 // decay of the launch spike, in days
	demand     float64
	local      [numCurrencies]int64 // unit price in each sale currency
	digital    bool
	refundRate float64
}

type link struct {
	asset      int
	primary    bool
	weight     float64
	source     string
	confidence float64
}

// catalogItem is a product before it is listed on connectors.
type catalogItem struct {
	name, code, category, blurb string
	ipName                      string
	gameIP                      int
	assets                      []int
	mix                         []float64
	price                       int64
	demand                      float64
	digital                     bool
	status                      string // forced mapping status, "" to draw one
	aliasName                   string // the name written with an alias, for untagged listings
	launch                      int
	spike, tau                  float64
}

// buildCatalog invents the products of the demo publisher for a window of
// days days. It draws everything from r, so the same seed gives the same
// catalog.
func buildCatalog(r *rand.Rand, days int, ips []ipSpec, assets []assetSpec, kinds []kindSpec) []listing {
	assetIdx := map[string]int{}
	for i, a := range assets {
		assetIdx[a.name] = i
	}
	kindIdx := map[string]int{}
	for i, k := range kinds {
		kindIdx[k.name] = i
	}

	// Launch calendar: Ironroot Chronicles is released about nine and a half
	// months before the end of the window; the older franchises get product
	// drops at fixed points of the window.
	ironrootLaunch := days - 290
	drops := []int{days * 12 / 100, days * 30 / 100, days * 45 / 100, days * 62 / 100, days * 78 / 100, days * 90 / 100}
	anniversary := days * 55 / 100
	preWindow := func() int { return -30 - r.IntN(900) }

	var items []catalogItem
	add := func(k kindSpec, it catalogItem) {
		it.code, it.category, it.blurb = k.code, k.category, k.blurb
		it.price = jitterPrice(r, k.price)
		it.demand = k.demand * it.demand * math.Exp(0.35*r.NormFloat64())
		it.digital = k.category == phantomos.CategoryDigital
		switch {
		case it.gameIP == ipIronroot:
			it.launch, it.spike, it.tau = ironrootLaunch, 8, 10
			if r.Float64() < 0.3 { // the second wave, for the first holidays
				it.launch, it.spike, it.tau = ironrootLaunch+90+r.IntN(60), 4, 8
			}
		case assets[it.assets[0]].name == "Starfall 5th Anniversary":
			it.launch, it.spike, it.tau = anniversary, 5, 10
		case !it.hasAsset(assetIdx[DecliningCharacter]) && r.Float64() < 0.15:
			// A drop. The declining character gets no new products: its
			// story is a franchise winding down.
			it.launch, it.spike, it.tau = drops[r.IntN(len(drops))], 4, 8
		default:
			it.launch, it.spike, it.tau = preWindow(), 0, 1
		}
		items = append(items, it)
	}

	for ai, a := range assets {
		fit := fitOf(a.typ)
		for _, k := range kinds {
			if k.fits&fit == 0 {
				continue
			}
			// Main assets get every kind they fit; the others a selection.
			if !a.main && r.Float64() > 0.6 {
				continue
			}
			it := catalogItem{
				name:   a.label + " " + k.name,
				ipName: ips[a.ip].name,
				gameIP: a.ip,
				assets: []int{ai},
				mix:    []float64{1},
				demand: a.demand,
			}
			if len(a.aliases) > 0 && a.typ == phantomos.AssetCharacter {
				it.aliasName = a.aliases[r.IntN(len(a.aliases))] + " " + k.name
			}
			add(k, it)
		}
	}
	for _, c := range demoCombos() {
		p, s := assetIdx[c.primary], assetIdx[c.second]
		k := kinds[kindIdx[c.kind]]
		add(k, catalogItem{
			name:   assets[p].label + c.joiner + assets[s].label + " " + k.name,
			ipName: ips[assets[p].ip].name,
			gameIP: assets[p].ip,
			assets: []int{p, s},
			mix:    []float64{c.weight, 1 - c.weight},
			demand: (assets[p].demand + assets[s].demand) / 2,
		})
	}
	for _, g := range demoGenerics() {
		items = append(items, catalogItem{
			name: g.name, code: g.code, category: g.category, blurb: g.blurb,
			gameIP: -1, price: g.price, demand: g.demand, status: g.status,
			digital: g.category == phantomos.CategoryDigital,
			launch:  preWindow(), tau: 1,
		})
	}

	var out []listing
	usedASIN := map[string]bool{}
	for i, it := range items {
		sku := fmt.Sprintf("NF-%s-%04d", it.code, 1001+i)
		if it.gameIP >= 0 {
			sku = fmt.Sprintf("%s-%s-%04d", ips[it.gameIP].code, it.code, 1001+i)
		}
		for c := range numConnectors {
			switch c {
			case connAmazon:
				if it.digital || r.Float64() > 0.45 {
					continue
				}
			case connWoo:
				if it.digital || r.Float64() > 0.25 {
					continue
				}
			}
			l := listing{
				conn:     c,
				item:     i,
				sku:      sku,
				category: it.category,
				gameIP:   it.gameIP,
				price:    it.price,
				assets:   it.assets,
				mix:      it.mix,
				launch:   it.launch,
				spike:    it.spike,
				tau:      it.tau,
				demand:   it.demand,
				digital:  it.digital,
			}
			name := it.name
			l.status = it.status
			if l.status == "" {
				l.status = drawStatus(r, it.launch, days)
			}
			if l.status != phantomos.MappingConfirmed && it.aliasName != "" && r.Float64() < 0.5 {
				// Untagged listings often spell the character the way the
				// merchandiser did, which is what the tagger is for.
				name = it.aliasName
			}
			desc := it.blurb
			if it.ipName != "" {
				desc = "Official " + it.ipName + " merchandise. " + it.blurb
			}
			switch c {
			case connShopify:
				l.externalID = strconv.FormatInt(8_104_000_000_000+int64(i)*1000+int64(r.IntN(1000)), 10)
				l.name = name
			case connAmazon:
				l.externalID = newASIN(r, usedASIN)
				if it.ipName != "" && !strings.HasPrefix(name, it.ipName) {
					l.name = it.ipName + " - " + name + " (Official Merchandise)"
				} else {
					l.name = name + " (Official Merchandise)"
				}
				// Marketplace fees: some listings carry a small premium.
				if r.Float64() < 0.4 {
					l.price = charm(l.price + 200)
				}
				// Amazon launches trail the store by a week or three.
				if l.launch >= 0 {
					l.launch += 7 + r.IntN(21)
				}
			case connWoo:
				l.externalID = strconv.Itoa(1200 + i*3 + r.IntN(3))
				l.name = name + " - Wholesale"
				l.price = l.price * 55 / 100
				if l.launch >= 0 {
					l.launch += r.IntN(14)
				}
			}
			l.description = desc
			l.refundRate = 0.02
			switch {
			case l.digital:
				l.refundRate = 0.004
			case l.category == phantomos.CategoryApparel:
				l.refundRate = 0.06 // sizing
			}
			if l.gameIP >= 0 && l.status != phantomos.MappingUnmapped {
				l.tags = []string{ips[l.gameIP].slug, strings.ToLower(it.code)}
			} else {
				l.tags = []string{strings.ToLower(it.code)}
			}
			if l.launch >= 0 {
				l.tags = append(l.tags, "new-release")
			}
			if l.status == phantomos.MappingConfirmed {
				source, confidence := "human", 1.0
				if r.Float64() < 0.3 { // accepted from the local tagger
					source, confidence = "local", 0.86+0.13*r.Float64()
					confidence = math.Round(confidence*100) / 100
				}
				for k, a := range it.assets {
					l.links = append(l.links, link{asset: a, primary: k == 0, weight: it.mix[k], source: source, confidence: confidence})
				}
			}
			if l.status == phantomos.MappingUnmapped {
				l.gameIP = -1 // nobody has said which franchise yet
			}
			out = append(out, l)
		}
	}
	return out
}

func (it *catalogItem) hasAsset(a int) bool {
	for _, x := range it.assets {
		if x == a {
			return true
		}
	}
	return false
}

// drawStatus picks a mapping status: most products are tagged, recent
// launches much less often.
func drawStatus(r *rand.Rand, launch, days int) string {
	unmapped, suggested := 0.10, 0.04
	if launch >= days-75 {
		unmapped, suggested = 0.45, 0.15
	}
	switch x := r.Float64(); {
	case x < unmapped:
		return phantomos.MappingUnmapped
	case x < unmapped+suggested:
		return phantomos.MappingSuggested
	}
	return phantomos.MappingConfirmed
}

// jitterPrice varies a list price by a few dollars, keeping .99 endings.
func jitterPrice(r *rand.Rand, cents int64) int64 {
	step := cents / 10
	if step < 100 {
		return cents
	}
	return charm(cents + (int64(r.IntN(5))-2)*step/2)
}

// charm rounds a price in cents to the next whole unit less one cent.
func charm(cents int64) int64 {
	if cents < 100 {
		return cents
	}
	return (cents+99)/100*100 - 1
}

// localPrice translates a USD list price into a list price of currency c,
// rounded the way shops price: x.99 or, for yen, whole hundreds less one ten.
func localPrice(cur currencySpec, usdCents int64) int64 {
	if cur.code == "USD" {
		return usdCents
	}
	major := float64(usdCents) / 100 * cur.priceMult
	if phantomos.MinorDigits(cur.code) == 0 {
		return max(int64(math.Ceil(major/100))*100-10, 90)
	}
	return charm(int64(math.Round(major * 100)))
}

const asinChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newASIN invents an Amazon Standard Identification Number not yet used.
func newASIN(r *rand.Rand, used map[string]bool) string {
	for {
		b := []byte("B0")
		for range 8 {
			b = append(b, asinChars[r.IntN(len(asinChars))])
		}
		if s := string(b); !used[s] {
			used[s] = true
			return s
		}
	}
}
