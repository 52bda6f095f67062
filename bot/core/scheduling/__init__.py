"""Scheduled posts: slots, recurrence and the DST policy, time zones, pacing, publishing."""
