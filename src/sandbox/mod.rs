//! A Kubernetes-API-compatible simulated cluster (tests, demo, evals).
