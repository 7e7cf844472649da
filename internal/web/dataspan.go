package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/phantomos/phantomos"
)

// dataSpan is where a publisher's sales lie: their first and last days,
// and (on a page) the link that shows them with the page's other choices.
type dataSpan struct {
	From, To phantomos.Day
	Href     string
}

// salesSpan returns where publisher pub's sales lie; a zero span when it
// has none.
func (s *Server) salesSpan(ctx context.Context, pub *phantomos.Publisher) (dataSpan, error) {
	from, to, err := s.store.SalesSpan(ctx, pub.ID)
	return dataSpan{From: from, To: to}, err
}

// noteDataElsewhere sets v.Elsewhere to the publisher's sales span when
// v's range holds none of its sales, so the page says where they are
// rather than looking as if there were no data.
func (s *Server) noteDataElsewhere(r *http.Request, pub *phantomos.Publisher, v *view) error {
	sp, err := s.salesSpan(r.Context(), pub)
	if err != nil || sp.From == "" {
		return err
	}
	if sp.To < v.Period.From || sp.From > v.Period.To {
		q := url.Values{}
		for k, vals := range v.query {
			q[k] = vals
		}
		q.Del("range")
		q.Set("from", string(sp.From))
		q.Set("to", string(sp.To))
		sp.Href = r.URL.Path + "?" + q.Encode()
		v.Elsewhere = &sp
	}
	return nil
}
