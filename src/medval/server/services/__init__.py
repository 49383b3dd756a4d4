"""Use cases: each opens its own transaction and holds the business rules."""
