"""Legal deadlines of cases: what is due, what is late and who must act; the durable scheduler."""
