"""HTTP routes, one small module per resource: parse, call a service, return its answer.

A route's return annotation is the API contract (a core ``XPublic`` schema): FastAPI
validates and serializes the service's record by it, so only the schema's fields leave.
"""
