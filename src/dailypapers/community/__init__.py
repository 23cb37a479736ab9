"""The research community: accounts, votes, comments, submissions, moderation.

``passwords`` and ``credentials`` hold the cryptography, ``accounts`` signing up and logging in,
``discussion`` votes and comments, ``submissions`` papers put on the feed by people, ``moderation`` the
moderators' powers, ``markdown`` how comments become safe HTML and ``mails`` the account mails. Queries
live in :mod:`dailypapers.store`; the web pages and API in :mod:`dailypapers.web`.
"""
