"""EC2 instances: the records, their states, and the operations on them."""
