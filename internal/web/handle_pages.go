package web

import (
	"net/http"

	"github.com/phantomos/phantomos"
)

type productsPage struct {
	Counts   map[string]int
	Total    int64
	Products []*phantomos.Product
}

func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	counts, err := s.store.ProductCounts(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	products, err := s.store.Products(r.Context(), a.PublisherID, 100)
	if err != nil {
		return err
	}
	p := productsPage{Counts: counts, Products: products}
	for _, n := range counts {
		p.Total += int64(n)
	}
	data := s.pageData(r, "Products", "products")
	data.Data = p
	return s.render(w, http.StatusOK, "products", data)
}
