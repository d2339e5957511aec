"""Private helpers of ``vonage_async.fanout``."""
