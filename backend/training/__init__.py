"""Training: hand a run's data to the training node and track the job."""
