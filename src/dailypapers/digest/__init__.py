"""Digests: trending or new papers by mail, chosen for each subscriber, sent exactly once.

* :mod:`~dailypapers.digest.periods` names the days and weeks a digest covers and when each is due;
* :mod:`~dailypapers.digest.selection` picks a subscriber's papers from the candidates (pure);
* :mod:`~dailypapers.digest.render` turns them into a multipart mail from Jinja2 templates;
* :mod:`~dailypapers.digest.compose` runs both for every due subscriber and stores the mails in the outbox;
* :mod:`~dailypapers.digest.delivery` hands outbox mails to a :class:`~dailypapers.mail.Mailer`.

The clock that runs them beside the site is :mod:`~dailypapers.scheduler`.
"""
