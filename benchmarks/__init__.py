"""stsgas benchmarks: ``python -m benchmarks [name ...]`` runs ``bench_<name>.py`` modules."""
