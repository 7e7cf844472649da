package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// The catalogue: game IPs and the assets products are mapped to. Members
// and above create, edit, archive and merge; everyone can look.

type catalogIP struct {
	*phantomos.GameIP
	Assets []catalogAsset
}

type catalogAsset struct {
	*phantomos.Asset
	Products int
}

type catalogPage struct {
	GameIPs      []catalogIP
	LiveIPs      []*phantomos.GameIP
	AssetTypes   []string
	CanEdit      bool
	ShowArchived bool
	Archived     int
	Notice       string
	Error        string
	Form         url.Values // echoed after an error
}

func (s *Server) renderCatalog(w http.ResponseWriter, r *http.Request, status int, p catalogPage) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.catalogue(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	counts, err := s.store.AssetProductCounts(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	p.ShowArchived = p.ShowArchived || r.URL.Query().Get("archived") == "1"
	for _, g := range c.GameIPs {
		if g.ArchivedAt == nil {
			p.LiveIPs = append(p.LiveIPs, g)
		}
		ci := catalogIP{GameIP: g}
		for _, as := range c.Assets {
			if as.GameIPID != g.ID {
				continue
			}
			if as.ArchivedAt != nil && g.ArchivedAt == nil {
				p.Archived++
				if !p.ShowArchived {
					continue
				}
			}
			ci.Assets = append(ci.Assets, catalogAsset{Asset: as, Products: counts[as.ID]})
		}
		if g.ArchivedAt != nil {
			p.Archived++
			if !p.ShowArchived {
				continue
			}
		}
		p.GameIPs = append(p.GameIPs, ci)
	}
	p.AssetTypes = phantomos.AssetTypes
	p.CanEdit = a.Role.Can(phantomos.PermEdit)
	if p.Notice == "" {
		p.Notice = catalogNotice(r.URL.Query().Get("done"))
	}
	data := s.pageData(r, "Game IPs & assets", "catalog")
	data.Data = p
	return s.render(w, status, "catalog", data)
}

func catalogNotice(done string) string {
	return map[string]string{
		"ip":       "Game IP saved.",
		"asset":    "Asset saved. The products waiting for review have been matched against it again.",
		"archived": "Archived: it keeps its history but takes no new mappings.",
		"restored": "Restored.",
		"merged":   "Merged: its products, suggestions and names now belong to the asset you kept.",
	}[done]
}

func (s *Server) handleCatalog(w http.ResponseWriter, r *http.Request) error {
	return s.renderCatalog(w, r, http.StatusOK, catalogPage{})
}

// formList splits a form field into a list: one item per line or comma
// (aliases may contain commas, so they split on lines and "|" only).
func formList(v string, seps string) []string {
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		part = strings.TrimSpace(part)
		if part != "" && !seen[strings.ToLower(part)] {
			seen[strings.ToLower(part)] = true
			out = append(out, part)
		}
	}
	return out
}

func gameIPFromForm(f url.Values) (*phantomos.GameIP, error) {
	g := &phantomos.GameIP{Name: strings.TrimSpace(f.Get("name")), Genre: strings.TrimSpace(f.Get("genre")), Platforms: formList(f.Get("platforms"), ",\n")}
	if g.Name == "" {
		return nil, phantomos.Errorf(phantomos.EINVALID, "Name the game IP.")
	}
	if len(g.Name) > 200 {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The game IP's name is longer than 200 characters.")
	}
	if g.Slug = store.GameIPSlug(g.Name); g.Slug == "" {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The game IP's name needs at least one letter or digit.")
	}
	return g, nil
}

func assetFromForm(f url.Values) (*phantomos.Asset, error) {
	a := &phantomos.Asset{GameIPID: f.Get("game_ip"), Name: strings.TrimSpace(f.Get("name")), AssetType: f.Get("asset_type"),
		Aliases: formList(f.Get("aliases"), "|\n"), Tags: formList(f.Get("tags"), ",\n"), ImageURL: strings.TrimSpace(f.Get("image_url"))}
	switch {
	case a.Name == "":
		return nil, phantomos.Errorf(phantomos.EINVALID, "Name the asset.")
	case len(a.Name) > 200:
		return nil, phantomos.Errorf(phantomos.EINVALID, "The asset's name is longer than 200 characters.")
	case a.GameIPID == "":
		return nil, phantomos.Errorf(phantomos.EINVALID, "Choose the asset's game IP.")
	case !contains(phantomos.AssetTypes, a.AssetType):
		return nil, phantomos.Errorf(phantomos.EINVALID, "Asset type %q: choose character, logo, scene, item, theme or other.", a.AssetType)
	}
	if a.ImageURL != "" {
		u, err := url.Parse(a.ImageURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, phantomos.Errorf(phantomos.EINVALID, "The image address must be an https:// URL.")
		}
	}
	return a, nil
}

