"""Anonymous feedback is an open form on the internet: limit it per client address."""
import os

from rest_framework.throttling import AnonRateThrottle


class AnonymousFeedbackThrottle(AnonRateThrottle):
    scope = "feedback_anon"
    rate = os.environ.get("FEEDBACK_ANON_THROTTLE_RATE", "20/hour")
