"""Container instances and the agents behind them: registration, draining, attributes, the agent
protocol and its identities, orphaned tasks."""
