"""Candidate models beside the live ones: scored in shadow, compared on reviewed items, promoted hot.

- ``shadow``: after each response, a bounded background queue scores the item with every
  candidate; scores are stored (``shadow_scores``), never returned, never read by a policy.
- ``report``: live against candidate on the items both scored, against reviewers' labels,
  per category, with bootstrap intervals, and the decisions that would change.
- ``roster``: which configured entry serves each signal; ``promote`` writes it to the
  database and every worker swaps within its watch interval, without a restart.
"""
