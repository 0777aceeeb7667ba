"""The notification service's domain: whom to tell and in which words, the delivery log's rows, and the delivery
policy (attempts, backoff, which failures are final). Pure code — no database, no SMTP, no Kafka, no clock."""
