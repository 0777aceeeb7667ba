"""The desk (issue 11): the browser app for operators, registrars and supervisors, served by the gateway."""
