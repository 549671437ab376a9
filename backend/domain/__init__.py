"""Domain areas: each is controllers (HTTP), sockets (WebSocket), services and schemas."""