// formError shows a refused form again with its values and the reason;
// other errors go to the error page.
func (s *Server) catalogFormError(w http.ResponseWriter, r *http.Request, err error) error {
	switch phantomos.ErrorCode(err) {
	case phantomos.EINVALID, phantomos.ECONFLICT:
		return s.renderCatalog(w, r, http.StatusUnprocessableEntity, catalogPage{Error: phantomos.ErrorMessage(err), Form: r.PostForm})
	}
	return err
}

func (s *Server) handleGameIPCreate(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	r.ParseForm()
	g, err := gameIPFromForm(r.PostForm)
	if err == nil {
		err = s.store.CreateGameIP(r.Context(), a.PublisherID, g)
	}
	if err != nil {
		return s.catalogFormError(w, r, err)
	}
	s.audit(r, a.PublisherID, "game_ip.create", g.ID, map[string]any{"name": g.Name})
	http.Redirect(w, r, "/catalog?done=ip#ip-"+g.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) handleAssetCreate(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	r.ParseForm()
	as, err := assetFromForm(r.PostForm)
	if err == nil {
		// Another publisher's game IP, or no id at all, is not found (404),
		// like every id a request names.
		if !phantomos.ValidID(as.GameIPID) {
			err = phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
		} else if g, gerr := s.store.GameIP(r.Context(), a.PublisherID, as.GameIPID); gerr != nil {
			err = gerr
		} else if g.ArchivedAt != nil {
			err = phantomos.Errorf(phantomos.EINVALID, "%s is archived: restore it before adding assets.", g.Name)
		}
	}
	if err == nil {
		err = s.store.CreateAsset(r.Context(), a.PublisherID, as)
	}
	if err != nil {
		return s.catalogFormError(w, r, err)
	}
	s.audit(r, a.PublisherID, "asset.create", as.ID, map[string]any{"name": as.Name})
	s.retagLater(r.Context(), a.PublisherID, false)
	http.Redirect(w, r, "/catalog?done=asset#asset-"+as.ID, http.StatusSeeOther)
	return nil
}

type gameIPPage struct {
	GameIP  *phantomos.GameIP
	Assets  []catalogAsset
	CanEdit bool
	Error   string
	Notice  string
}

func (s *Server) renderGameIP(w http.ResponseWriter, r *http.Request, status int, g *phantomos.GameIP, msg string) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.catalogue(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	counts, err := s.store.AssetProductCounts(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	p := gameIPPage{GameIP: g, CanEdit: a.Role.Can(phantomos.PermEdit), Error: msg, Notice: catalogNotice(r.URL.Query().Get("done"))}
	for _, as := range c.Assets {
		if as.GameIPID == g.ID {
			p.Assets = append(p.Assets, catalogAsset{Asset: as, Products: counts[as.ID]})
		}
	}
	data := s.pageData(r, g.Name, "catalog")
	data.Data = p
	return s.render(w, status, "gameip", data)
}

func (s *Server) handleGameIP(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	g, err := s.store.GameIP(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.renderGameIP(w, r, http.StatusOK, g, "")
}

func (s *Server) handleGameIPSave(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	cur, err := s.store.GameIP(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	r.ParseForm()
	g, err := gameIPFromForm(r.PostForm)
	if err == nil {
		g.ID = cur.ID
		err = s.store.UpdateGameIP(r.Context(), a.PublisherID, g)
	}
	if code := phantomos.ErrorCode(err); code == phantomos.EINVALID || code == phantomos.ECONFLICT {
		return s.renderGameIP(w, r, http.StatusUnprocessableEntity, cur, phantomos.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "game_ip.update", g.ID, map[string]any{"name": g.Name})
	http.Redirect(w, r, "/catalog/game-ips/"+g.ID+"?done=ip", http.StatusSeeOther)
	return nil
}

func (s *Server) handleGameIPArchive(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	g, err := s.store.GameIP(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	archive := r.FormValue("restore") == ""
	if err := s.store.SetGameIPArchived(r.Context(), a.PublisherID, g.ID, archive); err != nil {
		return err
	}
	done := map[bool]string{true: "archived", false: "restored"}[archive]
	s.audit(r, a.PublisherID, "game_ip."+done, g.ID, map[string]any{"name": g.Name})
	s.retagLater(r.Context(), a.PublisherID, false)
	http.Redirect(w, r, "/catalog/game-ips/"+g.ID+"?done="+done, http.StatusSeeOther)
	return nil
}

type assetEditPage struct {
	Asset      *phantomos.Asset
	GameIP     string
	Products   int
	GameIPs    []*phantomos.GameIP
	Others     []assetGroup // merge targets
	AssetTypes []string
	CanEdit    bool
	Error      string
	Notice     string
}

func (s *Server) renderCatalogAsset(w http.ResponseWriter, r *http.Request, status int, as *phantomos.Asset, msg string) error {
	a := phantomos.ActorFrom(r.Context())
	c, err := s.catalogue(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	counts, err := s.store.AssetProductCounts(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	p := assetEditPage{Asset: as, Products: counts[as.ID], AssetTypes: phantomos.AssetTypes, CanEdit: a.Role.Can(phantomos.PermEdit),
		Error: msg, Notice: catalogNotice(r.URL.Query().Get("done"))}
	if g := c.ipByID[as.GameIPID]; g != nil {
		p.GameIP = g.Name
	}
	for _, g := range c.GameIPs {
		if g.ArchivedAt == nil || g.ID == as.GameIPID {
			p.GameIPs = append(p.GameIPs, g)
		}
	}
	for _, grp := range c.live() {
		var keep []*phantomos.Asset
		for _, o := range grp.Assets {
			if o.ID != as.ID {
				keep = append(keep, o)
			}
		}
		if len(keep) > 0 {
			p.Others = append(p.Others, assetGroup{GameIP: grp.GameIP, Assets: keep})
		}
	}
	data := s.pageData(r, as.Name, "catalog")
	data.Data = p
	return s.render(w, status, "catalog_asset", data)
}

func (s *Server) handleCatalogAsset(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	as, err := s.store.Asset(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.renderCatalogAsset(w, r, http.StatusOK, as, "")
}

func (s *Server) handleAssetSave(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	cur, err := s.store.Asset(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	r.ParseForm()
	as, err := assetFromForm(r.PostForm)
	if err == nil {
		as.ID = cur.ID
		err = s.store.UpdateAsset(r.Context(), a.PublisherID, as)
	}
	if code := phantomos.ErrorCode(err); code == phantomos.EINVALID || code == phantomos.ECONFLICT {
		return s.renderCatalogAsset(w, r, http.StatusUnprocessableEntity, cur, phantomos.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "asset.update", as.ID, map[string]any{"name": as.Name})
	s.retagLater(r.Context(), a.PublisherID, false)
	http.Redirect(w, r, "/catalog/assets/"+as.ID+"?done=asset", http.StatusSeeOther)
	return nil
}

func (s *Server) handleAssetArchive(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	as, err := s.store.Asset(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	archive := r.FormValue("restore") == ""
	if err := s.store.SetAssetArchived(r.Context(), a.PublisherID, as.ID, archive); err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return s.renderCatalogAsset(w, r, http.StatusUnprocessableEntity, as, phantomos.ErrorMessage(err))
		}
		return err
	}
	done := map[bool]string{true: "archived", false: "restored"}[archive]
	s.audit(r, a.PublisherID, "asset."+done, as.ID, map[string]any{"name": as.Name})
	s.retagLater(r.Context(), a.PublisherID, false)
	http.Redirect(w, r, "/catalog/assets/"+as.ID+"?done="+done, http.StatusSeeOther)
	return nil
}

func (s *Server) handleAssetMerge(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	as, err := s.store.Asset(r.Context(), a.PublisherID, r.PathValue("id"))
	if err != nil {
		return err
	}
	into := r.FormValue("into")
	if into == "" {
		return s.renderCatalogAsset(w, r, http.StatusUnprocessableEntity, as, "Choose the asset to keep.")
	}
	res, err := s.store.MergeAssets(r.Context(), a.PublisherID, as.ID, into)
	if phantomos.ErrorCode(err) == phantomos.EINVALID {
		return s.renderCatalogAsset(w, r, http.StatusUnprocessableEntity, as, phantomos.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "asset.merge", into, map[string]any{"merged": as.Name, "links": res.Links})
	s.retagLater(r.Context(), a.PublisherID, false)
	http.Redirect(w, r, "/catalog/assets/"+into+"?done=merged", http.StatusSeeOther)
	return nil
}
