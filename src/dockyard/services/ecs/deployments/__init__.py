"""Services and their deployments: the records, rolling and external task sets, the deployment
state machine, service events."""
