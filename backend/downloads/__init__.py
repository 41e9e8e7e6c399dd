"""Files the service hands out: the Python exporter SDK as a wheel, built from this tree."""
