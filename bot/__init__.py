"""Corridor Bot: answers FR/EN/JA questions about the LifeScience Corridor France press documents."""

import os

# No model hub is reachable where the bot runs: never try one, and send no telemetry.
# (A user with network access may set HF_HUB_OFFLINE=0 to name a hub model.)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.answer import Answer, Pending, Source
from bot.bot import CorridorBot
from bot.config import Settings
from bot.index import ReindexReport

__all__ = ["Answer", "CorridorBot", "Pending", "ReindexReport", "Settings", "Source"]
