package tagging

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// This file reads the third-party evaluation data of ../shared/eval-data
// (see its README) into a catalogue, labelled titles and negatives. The
// mapping tables are the only hand-made part and are documented here.

// amiiboSeries folds amiibo game series into the franchise a shop would
// file them under. "Mario Sports Superstars" is a sports game of the Super
// Mario franchise with the same characters; "Kellogs" holds only the "Super
// Mario Cereal" figure; "Yoshi's Woolly World" holds Poochy, Yoshi's dog.
func amiiboSeries(series string) string {
	switch series {
	case "Mario Sports Superstars", "Kellogs", "Yoshi's Woolly World":
		return "Super Mario"
	}
	return series
}

// legoToCatalogue maps LEGO theme names to the catalogue's game IPs: the
// franchises both sources cover. LEGO had no Pokémon or Zelda theme in the
// Aug 2023 dump, and the catalogue has no Marvel, DC, Harry Potter or
// Overwatch, so those themes are uncovered: the tagger should abstain on
// them. LEGO's Super Mario theme also sells Donkey Kong, a separate amiibo
// series.
func legoToCatalogue(theme string) []string {
	switch theme {
	case "Star Wars":
		return []string{"Star Wars"}
	case "Super Mario":
		return []string{"Super Mario", "Donkey Kong"}
	case "Minecraft":
		return []string{"Minecraft"}
	case "Sonic The Hedgehog":
		return []string{"Sonic"}
	}
	return nil
}

// LEGO roots that are product lines rather than franchises: a title's label
// is then its licensed sub-theme when it has one. Without one, the originals
// lines are LEGO's own designs (negatives: "original Technic", the numbered
// minifigure series, football figures such as "Mario Gotze (CMF)") and the
// merchandise lines are left unscored, because their titles may depict any
// franchise and the theme tree does not say which ("Gear > Key Chain" holds
// Star Wars and City key chains alike).
// LEGO Icons and LEGO Ideas are merchandise lines too: they mix licences
// (PAC-MAN, Sonic) with LEGO designs.
func originalLine(root string) bool {
	switch root {
	case "Technic", "Collectible Minifigures", "Duplo", "Educational and Dacta", "Mindstorms", "Service Packs", "Bulk Bricks":
		return true
	}
	return false
}

func merchandiseLine(root string) bool {
	switch root {
	case "Gear", "Books", "Brickheadz", "Dimensions", "Seasonal", "Games", "Promotional", "LEGO Brand Store",
		"Juniors", "4 Juniors", "Other", "LEGO Exclusive", "Icons", "LEGO Ideas and CUUSOO":
		return true
	}
	return false
}

// licensedWords mark LEGO themes built on someone else's franchise; used
// only to split the negatives' report into uncovered licences and LEGO's
// own designs.
func licensedWords() []string {
	return []string{
		"marvel", "dc ", "dc comics", "batman", "superman", "spider", "avengers", "harry potter", "fantastic beasts",
		"disney", "frozen", "mickey", "toy story", "cars", "jurassic", "hobbit", "lord of the rings", "indiana jones",
		"ninja turtles", "overwatch", "pirates of the caribbean", "spongebob", "scooby", "minions", "trolls", "avatar",
		"prince of persia", "lone ranger", "angry birds", "ben 10", "gabby", "speed racer", "stranger things",
		"powerpuff", "ghostbusters", "simpsons", "looney", "muppets", "lego movie", "super hero girls", "x-men",
		"guardians of the galaxy", "iron man", "justice league", "bob the builder", "thomas", "winnie", "dora",
		"sofia", "doc mcstuffins", "planes", "jake and the never land", "miles from tomorrowland", "ferrari",
		"williams f1", "speed champions", "princess", "studios", "unikitty",
	}
}

// evalItem is one labelled title.
type evalItem struct {
	source string // "set", "minifig", "shopify", "woocommerce", "superhero"
	p      Product
	// labels are the catalogue IPs that are right for it; empty for a
	// negative.
	labels []string
	// group names the franchise or negative category for the report.
	group string
	// covered is true for a title of a franchise the catalogue covers.
	covered bool
	// licensed marks negatives from a licence the catalogue lacks.
	licensed bool
}

// evalData is everything Eval reads.
type evalData struct {
	assets     []Asset
	items      []evalItem // labelled LEGO titles (positives and negatives)
	unlabelled []evalItem // LEGO merchandise-line titles without a label
	negatives  []evalItem // shop samples and superhero lists
	excluded   []string   // superhero entries that are catalogue characters
}

func loadEvalData(dir string) (*evalData, error) {
	if _, err := os.Stat(filepath.Join(dir, "lego-rebrickable")); err != nil {
		return nil, fmt.Errorf("tagging: eval data: %w", err)
	}
	d := &evalData{}
	var err error
	if d.assets, err = loadCatalogue(dir); err != nil {
		return nil, err
	}
	if err := d.loadLEGO(dir); err != nil {
		return nil, err
	}
	if err := d.loadNegatives(dir); err != nil {
		return nil, err
	}
	return d, nil
}

