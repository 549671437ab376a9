"""One module per external service: a Protocol and its real implementation (fakes live in tests/)."""
