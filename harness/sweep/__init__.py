"""Throughput sweeps: added RTT x pipeline batch x connections, measured against the bound c x b / RTT."""
