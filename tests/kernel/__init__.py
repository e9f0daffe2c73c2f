"""The real Linux kernel as referee: network namespaces, real rules, real packets.

``netns``   builds a scenario's topology in network namespaces and runs flows in it;
``capture`` parses what the kernel reports (``xtables-monitor --trace``, ``conntrack``);
``compare`` holds a simulator ``Trace`` against a ``KernelResult``.
"""
