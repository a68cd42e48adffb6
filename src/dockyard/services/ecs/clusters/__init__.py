"""Clusters: CreateCluster and its settings, the cluster records."""
