package web

import (
	"time"

	"github.com/phantomos/phantomos/internal/store"
)

// setUpdatedAt gives a pushed line its order's updated_at, which orders
// versions of the order in the store: an older version is not written.
func setUpdatedAt(row *store.SaleRow, t time.Time) { row.UpdatedAt = t }

// staleReport copies what the import says about stale orders.
func staleReport(res *pushResult, rep *store.ImportReport) {
	res.Stale = rep.Stale
	res.StaleOrders = rep.StaleOrders
}
