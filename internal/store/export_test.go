package store

// FoldContribution returns, for dialect d, the statement by which an
// import's fold takes the contribution of the orders it wrote (those of its
// ledger, ingest_keys and ingest_orders), with $1 the publisher and $2 the
// connector.
func FoldContribution(d Dialect) string {
	return perOrderContribution(d, false, 1, writtenOrders)
}
