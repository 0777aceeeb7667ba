"""The event mechanism: `base.Event` and the registry of event types. The types themselves are a domain's (the
civil-registration catalogue is `civreg.events`)."""
