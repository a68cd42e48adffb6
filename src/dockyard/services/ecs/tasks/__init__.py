"""Tasks: RunTask/StartTask launch checks, placement, the lifecycle agents report."""
