"""The REST gateway: tenants' HTTP front door to the platform's gRPC services."""
