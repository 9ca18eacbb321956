"""The paper's claims as tested package functions: one module per figure family.

Every check takes the measured numbers (distances, activations, curves) and returns a
:class:`~morcos2018.claims.evidence.Verdict`: the claim, and for each test the statistic
and its value, the baseline it is compared with (chance level, the same measure at
initialization, or the seed-to-seed spread), an effect size with a confidence interval, a p-value
from a test over independent units (networks or seeds, never pairs treated as independent), the
number of units, and ``holds``: True, False, or None with the reason when the data are too few to
decide. Thresholds and tests are parameters of the check. They were declared after the pilot run
of 80083b8 (2026-11-28) had been published; claims/register.toml gives when each was declared
and every later change.

The core (the verdict objects and the tests over units) is :mod:`.evidence`.
"""
