"""One pure parser per wire format: bytes in, :mod:`dailypapers.ingest.records` out.

Nothing here opens files, talks to the network or touches the database; the clients fetch the bytes
and the pipeline stores the records. :mod:`.detect` tells the formats apart by their content.
"""
