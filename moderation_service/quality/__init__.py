"""Quality sampling of live traffic and the enforcement estimates it supports.

``sampling`` picks items for blind human review (a uniform sample and an
uncertainty sample near the policy's thresholds, each with a daily budget) and
records each one's inclusion probability; ``estimates`` turns the labelled
sample into prevalence, precision and recall with confidence intervals.
"""
