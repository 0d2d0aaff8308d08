"""The program's rules as plain async functions.

Each takes a database session and, where time matters, an explicit ``now``, so
that every rule can be tested without a network and without waiting.
"""
