package store

import (
	"context"
	"fmt"

	"github.com/phantomos/phantomos"
)

// Summary is the headline of a period, in the reporting currency.
type Summary struct {
	Gross    int64
	Discount int64
	Refunded int64
	Net      int64
	Orders   int64
	Units    int64
}

// AverageOrderValue is net revenue per distinct order, 0 without orders.
func (m Summary) AverageOrderValue() int64 {
	if m.Orders == 0 {
		return 0
	}
	return m.Net / m.Orders
}

// Summary returns the totals of publisher pub for the days from..to
// (inclusive), read from the rollups.
func (s *Store) Summary(ctx context.Context, pub phantomos.PublisherID, from, to phantomos.Day) (Summary, error) {
	var m Summary
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(gross), 0), COALESCE(SUM(discount), 0), COALESCE(SUM(refunded), 0),
			COALESCE(SUM(net), 0), COALESCE(SUM(units), 0)
		FROM sales_daily WHERE publisher_id = $1 AND day BETWEEN $2 AND $3`, pub, string(from), string(to)).
		Scan(&m.Gross, &m.Discount, &m.Refunded, &m.Net, &m.Units)
	if err != nil {
		return m, fmt.Errorf("store: summary: %w", err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(orders), 0) FROM orders_daily WHERE publisher_id = $1 AND day BETWEEN $2 AND $3`,
		pub, string(from), string(to)).Scan(&m.Orders)
	if err != nil {
		return m, fmt.Errorf("store: summary orders: %w", err)
	}
	return m, nil
}

// MonthlyNet returns net revenue per calendar month ("2006-01") of
// publisher pub for the days from..to, oldest first. Months without sales are
// absent.
func (s *Store) MonthlyNet(ctx context.Context, pub phantomos.PublisherID, from, to phantomos.Day) ([]MonthValue, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+s.dialect.monthOf("day")+` AS month, SUM(net)
		FROM sales_daily WHERE publisher_id = $1 AND day BETWEEN $2 AND $3
		GROUP BY month ORDER BY month`, pub, string(from), string(to))
	if err != nil {
		return nil, fmt.Errorf("store: monthly net: %w", err)
	}
	defer rows.Close()
	var out []MonthValue
	for rows.Next() {
		var v MonthValue
		if err := rows.Scan(&v.Month, &v.Value); err != nil {
			return nil, fmt.Errorf("store: monthly net: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// MonthValue is one month's figure.
type MonthValue struct {
	Month string // "2006-01"
	Value int64
}
