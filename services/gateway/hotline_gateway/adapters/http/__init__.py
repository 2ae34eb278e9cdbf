"""The HTTP side: FastAPI app, route table, problem details, middleware."""
