"""What every layer above the backends uses to talk to a started topology: no-retry probe clients, the
current primary as Sentinel names it, and waiting on a condition with a deadline. Imports nothing above it."""
