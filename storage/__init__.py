"""The database: models, migrations, and the few queries each use case needs."""