// readCSV reads a whole CSV file with a header into maps.
func readCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tagging: eval data: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("tagging: eval data: %s: %w", path, err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tagging: eval data: %s: %w", path, err)
		}
		m := make(map[string]string, len(head))
		for i, h := range head {
			if i < len(rec) {
				m[h] = rec[i]
			}
		}
		rows = append(rows, m)
	}
	return rows, nil
}

func readJSONStrings(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tagging: eval data: %w", err)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("tagging: eval data: %s: %w", path, err)
	}
	return out, nil
}

// loadCatalogue builds the evaluation catalogue: amiibo characters by game
// series, the 1025 Pokémon with their names in ten languages as aliases,
// the Star Wars names list, and for each game IP a logo asset named after
// it (its wordmark).
func loadCatalogue(dir string) ([]Asset, error) {
	var assets []Asset
	byKey := map[string]int{} // ip + folded name → index
	key := func(ip, name string) string { return ip + "\x00" + strings.Join(tokenTexts(tokenize(fold(name))), " ") }
	add := func(a Asset) int {
		k := key(a.GameIP, a.Name)
		if i, ok := byKey[k]; ok {
			assets[i].Aliases = appendAliases(assets[i].Aliases, assets[i].Name, a.Aliases...)
			return i
		}
		byKey[k] = len(assets)
		assets = append(assets, a)
		return len(assets) - 1
	}

	langs := []string{"en", "de", "es", "fr", "ja", "ko", "ru", "th", "zh-hans", "zh-hant"}
	names := make([][]string, len(langs))
	for i, l := range langs {
		n, err := readJSONStrings(filepath.Join(dir, "pokemon-names-npm", l+".json"))
		if err != nil {
			return nil, err
		}
		names[i] = n
	}
	for i, en := range names[0] {
		a := Asset{ID: fmt.Sprintf("pokemon:%04d", i+1), GameIP: "Pokemon", Name: en, Type: Character}
		for _, l := range names[1:] {
			if i < len(l) {
				a.Aliases = appendAliases(a.Aliases, en, l[i])
			}
		}
		add(a)
	}

	rows, err := readCSV(filepath.Join(dir, "amiibo-figures", "amiibo_flat.csv"))
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		ip := r["game_series"]
		ip = amiiboSeries(ip)
		char := r["character"]
		a := Asset{ID: "amiibo:" + ip + "/" + char, GameIP: ip, Name: char, Type: Character}
		// The figure's name before " - " (edition) and " & " (companion)
		// is often another name of the character: "Toon Link", "Sheik".
		n := strings.SplitN(r["name"], " - ", 2)[0]
		for _, sep := range []string{" & ", " and "} {
			n = strings.SplitN(n, sep, 2)[0]
		}
		a.Aliases = appendAliases(nil, char, n)
		add(a)
	}

	sw, err := readJSONStrings(filepath.Join(dir, "starwars-names-npm", "starwars-names.json"))
	if err != nil {
		return nil, err
	}
	for _, n := range sw {
		add(Asset{ID: "starwars:" + n, GameIP: "Star Wars", Name: n, Type: Character})
	}

	ips := map[string]bool{}
	for _, a := range assets {
		ips[a.GameIP] = true
	}
	ipNames := make([]string, 0, len(ips))
	for ip := range ips {
		ipNames = append(ipNames, ip)
	}
	sort.Strings(ipNames)
	for _, ip := range ipNames {
		add(Asset{ID: "logo:" + ip, GameIP: ip, Name: ip, Type: Logo})
	}
	return assets, nil
}

func appendAliases(dst []string, name string, more ...string) []string {
	fn := fold(name)
	for _, m := range more {
		m = strings.TrimSpace(m)
		if m == "" || fold(m) == fn {
			continue
		}
		dup := false
		for _, d := range dst {
			if fold(d) == fold(m) {
				dup = true
				break
			}
		}
		if !dup {
			dst = append(dst, m)
		}
	}
	return dst
}

// legoLabel returns the label of a LEGO theme path: the catalogue IPs, the
// group name for the report, whether it is scored at all, and whether it
// is a licence.
func legoLabel(path string) (ips []string, group string, scored, licensed bool) {
	parts := strings.Split(path, " > ")
	root := parts[0]
	if !originalLine(root) && !merchandiseLine(root) {
		return legoToCatalogue(root), root, true, isLicensed(root)
	}
	for i := len(parts) - 1; i >= 1; i-- {
		if ips := legoToCatalogue(parts[i]); ips != nil {
			return ips, parts[i], true, true
		}
		if isLicensed(parts[i]) {
			return nil, parts[i], true, true
		}
	}
	if originalLine(root) {
		return nil, path, true, false
	}
	return nil, root, false, false
}

