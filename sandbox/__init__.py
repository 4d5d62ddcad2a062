"""Switchboard sandbox: simulated vendor APIs on loopback for tests and demos.

``python -m sandbox`` serves HubSpot, Salesforce, GA4, Google Ads, Google
OAuth, Mailchimp, Stripe, BigQuery and a generic custom REST API, each under
its own path prefix with the vendor's real paths below it, over deterministic
generated data.  Tests start one in-process with
:func:`sandbox.server.start_in_thread` and steer it through ``/_control``.

The package is self-contained: it imports nothing else from the project.
"""
