"""Backends start and control a topology: local processes now, Docker containers later."""
