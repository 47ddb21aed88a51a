"""The apps ``bench/bench_actions.py`` serves: one endpoint, three frameworks, same work."""
