package store

// ImportOrderStatements returns, for dialect d, statements an import runs
// against the lines of the orders in its ledger (ingest_keys,
// ingest_orders), with $1 the publisher and $2 the connector: the fold's
// contribution of the orders it wrote, and the lines replaced orders lost.
func ImportOrderStatements(d Dialect) []string {
	return []string{
		perOrderContribution(false, 1, writtenOrders(d)),
		`SELECT * FROM sales WHERE ` + goneLines(d),
	}
}
