-- Records of every kind: status (annulment is an event, the row shows its effect), names folded for search
-- (Python casefold: Cyrillic and Kazakh letters alike, whatever the database's collation), and amendments.
ALTER TABLE records ADD COLUMN status text NOT NULL DEFAULT 'active';
ALTER TABLE records ADD COLUMN search_names text NOT NULL DEFAULT '';
ALTER TABLE records ADD COLUMN updated_at timestamptz;
CREATE INDEX records_kind_date ON records (kind, registered_at);
