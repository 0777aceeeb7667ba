-- A kept envelope is stored as the JSON text the consumer wrote (json), not decomposed (jsonb): nothing queries
-- inside it but the rebuild's `->>'subject'` on a catch-up round's few rows, and it is written once per event
-- applied and read back whole by a rebuild. jsonb parsed it into its binary form on every insert and printed it
-- back to text on every read: the server's CPU for a kept envelope's insert went from 24 to 14 µs and for its read
-- by a rebuild from 12 to 7, measured side by side (issue 13 P3, docs/adr/0043-submission-cost.md). json still
-- checks that the text is JSON. The table is rewritten once, under its lock, in time that grows with the history;
-- the consumers wait meanwhile.
ALTER TABLE processed_events ALTER COLUMN envelope TYPE json USING envelope::json;
