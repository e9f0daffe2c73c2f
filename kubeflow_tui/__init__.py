"""kubeflow-tui: a terminal tutorial for Kubernetes Service traffic through kube-proxy's
iptables rules, DNAT/SNAT and conntrack."""

__version__ = "0.1.0"
