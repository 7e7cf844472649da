-- +goose Up
-- Refunds booked on the refund date (issue 7). refunded_at is when the
-- line's refund was made, as its source tells it (UTC; NULL when the source
-- gives no date or the line has no refund), refund_day its date in the
-- publisher's time zone, like day for order_date. A publisher whose
-- settings say refund_booking = refund_date has the rollups book a line's
-- refunded amount on refund_day (gross, discount, units and the order stay
-- on day); without a refund_day the refund stays on the order's day.
-- prev_refund_day is the refund_day a line had before its last update, so
-- an upsert can refresh the rollups of the day a corrected refund left.
ALTER TABLE sales ADD COLUMN refunded_at TIMESTAMP;
ALTER TABLE sales ADD COLUMN refund_day DATE;
ALTER TABLE sales ADD COLUMN prev_refund_day DATE;
CREATE INDEX sales_refund_day ON sales (publisher_id, refund_day) WHERE refund_day IS NOT NULL;

-- +goose Down
DROP INDEX sales_refund_day;
ALTER TABLE sales DROP COLUMN prev_refund_day;
ALTER TABLE sales DROP COLUMN refund_day;
ALTER TABLE sales DROP COLUMN refunded_at;
