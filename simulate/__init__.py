"""``csvbot simulate``: the whole service under simulated users and injected faults."""
