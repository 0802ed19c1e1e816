"""The exact names of outcomes and phases, shared by the engine, models, UI, CLI and admin.

Plain constants with no Django import, so the engine stays an ordinary package.
"""

SUBMITTED = "submitted"  # submitted and a confirmation was seen
UNCONFIRMED = "unconfirmed"  # submitted, but neither confirmation nor error could be seen
CAPTCHA = "captcha"  # a CAPTCHA or bot challenge guards the form; nothing was submitted
NO_FORM = "no_form"  # no contact form on the site
FAILED = "failed"  # an error, with a one-line reason
CANCELLED = "cancelled"

# Not an outcome: a reviewed attempt stopped at the filled form for the person to check.
AWAITING_REVIEW = "awaiting_review"

OUTCOMES = (SUBMITTED, UNCONFIRMED, CAPTCHA, NO_FORM, FAILED, CANCELLED)
# Outcomes a person should follow up on by hand.
FOLLOW_UP_OUTCOMES = (CAPTCHA, FAILED, UNCONFIRMED)

OPENING = "opening"
FINDING_FORM = "finding_form"
FILLING = "filling"
SUBMITTING = "submitting"
VERIFYING = "verifying"

PHASES = (OPENING, FINDING_FORM, FILLING, SUBMITTING, VERIFYING)
