"""Launch templates and their versions (`lt-...`), kept as EC2's `LaunchTemplateData`."""
