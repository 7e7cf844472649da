package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/phantomos/phantomos"
)

// dataSpan is where a publisher's sales lie: their first and last days,
// and (on a page) the link that shows them with the page's other choices.
type dataSpan struct {
	From, To phantomos.Day
	Href     string
}

// staleAfter is how long after a publisher's last sale the pages that look
// back from today (Intelligence, the workbench's revenue at stake) look
// back from that last sale instead: imported history from years ago is
// still worth analysing, while a store that paused for a few weeks is not
// history yet.
const staleAfter = 62 * 24 * time.Hour

// salesSpan returns where publisher pub's sales lie; a zero span when it
// has none.
func (s *Server) salesSpan(ctx context.Context, pub *phantomos.Publisher) (dataSpan, error) {
	from, to, err := s.store.SalesSpan(ctx, pub.ID)
	return dataSpan{From: from, To: to}, err
}

// asOf is the moment from which pages that look back from today look back
// for publisher pub: now, or the end of its last day of sales when that
// lies more than staleAfter in the past. The second result is that last
// day when it is used, "" otherwise.
func (s *Server) asOf(ctx context.Context, pub *phantomos.Publisher) (time.Time, phantomos.Day, error) {
	now := s.now()
	sp, err := s.salesSpan(ctx, pub)
	if err != nil || sp.To == "" {
		return now, "", err
	}
	t := sp.To.Time()
	end := time.Date(t.Year(), t.Month(), t.Day(), 23, 59, 59, 0, pub.Location())
	if now.Sub(end) <= staleAfter {
		return now, "", nil
	}
	return end, sp.To, nil
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
