"""The training node: a separate service that trains DQN agents on a run's data.

Importing this package loads nothing heavy; TensorFlow is imported by `model`,
`trainer` and `pipeline`, which only worker processes (and tests) use.
"""
