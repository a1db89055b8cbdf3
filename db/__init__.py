"""PostgreSQL for madoguchi: the only package that speaks SQL (the cluster's processes are
madoguchi.stack.postgres's).

- ``db.migrate``   ``migrate(pool_or_conn)``: db/migrations/NNN_name.sql in order
- ``db.writer``    ``DurableWriter``: batched, idempotent writes with an fsync'd spool
  (``db.pending`` batching, ``db.pg_link`` the connection, ``db.record_sql`` the statements)
- ``db.crm``       ``CrmRepository``: customer look-up, dispositions; ``db.import_customers``
- ``db.kpis`` / ``db.report``   KPI queries, ``build_report``, ``run_report_cli``
  (``db.kpi_math`` the pure arithmetic, ``db.report_render`` JSON, CSV and the table)
- ``db.retention`` ``purge(pool, older_than_days)``
"""
