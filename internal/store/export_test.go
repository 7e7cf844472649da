package store

// FoldContribution returns, for dialect d, the statement by which an
// import's fold takes the contribution of the orders it wrote (those of its
// ledger, ingest_keys and ingest_orders), with $1 the publisher and $2 the
// connector.
func FoldContribution(d Dialect) string {
	return perOrderContribution(d, "ingest_delta", false, 1, writtenOrders)
}

// StoredOrdersQuery returns, for dialect d, an import's lookup of the
// stored lines of orders ids, and its arguments after the publisher and
// the connector (the batch number follows them).
func StoredOrdersQuery(d Dialect, ids []string) (string, []any) {
	return storedOrdersQuery(d, ids)
}

// SetFoldLines bounds the lines an import of s sums its rollup deltas for
// in memory; negative: none (every import takes them from sales).
func (s *Store) SetFoldLines(n int) { s.foldLines = n }

// SetBulkFoldOrders bounds the orders a bulk load of s into a publisher
// without sales sums its daily rollups for in memory (negative: never).
func (s *Store) SetBulkFoldOrders(n int) { s.bulkFoldOrders = n }

// BulkFolds returns how many bulk loads of s summed their daily rollups in
// memory.
func (s *Store) BulkFolds() int64 { return s.bulkFolds.Load() }

// SetFilterDeltaLines bounds the new lines an import of s adds to the
// filter rollups itself.
func (s *Store) SetFilterDeltaLines(n int) { s.filterDeltaLines = n }

// FilterDeltas returns how many imports added their new orders to the
// filter rollups.
func (s *Store) FilterDeltas() int64 { return s.filterDeltas.Load() }
