"""The leak target's registry: CACHE['leaks'] is the list that grows."""

CACHE = {"leaks": [], "steady": []}
