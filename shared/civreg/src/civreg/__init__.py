"""Civil registration of Kazakhstan (and Kyrgyzstan's calendar): the reference data and the contract every
service shares — catalogue, sites, terms, IIN, roles and the policy table, calendars, events, topics (ADR 0020)."""
