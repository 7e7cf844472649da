-- +goose Up
-- A stored forecast is served again, without recomputing it, while what it
-- was computed from is unchanged: the publisher's data version (see
-- 00006_data_version) and its basis (the last complete period, the time
-- zone, currency and attribution model, and the engine's revision).
-- detail holds the rest of the answer (scope name, history, accuracy).
ALTER TABLE forecasts ADD COLUMN data_version INTEGER NOT NULL DEFAULT -1;
ALTER TABLE forecasts ADD COLUMN basis TEXT NOT NULL DEFAULT '';
ALTER TABLE forecasts ADD COLUMN detail TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE forecasts DROP COLUMN detail;
ALTER TABLE forecasts DROP COLUMN basis;
ALTER TABLE forecasts DROP COLUMN data_version;
