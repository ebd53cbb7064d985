"""SQLAlchemy persistence: ORM models, portable column types, the engine and migrations."""
