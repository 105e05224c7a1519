from vobemusic.testing import *  # noqa: F401,F403