func isLicensed(theme string) bool {
	t := strings.ToLower(theme) + " "
	for _, w := range licensedWords() {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

func (d *evalData) loadLEGO(dir string) error {
	sets, err := readCSV(filepath.Join(dir, "lego-rebrickable", "lego_sets_with_themes.csv"))
	if err != nil {
		return err
	}
	leafPaths := map[string][]string{}
	for _, s := range sets {
		path := s["theme_path"]
		leaf := s["theme"]
		if !containsString(leafPaths[leaf], path) {
			leafPaths[leaf] = append(leafPaths[leaf], path)
		}
		ips, group, scored, lic := legoLabel(path)
		it := evalItem{source: "set", p: Product{ID: "set:" + s["set_num"], Title: s["name"]}, labels: ips, group: group, covered: len(ips) > 0, licensed: lic}
		if scored {
			d.items = append(d.items, it)
		} else {
			d.unlabelled = append(d.unlabelled, it)
		}
	}
	figs, err := readCSV(filepath.Join(dir, "lego-rebrickable", "lego_minifigs_with_themes.csv"))
	if err != nil {
		return err
	}
	for _, f := range figs {
		if f["themes"] == "" {
			continue // in no set: no label
		}
		roots := strings.Split(f["root_themes"], ";")
		var labels []string
		var negGroup, posGroup string
		negLicensed := false
		for _, leaf := range strings.Split(f["themes"], ";") {
			for _, path := range leafPaths[leaf] {
				if !containsString(roots, strings.SplitN(path, " > ", 2)[0]) {
					continue
				}
				ips, group, scored, lic := legoLabel(path)
				switch {
				case len(ips) > 0:
					for _, ip := range ips {
						if !containsString(labels, ip) {
							labels = append(labels, ip)
						}
					}
					posGroup = group
				case scored && negGroup == "":
					negGroup, negLicensed = group, lic
				}
			}
		}
		it := evalItem{source: "minifig", p: Product{ID: "fig:" + f["fig_num"], Title: f["name"]}}
		switch {
		case len(labels) > 0:
			it.labels, it.group, it.covered = labels, posGroup, true
			d.items = append(d.items, it)
		case negGroup != "":
			it.group, it.licensed = negGroup, negLicensed
			d.items = append(d.items, it)
		default:
			it.group = "unlabelled"
			d.unlabelled = append(d.unlabelled, it)
		}
	}
	return nil
}

// sameCharacters are entries of the superhero lists that are the very
// video-game characters of the catalogue (the lists include some game
// characters); a match there is right, so they are not negatives.
func sameCharacters() []string {
	return []string{"Darth Vader", "Mega Man", "Samus", "Chun-Li", "Cammy", "Guile"}
}

func (d *evalData) loadNegatives(dir string) error {
	for _, f := range []string{"apparel.csv", "home-and-garden.csv", "jewelery.csv"} {
		rows, err := readCSV(filepath.Join(dir, "shopify-product-csvs", f))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r["Title"] == "" {
				continue
			}
			p := Product{ID: "shopify:" + r["Handle"], Title: r["Title"], Description: r["Body (HTML)"], Vendor: r["Vendor"], SKU: r["Variant SKU"]}
			for _, t := range strings.Split(r["Tags"]+","+r["Type"], ",") {
				if t = strings.TrimSpace(t); t != "" {
					p.Tags = append(p.Tags, t)
				}
			}
			d.negatives = append(d.negatives, evalItem{source: "shopify", p: p, group: "Shopify samples"})
		}
	}
	rows, err := readCSV(filepath.Join(dir, "woocommerce-sample-products", "sample_products.csv"))
	if err != nil {
		return err
	}
	for _, r := range rows {
		p := Product{ID: "woo:" + r["ID"], Title: r["Name"], Description: r["Short description"] + "\n" + r["Description"], SKU: r["SKU"]}
		for _, t := range strings.Split(r["Categories"]+","+r["Tags"], ",") {
			if t = strings.TrimSpace(t); t != "" {
				p.Tags = append(p.Tags, t)
			}
		}
		d.negatives = append(d.negatives, evalItem{source: "woocommerce", p: p, group: "WooCommerce samples"})
	}
	for _, f := range []string{"superheroes.json", "supervillains.json"} {
		names, err := readJSONStrings(filepath.Join(dir, "superheroes-villains-npm", f))
		if err != nil {
			return err
		}
		for _, n := range names {
			if containsString(sameCharacters(), n) {
				d.excluded = append(d.excluded, n)
				continue
			}
			d.negatives = append(d.negatives, evalItem{source: "superhero", p: Product{ID: "hero:" + n, Title: n}, group: "superhero/villain lists"})
		}
	}
	return nil
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
