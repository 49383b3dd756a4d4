"""HTTP routes, one small module per resource: parse, call a service, return a schema."""
