"""Getting papers in: one pure parser per wire format (``formats``), network clients (``clients``),
and the pipeline that merges records into the database (``pipeline``)."""
