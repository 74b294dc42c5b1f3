"""pytest (``--doctest-modules``): ``tfds_builder`` needs the optional ``tfds`` extra, so it
is collected only where tensorflow-datasets is installed."""

try:
    import tensorflow_datasets  # noqa: F401  (only whether it is installed)
except ImportError:
    collect_ignore = ["tfds_builder.py"]
