"""Fee service: decides the state duty (государственная пошлина) due for each application."""
