"""The Belay demo: a shared room with a counter, messages and a live event stream."""
