"""A TCP proxy speaking Toxiproxy 2.x's HTTP API: asyncio links, toxics, and the API server."""
