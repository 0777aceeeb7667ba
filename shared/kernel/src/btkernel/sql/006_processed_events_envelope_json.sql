-- A kept envelope is stored as the JSON text the consumer wrote (json), not decomposed (jsonb): nothing queries
-- inside it but the rebuild's `->>'subject'` on a catch-up round's few rows, and it is written once per event
-- applied and read back whole by a rebuild. jsonb parsed it into its binary form on every insert and printed it
-- back to text on every read: half the server's CPU of a kept envelope's insert (25 → 11 µs) and of its read by a
-- rebuild (12 → 6.5 µs), measured side by side (issue 13 P3, docs/adr/0043-submission-cost.md). json still checks
-- the text is JSON. The table is rewritten once, under its lock: a history of a million kept envelopes takes tens
-- of seconds, during which the consumers wait.
ALTER TABLE processed_events ALTER COLUMN envelope TYPE json USING envelope::json;
