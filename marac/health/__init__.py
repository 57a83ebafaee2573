"""Health checks for load balancers and orchestrators: /healthz (the process answers) and /readyz."""
