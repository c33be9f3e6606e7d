"""Non-HTTP entry points: the queue-triggered notifier and the timer-triggered retention sweep."""
